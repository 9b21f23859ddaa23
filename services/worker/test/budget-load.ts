/**
 * The load of rate-budget.test.ts: one simulated host (one simulator, one database, one Redis prefix) with two
 * worker services, many accounts that all traded every listed symbol, fill sync running back to back, and a
 * burst of alerts spread over the symbols.
 */
import { randomUUID } from 'node:crypto';
import { parseEnv } from '@tradehook/config';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, type pg } from '@tradehook/db';
import { allBudgets, type Priority, type WaitStats } from '@tradehook/exchange';
import { MARKETS, startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createLogger } from '@tradehook/logger';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../tests/support/index.ts';
import { workerEnvSchema } from '../src/config.ts';
import { createWorkerService, type WorkerService } from '../src/service.ts';
import {
  approvedSignal,
  createSimAccount,
  enqueueOrder,
  ordersQueueName,
  waitForSignal,
  type SimAccount,
} from './support.ts';

export interface LoadHost {
  sim: Simulator;
  pool: pg.Pool;
  accounts: SimAccount[];
  services: WorkerService[];
  queue: Queue;
  /** Weight the host's shared window in Redis holds now (sum of its buckets; 0 when there is none). */
  sharedWindowWeight(): Promise<number>;
  /** Budget keys of this host's services contain it (see `hostWaits`). */
  host: string;
  stop(): Promise<void>;
}

export interface LoadOptions {
  accounts: number;
  /**
   * true: the replicas share the host's budget through Redis (EXCHANGE_BUDGET_REDIS, the default). false: each
   * budgets alone with the whole capacity. Real replicas are separate processes, each with its own budget;
   * here both services run in one process, where budgets are one per (venue, egress IP) and process, so each
   * service gets its own egress name — the simulator still sees one IP (127.0.0.1) for both.
   */
  sharedBudget: boolean;
}

export async function startLoadHost(o: LoadOptions): Promise<LoadHost> {
  const host = `host-${randomUUID().slice(0, 8)}`;
  const prefix = testQueuePrefix();
  const keys = generateCredentialsKeyPair();
  const db: TestDatabase = await createTestDatabase();
  const pool = createPgPool(db.url, { max: 6 });
  const sim = await startSimulator();
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  const accounts: SimAccount[] = [];
  for (let i = 0; i < o.accounts; i++)
    accounts.push(
      await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance', balance: 1e6 }),
    );
  // Every account traded every symbol recently: each fill sync round reads all of them.
  const rows = accounts.flatMap((a) => MARKETS.map((m) => [a.accountId, m.symbol]));
  await pool.query(
    `INSERT INTO orders (id, exchange, account_id, client_order_id, leg, symbol, side, type, status)
     SELECT gen_random_uuid(), 'binance', a, 'seed' || substr(md5(random()::text), 1, 20), 'entry', s, 'buy',
            'market', 'filled'
       FROM unnest($1::text[], $2::text[]) AS t(a, s)`,
    [rows.map((r) => r[0]), rows.map((r) => r[1])],
  );
  const startService = async (n: number): Promise<WorkerService> => {
    const config = parseEnv(workerEnvSchema, {
      EXCHANGE: 'binance',
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      CREDENTIALS_PRIVATE_KEY: keys.privateKey,
      BINANCE_API_URL: sim.url,
      EXCHANGE_RATE_LIMIT: 'true',
      EXCHANGE_BUDGET_REDIS: String(o.sharedBudget),
      EXCHANGE_EGRESS_IP: o.sharedBudget ? host : `${host}-replica${n}`,
      EXCHANGE_TIMEOUT_MS: '5000',
      // Rounds back to back: fill sync wants more than its share of the minute within seconds.
      FILL_SYNC_INTERVAL_MS: '250',
      ACCOUNT_PREWARM_CONCURRENCY: '0',
      SHUTDOWN_DEADLINE_MS: '500',
      LOG_DIR: '',
    });
    const service = createWorkerService({
      config,
      logger: createLogger({ service: `worker-budget-test-${n}`, silent: true }),
    });
    await service.start();
    return service;
  };
  const queue: Queue = createQueue(ordersQueueName('binance'), redis, prefix);
  const services = [await startService(1), await startService(2)];
  return {
    sim,
    pool,
    accounts,
    services,
    queue,
    host,
    async sharedWindowWeight() {
      // The key RedisBudgetStore writes (budget-redis.ts) under the services' QUEUE_PREFIX.
      const buckets = await redis.hvals(`${prefix}:budget:{binance:${host}}:w`);
      return buckets.reduce((sum, w) => sum + Number(w), 0);
    },
    async stop() {
      await Promise.all(services.map((s) => s.stop()));
      await queue.close();
      redis.disconnect();
      await deleteRedisPrefix(prefix);
      await sim.close();
      await pool.end();
      await db.drop();
    },
  };
}

