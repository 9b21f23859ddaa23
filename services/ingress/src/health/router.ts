import { EXCHANGES } from '@tradehook/contracts';
import { countAccountsByExchange } from '@tradehook/db';
import { Router } from 'express';
import type { IngressDeps } from '../deps.ts';

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * `GET /api/v1/webhook/health` (public, the guide's shape): 200 healthy, or 503 unhealthy naming the
 * dependency that failed. Never reveals more than account counts.
 */
export function createHealthRouter(deps: IngressDeps): Router {
  const router = Router();
  router.get('/api/v1/webhook/health', async (_req, res) => {
    const [accounts, redis, ...workers] = await Promise.allSettled([
      withTimeout(countAccountsByExchange(deps.pgPool), 2000),
      withTimeout(deps.redis.ping(), 2000),
      // Informational: workers connected per exchange (ingress itself stays healthy without them).
      ...EXCHANGES.map((ex) => withTimeout(deps.queues.accountRequests[ex].getWorkersCount(), 2000)),
    ]);
    const checks = {
      postgres: accounts.status === 'fulfilled' ? 'ok' : 'failed',
      redis: redis.status === 'fulfilled' ? 'ok' : 'failed',
    };
    const healthy = Object.values(checks).every((c) => c === 'ok');
    res.status(healthy ? 200 : 503).json({
      status: healthy ? 'healthy' : 'unhealthy',
      service: 'TradingView Webhook Receiver',
      registered_accounts: accounts.status === 'fulfilled' ? accounts.value : null,
      checks,
      workers: Object.fromEntries(
        EXCHANGES.map((ex, i) => {
          const w = workers[i];
          return [ex, w?.status === 'fulfilled' ? w.value : null];
        }),
      ),
    });
  });
  return router;
}
