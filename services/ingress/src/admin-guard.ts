import type { RequestHandler } from 'express';
import { requireAdmin } from './auth.ts';
import type { IngressDeps } from './deps.ts';
import { redisRateLimit } from './rate-limit.ts';
import { noteAdminCall } from './request-context.ts';

const guards = new WeakMap<IngressDeps, RequestHandler[]>();

/** `router.get(path, ...adminGuard(deps), handler)`: logged as an admin call; per-IP admin rate
 * limit, then the bearer token. */
export function adminGuard(deps: IngressDeps): RequestHandler[] {
  let guard = guards.get(deps);
  if (!guard) {
    guard = [
      (_req, res, next) => {
        noteAdminCall(res);
        next();
      },
      redisRateLimit(deps, 'admin', deps.config.RATE_LIMIT_ADMIN_MAX),
      requireAdmin(deps.config.ADMIN_TOKEN),
    ];
    guards.set(deps, guard);
  }
  return guard;
}
