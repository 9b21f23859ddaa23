import { randomUUID } from 'node:crypto';
import type { Logger } from '@tradehook/logger';
import type { RequestHandler, Response } from 'express';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id from `x-request-id` (when sane) or generated; echoed back, carried on every log line through a
 * child logger in `res.locals.logger`, and into job data. One access line per request (never the body); a
 * route may name that line and add fields to it (`setAccessLine`), so an accepted webhook logs one line.
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
      if (line) logger.info(line.message, { ...line.fields, ...access });
      else logger.http('request', access);
    });
    next();
  };
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
