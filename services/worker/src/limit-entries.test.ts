/**
 * Limit and post-only entries end to end on both venues (worker ↔ simulator ↔ Postgres ↔ Redis): a limit that
 * rests, fills in parts (stream), gets its SL/TP for what filled and resized as more fills, and is cancelled at
 * its cancel-after; an IOC that fills in part; a post-only that would take; a hedge-mode short.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, findOrdersBySignal, type OrderRow, type pg } from '@tradehook/db';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
import type { Exchange, NormalisedSignal } from '@tradehook/contracts';
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
const prefix = testQueuePrefix();
const keys = generateCredentialsKeyPair();
const services = new Map<Exchange, WorkerService>();
const queues = new Map<Exchange, Queue>();
const redis = createRedis(TEST_REDIS_URL, 'worker');

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 4 });
  sim = await startSimulator({ rateLimits: { enabled: false } });
  for (const exchange of ['binance', 'okx'] as const) {
    services.set(
      exchange,
      await startTestWorker({
        exchange,
        databaseUrl: db.url,
        redisUrl: TEST_REDIS_URL,
        simUrl: sim.url,
        queuePrefix: prefix,
        credentialsPrivateKey: keys.privateKey,
        name: `worker-${exchange}-limit`,
      }),
    );
    queues.set(exchange, createQueue(ordersQueueName(exchange), redis, prefix));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([...services.values()].map((s) => s.stop()));
  for (const q of queues.values()) await q.close();
  redis.disconnect();
  await sim?.close();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

const setPrice = (price: number) => simControl(sim.url, 'price', { symbol: 'BTCUSDT', price });
const limitDepth = (qty: number) => simControl(sim.url, 'limit-depth', { symbol: 'BTCUSDT', qty });

/** Polls until `probe` returns a value (not undefined/false); generous: the machine is loaded. */
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
  await enqueueOrder(queues.get(a.exchange)!, job);
  const out = await waitForSignal(pool, job.signalId, 30_000);
  return { ...out, job, results: (out.result?.['results'] ?? {}) as Record<string, Record<string, unknown>> };
}

const protection = (rows: OrderRow[]) => rows.filter((r) => r.leg === 'stop_loss' || r.leg === 'take_profit');
const openProtection = (rows: OrderRow[]) => protection(rows).filter((r) => r.status === 'open');

async function trace(signalId: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await pool.query<{ result: { results?: Record<string, unknown> } | null }>(
    'SELECT result FROM signals WHERE id = $1',
    [signalId],
  );
  return rows[0]?.result?.results?.['limit_entry'] as Record<string, unknown> | undefined;
}

