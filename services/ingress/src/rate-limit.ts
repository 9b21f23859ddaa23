import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { RequestHandler } from 'express';
import type { IngressDeps } from './deps.ts';
import { sendError } from './http-errors.ts';

const passThrough: RequestHandler = (_req, _res, next) => next();

/**
 * Per-IP fixed-window limit whose counters live in Redis, so the limit holds across ingress replicas.
 * If Redis is unreachable the request passes (the webhook then answers 503 itself; admin keeps working).
 */
export function redisRateLimit(deps: IngressDeps, name: string, limit: number): RequestHandler {
  if (limit <= 0) return passThrough;
  const store = new RedisStore({
    prefix: `${deps.config.QUEUE_PREFIX}:rl:${name}:`,
    sendCommand: (command: string, ...args: string[]) =>
      deps.redis.call(command, ...args) as Promise<string | number | boolean>,
  });
  // The store loads its scripts eagerly; a failure here is retried on first use, so don't let it go unhandled.
  store.incrementScriptSha.catch(() => undefined);
  store.getScriptSha.catch(() => undefined);
  const limiter: RateLimitRequestHandler = rateLimit({
    windowMs: deps.config.RATE_LIMIT_WINDOW_MS,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    passOnStoreError: true,
    store,
    validate: { trustProxy: false, xForwardedForHeader: false },
    handler: (_req, res) => {
      sendError(res, 'rate_limited', 'too many requests, slow down');
    },
  });
  return limiter;
}
