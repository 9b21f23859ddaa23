/**
 * Limit entries without the private stream (LIVE_STATE=false, Binance): the periodic REST round finds a
 * resting entry's fill and protects it; an exit cancels the entry's remainder before it closes; the
 * cancel-after survives a worker restart (a delayed job in Redis).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, findOrdersBySignal, type pg } from '@tradehook/db';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
import type { NormalisedSignal } from '@tradehook/contracts';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../tests/support/index.ts';
import type { WorkerService } from './service.ts';
import {
  approvedSignal,
  createSimAccount,
  enqueueOrder,
  ordersQueueName,
  simAccount,
  simControl,
  startTestWorker,
  waitForSignal,
  type SimAccount,
} from '../test/support.ts';

const BTC = 'BTC/USDT:USDT';
let db: TestDatabase;
let pool: pg.Pool;
let sim: Simulator;
let service: WorkerService;
let queue: Queue;
const prefix = testQueuePrefix();
const keys = generateCredentialsKeyPair();
const redis = createRedis(TEST_REDIS_URL, 'worker');

const startWorker = () =>
  startTestWorker({
    exchange: 'binance',
    databaseUrl: db.url,
    redisUrl: TEST_REDIS_URL,
    simUrl: sim.url,
    queuePrefix: prefix,
    credentialsPrivateKey: keys.privateKey,
    name: 'worker-binance-limit-rest',
    env: { LIVE_STATE: 'false' },
  });

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 4 });
  sim = await startSimulator({ rateLimits: { enabled: false } });
  service = await startWorker();
  queue = createQueue(ordersQueueName('binance'), redis, prefix);
  await setPrice(60000);
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await queue?.close();
  redis.disconnect();
  await sim?.close();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

const setPrice = (price: number) => simControl(sim.url, 'price', { symbol: 'BTCUSDT', price });

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function run(a: SimAccount, fields: Omit<NormalisedSignal, 'account_id' | 'exchange'>) {
  const job = await approvedSignal(pool, a, fields, { leverage: 5 });
  await enqueueOrder(queue, job);
  const out = await waitForSignal(pool, job.signalId, 30_000);
  return { ...out, job, results: (out.result?.['results'] ?? {}) as Record<string, Record<string, unknown>> };
}

async function trace(signalId: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await pool.query<{ result: { results?: Record<string, unknown> } | null }>(
    'SELECT result FROM signals WHERE id = $1',
    [signalId],
  );
  return rows[0]?.result?.results?.['limit_entry'] as Record<string, unknown> | undefined;
}

const restingLong = {
  action: 'long',
  symbol: BTC,
  quantity: 0.01,
  order_type: 'limit',
  limit_price: 59000,
  stop_loss: 57000,
} as const;

describe('binance limit entries without the stream', () => {
  it('the REST round finds the fill of a resting entry and protects it', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance' });
    const out = await run(a, restingLong);
    expect(out.results['limit_entry']).toMatchObject({ state: 'resting' });
    try {
      await setPrice(58900);
      const ctx = (await service.registry.get(a.accountId))!;
      await service.fillSync.syncAccount(ctx);
      const sl = await until('stop-loss from the REST round', async () => {
        const rows = await findOrdersBySignal(pool, out.job.signalId);
        return rows.find((r) => r.leg === 'stop_loss' && r.status === 'open');
      });
      expect(sl).toMatchObject({ amount: 0.01, triggerPrice: 57000 });
      expect(await until('trace', async () => (await trace(out.job.signalId))?.['state'] === 'filled')).toBe(
        true,
      );
    } finally {
      await setPrice(60000);
    }
  }, 60_000);

  it('close_long cancels the remainder of a resting entry before closing what filled', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance' });
    await simControl(sim.url, 'limit-depth', { symbol: 'BTCUSDT', qty: 0.004 });
    try {
      const entry = await run(a, { ...restingLong, cancel_after: 5 });
      await setPrice(58950); // 0.004 fills; the stream is off, nothing follows yet
      const exit = await run(a, { action: 'close_long', symbol: BTC });
      expect(exit.status).toBe('executed');
      const rows = await findOrdersBySignal(pool, entry.job.signalId);
      expect(rows.find((r) => r.leg === 'entry')).toMatchObject({ status: 'canceled', filledAmount: 0.004 });
      expect(await trace(entry.job.signalId)).toMatchObject({
        state: 'canceled',
        filled: 0.004,
        canceled_by: exit.job.signalId,
      });
      const view = await simAccount(sim.url, a);
      expect(view.positions.filter((p) => p.qty !== 0)).toHaveLength(0);
      expect(view.open_orders).toHaveLength(0);
      // Its cancel-after still runs, finds the entry closed by the exit, and places nothing.
      const limitQueue = createQueue('limit-entries-binance', redis, prefix);
      try {
        await until('expire job done', async () => {
          const job = await limitQueue.getJob(entry.job.signalId);
          return job !== undefined && (await job.isCompleted());
        });
      } finally {
        await limitQueue.close();
      }
      const after = await findOrdersBySignal(pool, entry.job.signalId);
      expect(after.filter((r) => r.leg !== 'entry')).toHaveLength(0);
      expect(await trace(entry.job.signalId)).toMatchObject({ state: 'canceled' });
      expect((await simAccount(sim.url, a)).open_algo_orders).toHaveLength(0);
    } finally {
      await simControl(sim.url, 'limit-depth', { symbol: 'BTCUSDT', qty: 0 });
      await setPrice(60000);
    }
  }, 60_000);

  it('close_all cancels a resting entry and says so', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance' });
    const entry = await run(a, restingLong);
    const exit = await run(a, { action: 'close_all', symbol: BTC });
    expect(exit.status).toBe('executed');
    expect(exit.results['canceled_orders']).toHaveLength(1);
    expect(await trace(entry.job.signalId)).toMatchObject({ state: 'canceled', filled: 0 });
    expect((await simAccount(sim.url, a)).open_orders).toHaveLength(0);
  }, 60_000);

  it('the cancel-after runs after a worker restart', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance' });
    const out = await run(a, { ...restingLong, cancel_after: 6 });
    await service.stop();
    service = await startWorker();
    const t = await until('expired', async () => {
      const v = await trace(out.job.signalId);
      return v?.['state'] === 'expired' && v;
    });
    expect(t).toMatchObject({ filled: 0, canceled_remainder: 0.01 });
    expect((await findOrdersBySignal(pool, out.job.signalId)).find((r) => r.leg === 'entry')?.status).toBe(
      'canceled',
    );
    expect((await simAccount(sim.url, a)).open_orders).toHaveLength(0);
  }, 60_000);
});
