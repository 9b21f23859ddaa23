import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@tradehook/config';
import { QUEUES, type NotificationEvent } from '@tradehook/contracts';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, type pg } from '@tradehook/db';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createLogger } from '@tradehook/logger';
import { notificationEvents, serveProcessMetrics } from '@tradehook/metrics';
import { createNotificationEmitter, type NotificationEmitter } from '@tradehook/notify';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../tests/support/index.ts';
import { workerEnvSchema } from './config.ts';
import { createWorkerService, type WorkerService } from './service.ts';
import {
  approvedSignal,
  createSimAccount,
  enqueueOrder,
  simAccount,
  simControl,
  waitForSignal,
} from '../test/support.ts';

/**
 * What the worker tells the notifier, and the pipeline metrics it leaves behind, with real traffic: the worker
 * in-process against the simulator (real ccxt over HTTP), real Postgres and Redis.
 */
const ETH = 'ETH/USDT:USDT';
const logger = createLogger({ service: 'worker-notify-test', silent: true });
const keys = generateCredentialsKeyPair();
const prefix = testQueuePrefix();
const redis = createRedis(TEST_REDIS_URL, 'worker');
let db: TestDatabase;
let pool: pg.Pool;
let sim: Simulator;
let emitter: NotificationEmitter;
let service: WorkerService;
let orders: Queue;
let notifications: Queue;

async function startWorker(queuePrefix: string, notify: NotificationEmitter): Promise<WorkerService> {
  const config = parseEnv(workerEnvSchema, {
    EXCHANGE: 'binance',
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    CREDENTIALS_PRIVATE_KEY: keys.privateKey,
    BINANCE_API_URL: sim.url,
    // On, as in production: the shared request budget (and its gauge) is in front of every request.
    EXCHANGE_RATE_LIMIT: 'true',
    EXCHANGE_TIMEOUT_MS: '2000',
    FILL_SYNC_INTERVAL_MS: '0',
    LOG_DIR: '',
  });
  const worker = createWorkerService({ config, logger, notifications: notify });
  await worker.start();
  return worker;
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 4 });
  sim = await startSimulator();
  emitter = createNotificationEmitter({ redisUrl: TEST_REDIS_URL, queuePrefix: prefix, logger });
  service = await startWorker(prefix, emitter);
  orders = createQueue(QUEUES.orders('binance'), redis, prefix);
  notifications = createQueue(QUEUES.notifications, redis, prefix);
});

