import { randomUUID } from 'node:crypto';
import type { Logger } from '@tradehook/logger';
import type { RequestHandler, Response } from 'express';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const WEBHOOK_PATH = '/api/v1/webhook/tradingview';

/**
 * Request id from `x-request-id` (when sane) or generated; echoed back, carried on every log line through a
 * child logger in `res.locals.logger`, and into job data. One access line per request (never the body); a
 * route may name that line and add fields to it (`setAccessLine`), so an accepted webhook logs one line.
 * Refused webhooks (with the source IP, code and reason) and admin calls are logged at warn/info; other
 * requests at http level.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.locals.logger = logger.child({ requestId });
    res.set('x-request-id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const access = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms * 100) / 100,
        ip: req.ip,
      };
      const line = res.locals.accessLine as AccessLine | undefined;
      const logger = res.locals.logger as Logger;
      const refusal = res.locals.refusal as Refusal | undefined;
      if (line) logger.info(line.message, { ...line.fields, ...access });
      else if (req.path === WEBHOOK_PATH && refusal)
        // Refused alerts (a 409 duplicate included) are what an operator looks for: who sent it, and why.
        logger.warn(refusal.code === 'duplicate' ? 'duplicate webhook refused' : 'webhook refused', {
          ...access,
          code: refusal.code,
          reason: refusal.reason,
        });
      else if (res.locals.adminCall === true)
        logger.info('admin call', { ...access, ...(refusal ? { code: refusal.code } : {}) });
      else logger.http('request', access);
    });
    next();
  };
}

/** What `sendError` answered (code and message, never the body). */
interface Refusal {
  code: string;
  reason: string;
}

/** Remembers an error answer for this request's access line. */
export function noteRefusal(res: Response, code: string, reason: string): void {
  res.locals.refusal = { code, reason } satisfies Refusal;
}

/** Marks an admin API call: its access line is logged at info (who called what, and the answer). */
export function noteAdminCall(res: Response): void {
  res.locals.adminCall = true;
}

interface AccessLine {
  message: string;
  fields: Record<string, unknown>;
}

/** Logs this request's access line at info as `message` with `fields` added (instead of a separate line). */
export function setAccessLine(res: Response, message: string, fields: Record<string, unknown>): void {
  res.locals.accessLine = { message, fields } satisfies AccessLine;
}

export function requestLogger(res: Response): Logger {
  return res.locals.logger as Logger;
}

export function requestIdOf(res: Response): string {
  return res.locals.requestId as string;
}