describe.each(['binance', 'okx'] as const)('%s limit entries', (exchange) => {
  beforeAll(async () => {
    await setPrice(60000);
  });

  it('rests, fills in parts (SL/TP for what filled, resized), then cancel-after cancels the rest', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, balance: 10_000 });
    await limitDepth(0.004);
    try {
      const out = await run(a, {
        action: 'long',
        symbol: BTC,
        quantity: 0.01,
        order_type: 'limit',
        limit_price: 59000,
        cancel_after: 8,
        stop_loss: 57000,
        take_profit: 62000,
      });
      expect(out.status).toBe('executed');
      expect(out.reason).toContain('limit entry resting');
      expect(out.results['limit_entry']).toMatchObject({ state: 'resting', filled: 0 });
      let rows = await findOrdersBySignal(pool, out.job.signalId);
      expect(rows.find((r) => r.leg === 'entry')).toMatchObject({ type: 'limit', status: 'open' });
      expect(protection(rows)).toHaveLength(0);

      await setPrice(58950); // first part: 0.004
      rows = await until('SL/TP for the first part', async () => {
        const r = await findOrdersBySignal(pool, out.job.signalId);
        return openProtection(r).length === 2 && r;
      });
      for (const p of openProtection(rows)) expect(p.amount).toBeCloseTo(0.004, 9);

      await setPrice(58900); // second part: 0.008 in all
      rows = await until('SL/TP resized to 0.008', async () => {
        const r = await findOrdersBySignal(pool, out.job.signalId);
        const open = openProtection(r);
        return open.length === 2 && open.every((p) => Math.abs((p.amount ?? 0) - 0.008) < 1e-9) && r;
      });
      expect(protection(rows).filter((r) => r.status === 'canceled')).toHaveLength(2);

      const expired = await until('cancel-after', async () => {
        const t = await trace(out.job.signalId);
        return t?.['state'] === 'expired' && t;
      });
      expect(expired).toMatchObject({ filled: 0.008, protected_amount: 0.008 });
      expect(Number(expired['canceled_remainder'])).toBeCloseTo(0.002, 9);
      rows = await findOrdersBySignal(pool, out.job.signalId);
      expect(rows.find((r) => r.leg === 'entry')).toMatchObject({ status: 'canceled', filledAmount: 0.008 });
      const view = await simAccount(sim.url, a);
      expect(view.positions.find((p) => p.qty > 0)?.qty).toBeCloseTo(0.008, 9);
      expect(view.open_orders).toHaveLength(0);
      const algo = view.open_algo_orders;
      expect(algo.length).toBeGreaterThan(0);
    } finally {
      await limitDepth(0);
      await setPrice(60000);
    }
  }, 90_000);

  it('a marketable GTC fills in part at once: protected before the signal ends, the rest expires', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, balance: 10_000 });
    await limitDepth(0.004);
    try {
      const out = await run(a, {
        action: 'long',
        symbol: BTC,
        quantity: 0.01,
        order_type: 'limit',
        limit_price: 60100,
        cancel_after: 5,
        stop_loss: 58000,
      });
      expect(out.status).toBe('executed');
      expect(out.results['stop_loss']).toMatchObject({ amount: 0.004 });
      expect(out.results['limit_entry']).toMatchObject({ state: 'resting', filled: 0.004 });
      const t = await until('cancel-after', async () => {
        const v = await trace(out.job.signalId);
        return v?.['state'] === 'expired' && v;
      });
      expect(t).toMatchObject({ filled: 0.004, protected_amount: 0.004 });
      const rows = await findOrdersBySignal(pool, out.job.signalId);
      expect(openProtection(rows).map((r) => [r.leg, r.amount])).toEqual([['stop_loss', 0.004]]);
    } finally {
      await limitDepth(0);
    }
  }, 60_000);

  it('IOC takes what the book has, protects that, and rests nothing', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, balance: 10_000 });
    await limitDepth(0.004);
    try {
      const out = await run(a, {
        action: 'long',
        symbol: BTC,
        quantity: 0.01,
        order_type: 'limit',
        limit_price: 60100,
        time_in_force: 'IOC',
        stop_loss: 58000,
      });
      expect(out.status).toBe('executed');
      expect(out.results['limit_entry']).toMatchObject({ state: 'partly_filled', filled: 0.004 });
      const rows = await findOrdersBySignal(pool, out.job.signalId);
      expect(rows.find((r) => r.leg === 'entry')).toMatchObject({ status: 'canceled', filledAmount: 0.004 });
      expect(openProtection(rows).map((r) => [r.leg, r.amount])).toEqual([['stop_loss', 0.004]]);
      expect((await simAccount(sim.url, a)).open_orders).toHaveLength(0);
    } finally {
      await limitDepth(0);
    }
  }, 60_000);

  it('post-only that would take: the exchange refusal is recorded and nothing is open', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, balance: 10_000 });
    const out = await run(a, {
      action: 'long',
      symbol: BTC,
      quantity: 0.01,
      order_type: 'limit',
      limit_price: 60000,
      post_only: true,
      stop_loss: 58000,
    });
    expect(out.status).toBe('failed');
    const rows = await findOrdersBySignal(pool, out.job.signalId);
    const entry = rows.find((r) => r.leg === 'entry')!;
    if (exchange === 'binance') {
      // Binance refuses a GTX order that would take (-5022).
      expect(out.reason).toContain('-5022');
      expect(entry.status).toBe('rejected');
    } else {
      // OKX accepts it and cancels it at once (cancelSource 31).
      expect(out.reason).toContain('post-only');
      expect(entry).toMatchObject({ status: 'canceled', filledAmount: 0 });
    }
    expect(protection(rows)).toHaveLength(0);
    const view = await simAccount(sim.url, a);
    expect(view.positions.filter((p) => p.qty > 0)).toHaveLength(0);
    expect(view.open_orders).toHaveLength(0);
  }, 60_000);
});

describe('hedge mode', () => {
  it('okx: a resting short fills on the stream later and gets its SL/TP on the short leg', async () => {
    await setPrice(60000);
    const a = await createSimAccount(sim.url, pool, keys.publicKey, {
      exchange: 'okx',
      positionMode: 'hedge',
    });
    const out = await run(a, {
      action: 'short',
      symbol: BTC,
      quantity: 0.01,
      order_type: 'limit',
      limit_price: 61000,
      post_only: true,
      stop_loss: 63000,
      take_profit: 58000,
    });
    expect(out.status).toBe('executed');
    expect(out.results['limit_entry']).toMatchObject({ state: 'resting' });
    try {
      await setPrice(61100);
      const rows = await until('SL/TP after the fill', async () => {
        const r = await findOrdersBySignal(pool, out.job.signalId);
        return openProtection(r).length === 2 && r;
      });
      for (const p of openProtection(rows))
        expect(p).toMatchObject({ positionSide: 'short', side: 'buy', amount: 0.01 });
      const t = await until('trace filled', async () => {
        const v = await trace(out.job.signalId);
        return v?.['state'] === 'filled' && v;
      });
      expect(t).toMatchObject({ filled: 0.01, protected_amount: 0.01 });
      const view = await simAccount(sim.url, a);
      expect(view.positions.filter((p) => p.qty !== 0)).toMatchObject([{ position_side: 'short' }]);
    } finally {
      await setPrice(60000);
    }
  }, 60_000);
});
