import { randomUUID } from 'node:crypto';
import type { Logger } from '@tradehook/logger';
import type { RequestHandler, Response } from 'express';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id from `x-request-id` (when sane) or generated; echoed back, carried on every log line through a
 * child logger in `res.locals.logger`, and into job data. One access line per request (never the body).
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
      (res.locals.logger as Logger).http('request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms * 100) / 100,
        ip: req.ip,
      });
    });
    next();
  };
}

export function requestLogger(res: Response): Logger {
  return res.locals.logger as Logger;
}

export function requestIdOf(res: Response): string {
  return res.locals.requestId as string;
}
