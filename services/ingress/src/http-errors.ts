import {
  API_ERRORS,
  fieldIssues,
  issueSummary,
  type ApiErrorBody,
  type ApiErrorCode,
} from '@tradehook/contracts';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from '@tradehook/logger';
import { noteRefusal } from './request-context.ts';
import type { z } from 'zod';

/** Thrown (or passed to next) anywhere in a route; the one error handler turns it into JSON. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
    /** Extra top-level fields of the answer (e.g. the original signal_id of a duplicate). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** 422 `validation_failed` for a failed zod parse: the issues on one line, and as `[{path, message}]` details. */
export function validationFailed(error: z.ZodError, message = issueSummary(error)): ApiError {
  return new ApiError('validation_failed', message, fieldIssues(error));
}

/** `{success:false, error:{code, message}}` with the status of API_ERRORS. */
export function sendError(
  res: Response,
  code: ApiErrorCode,
  message: string,
  details?: unknown,
  extra?: Record<string, unknown>,
): Response {
  const body: ApiErrorBody & Record<string, unknown> = {
    success: false,
    error: details === undefined ? { code, message } : { code, message, details },
    ...extra,
  };
  noteRefusal(res, code, message);
  return res.status(API_ERRORS[code]).json(body);
}

/**
 * TradingView posts uncompressed UTF-8, so any Content-Encoding but identity, or a charset but utf-8, is
 * refused (415) before a parser sees the body: a fake or truncated gzip/deflate/br body would otherwise
 * surface as a zlib error without a body-parser `type` (a 500), and utf-7 & co. decode ASCII lookalikes.
 */
export const refuseEncodedBodies: RequestHandler = (req, res, next) => {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i
    .exec(req.headers['content-type'] ?? '')?.[1]
    ?.toLowerCase();
  if (encoding !== undefined && encoding !== 'identity') {
    sendError(res, 'unsupported_media_type', 'compressed request bodies are not accepted');
    return;
  }
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    sendError(res, 'unsupported_media_type', 'request bodies must be UTF-8');
    return;
  }
  next();
};

/** body-parser errors carry a `type`; map them to our codes. */
function bodyParserError(err: { type?: unknown }): [ApiErrorCode, string] | null {
  switch (err.type) {
    case 'entity.too.large':
      return ['payload_too_large', 'request body is too large'];
    case 'entity.parse.failed':
      return ['malformed', 'request body is not valid JSON'];
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return ['unsupported_media_type', 'unsupported content encoding or charset'];
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return ['malformed', 'request body could not be read'];
    default:
      return null;
  }
}

export function errorHandler(fallbackLogger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const logger = (res.locals.logger as Logger | undefined) ?? fallbackLogger;
    if (res.headersSent) {
      logger.error('error after response was sent', { err: (err as Error)?.message });
      return;
    }
    if (err instanceof ApiError) {
      sendError(res, err.code, err.message, err.details, err.extra);
      return;
    }
    const parsed = err && typeof err === 'object' ? bodyParserError(err as { type?: unknown }) : null;
    if (parsed) {
      sendError(res, parsed[0], parsed[1]);
      return;
    }
    // Never echo an unexpected error's text: it may quote a request body.
    logger.error('unhandled error', {
      err: err instanceof Error ? { message: err.message, stack: err.stack } : err,
    });
    sendError(res, 'internal', 'internal error');
  };
}