/** Time spent queued per priority class, summed over the host's budgets in this process. */
export function hostWaits(h: LoadHost): Record<Priority, WaitStats> {
  const zero = () => ({ count: 0, totalMs: 0, maxMs: 0, queued: 0, oldestQueuedMs: 0 });
  const sum: Record<Priority, WaitStats> = { exit: zero(), order: zero(), status: zero(), sync: zero() };
  for (const [key, budget] of allBudgets()) {
    if (!key.includes(`|binance|${h.host}`)) continue;
    for (const [p, w] of Object.entries(budget.waitStats()) as Array<[Priority, WaitStats]>) {
      sum[p].count += w.count;
      sum[p].totalMs += w.totalMs;
      sum[p].maxMs = Math.max(sum[p].maxMs, w.maxMs);
      sum[p].queued += w.queued;
      sum[p].oldestQueuedMs = Math.max(sum[p].oldestQueuedMs, w.oldestQueuedMs);
    }
  }
  return sum;
}

/** The host's budgets in this process (one per service when they are separate). */
export function hostBudgetKeys(h: LoadHost): string[] {
  return [...allBudgets().keys()].filter((k) => k.includes(`|binance|${h.host}`));
}

/** About 1.5× the market's minimum notional at its starting price, on its step. */
function smallQuantity(symbol: string): number {
  const m = MARKETS.find((x) => x.symbol === symbol)!;
  const steps = Math.ceil((m.minNotional * 1.5) / m.defaultPrice / m.stepSize);
  return Number(Math.max(steps * m.stepSize, m.minQty).toFixed(m.quantityPrecision));
}

/**
 * One alert per account for the first `count` accounts, account i on symbol i mod 10, all enqueued at once.
 * Resolves the signal ids (enqueued, not yet done).
 */
export async function sendBurst(
  h: LoadHost,
  action: 'long' | 'close_long',
  count: number,
): Promise<string[]> {
  const jobs = await Promise.all(
    h.accounts.slice(0, count).map((a, i) => {
      const symbol = MARKETS[i % MARKETS.length]!.symbol;
      return approvedSignal(h.pool, a, {
        action,
        symbol,
        ...(action === 'long' ? { quantity: smallQuantity(symbol) } : {}),
      });
    }),
  );
  await Promise.all(jobs.map((j) => enqueueOrder(h.queue, j)));
  return jobs.map((j) => j.signalId);
}

/** Each signal's terminal status (and reason), in order. */
export async function outcomes(h: LoadHost, signalIds: string[], timeoutMs = 30_000): Promise<string[]> {
  const done = await Promise.all(signalIds.map((id) => waitForSignal(h.pool, id, timeoutMs)));
  return done.map((o) => `${o.status}${o.reason ? `: ${o.reason}` : ''}`);
}

/** Polls `cond` every 100 ms until it holds; throws `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(what);
    await new Promise((r) => setTimeout(r, 100));
  }
}