afterAll(async () => {
  await service?.stop();
  await emitter?.close();
  await orders?.close();
  await notifications?.close();
  redis.disconnect();
  await sim?.close();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

const price = async (symbol: string) => {
  const res = (await (await fetch(`${sim.url}/_sim/prices`)).json()) as { prices: Record<string, number> };
  return res.prices[symbol.replace('/USDT:USDT', 'USDT')]!;
};

/** Events enqueued so far (no notifier runs here, so they wait in the queue). */
async function queued(kind: NotificationEvent['kind']): Promise<NotificationEvent[]> {
  await emitter.settled();
  const jobs = await notifications.getJobs(['waiting', 'prioritized', 'delayed']);
  return jobs.map((j) => (j.data as { event: NotificationEvent }).event).filter((e) => e.kind === kind);
}

describe('worker notifications and metrics', () => {
  it('tells an execution with its size, price and SL/TP, then the SL hit with its realised loss', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance' });
    const p = await price(ETH);
    const sl = Math.round(p * 0.98);
    const tp = Math.round(p * 1.05);
    const job = await approvedSignal(pool, a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      stop_loss: sl,
      take_profit: tp,
    });
    await enqueueOrder(orders, job);
    expect((await waitForSignal(pool, job.signalId)).status).toBe('executed');
    await new Promise((r) => setTimeout(r, 300)); // onCompleted runs right after the status is written
    const [done] = (await queued('signal_executed')).filter((e) => e.accountId === a.accountId);
    expect(done).toMatchObject({
      signalId: job.signalId,
      side: 'long',
      amount: 0.1,
      stopLoss: sl,
      takeProfit: tp,
    });
    expect(done && 'price' in done ? done.price : 0).toBeCloseTo(p, -1);

    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: Math.round(p * 0.97) });
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
    await service.fillSync.syncAll();
    const hits = (await queued('protection_hit')).filter((e) => e.accountId === a.accountId);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ leg: 'stop_loss', symbol: ETH, amount: 0.1 });
    expect(hits[0]!.kind === 'protection_hit' && hits[0]!.realizedPnl).toBeLessThan(0);
    await service.fillSync.syncAll(); // nothing new: no second notification
    expect((await queued('protection_hit')).filter((e) => e.accountId === a.accountId)).toHaveLength(1);
    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });
  });

  it('tells a failed order with the exchange reason', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance', balance: 5 });
    const job = await approvedSignal(pool, a, { action: 'long', symbol: ETH, quantity: 50 });
    await enqueueOrder(orders, job);
    const outcome = await waitForSignal(pool, job.signalId);
    expect(outcome.status).toBe('failed');
    await new Promise((r) => setTimeout(r, 300));
    const [failed] = (await queued('signal_failed')).filter((e) => e.accountId === a.accountId);
    expect(failed).toMatchObject({ signalId: job.signalId, reason: outcome.reason });
  });

  it('tells a key the exchange refuses: the failed order, the revoked key, and the failed key check', async () => {
    // Registered with a simulator that is gone: the one the worker talks to has never heard of this key.
    const elsewhere = await startSimulator();
    const a = await createSimAccount(elsewhere.url, pool, keys.publicKey, { exchange: 'binance' });
    await elsewhere.close();
    const job = await approvedSignal(pool, a, { action: 'long', symbol: ETH, quantity: 0.01 });
    await enqueueOrder(orders, job);
    const outcome = await waitForSignal(pool, job.signalId);
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^AuthenticationError/),
    });
    const requests = createQueue(QUEUES.accountRequests('binance'), redis, prefix);
    try {
      await requests.add('verify', {
        kind: 'verify',
        exchange: 'binance',
        accountId: a.accountId,
        requestId: 'req-v',
      });
      let problems: NotificationEvent[] = [];
      for (const end = Date.now() + 10_000; problems.length < 2 && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 50));
        problems = (await queued('key_problem')).filter((e) => e.accountId === a.accountId);
      }
      expect(problems.map((e) => e.kind === 'key_problem' && e.problem).sort()).toEqual([
        'check_failed',
        'revoked',
      ]);
      expect(JSON.stringify(problems)).not.toContain(a.apiKey);
    } finally {
      await requests.close();
    }
    expect(
      (await queued('signal_failed')).some((e) => e.kind === 'signal_failed' && e.signalId === job.signalId),
    ).toBe(true);
  });

  it('still executes the order when the notifications queue cannot be reached', async () => {
    const ownPrefix = testQueuePrefix();
    const unreachable = createNotificationEmitter({
      redisUrl: 'redis://127.0.0.1:1',
      queuePrefix: ownPrefix,
      logger,
      timeoutMs: 300,
    });
    const dropped = async () =>
      (await notificationEvents.get()).values
        .filter((v) => v.labels['outcome'] === 'dropped' && v.labels['kind'] === 'signal_executed')
        .reduce((s, v) => s + v.value, 0);
    const droppedBefore = await dropped();
    const worker = await startWorker(ownPrefix, unreachable);
    const queue = createQueue(QUEUES.orders('binance'), redis, ownPrefix);
    try {
      const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance' });
      const job = await approvedSignal(pool, a, { action: 'long', symbol: ETH, quantity: 0.01 });
      const started = Date.now();
      await enqueueOrder(queue, job);
      expect((await waitForSignal(pool, job.signalId)).status).toBe('executed');
      expect(Date.now() - started).toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 200));
      await unreachable.settled();
      expect(await dropped()).toBe(droppedBefore + 1);
    } finally {
      await worker.stop();
      await queue.close();
      await unreachable.close();
      await deleteRedisPrefix(ownPrefix);
    }
  });

  it('serves stage latencies, exchange requests, the rate budget and fill-sync lag on /metrics', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const metrics = await serveProcessMetrics('worker-binance', {
      METRICS_PORT: port,
      METRICS_HOST: '127.0.0.1',
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
    });
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      /** Value of the sample with exactly these labels (any order), NaN when absent. */
      const value = (name: string, labels: Record<string, string>) => {
        const want = JSON.stringify(Object.entries({ ...labels, service: 'worker-binance' }).sort());
        for (const line of text.split('\n')) {
          const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
          if (!m || m[1] !== name) continue;
          const got = [...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]);
          if (JSON.stringify(got.sort()) === want) return Number(m[3]);
        }
        return NaN;
      };
      for (const stage of ['executing', 'order_sent', 'filled', 'completed'])
        expect(value('tradehook_stage_seconds_count', { stage })).toBeGreaterThanOrEqual(2);
      expect(value('tradehook_stage_seconds_sum', { stage: 'completed' })).toBeLessThan(60);
      // Two entries filled, one refused for margin (counted by its ccxt error class); SL/TP use the algo endpoint.
      const orderEndpoint = { venue: 'binance', endpoint: 'fapiPrivate/order' };
      expect(
        value('tradehook_exchange_requests_total', { ...orderEndpoint, status: 'ok' }),
      ).toBeGreaterThanOrEqual(2);
      expect(
        value('tradehook_exchange_requests_total', { ...orderEndpoint, status: 'InsufficientFunds' }),
      ).toBe(1);
      const budget = value('tradehook_exchange_budget_used_ratio', { venue: 'binance' });
      expect(budget).toBeGreaterThan(0);
      expect(budget).toBeLessThan(1);
      expect(value('tradehook_fill_sync_lag_seconds_count', { venue: 'binance' })).toBeGreaterThanOrEqual(2);
      expect(value('tradehook_queue_jobs', { queue: 'notifications', state: 'waiting' })).toBeGreaterThan(0);
    } finally {
      await metrics.close();
    }
  });
});
