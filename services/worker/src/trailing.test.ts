/**
 * The trailing stop end to end on both venues (execution/trailing.ts): a webhook-shaped job → the entry and,
 * after the fill, a reduce-only trailing stop beside the stop-loss at the simulator (Binance
 * TRAILING_STOP_MARKET, OKX move_order_stop) → the price runs up, then back by more than the callback → the
 * trailing stop fires, its fill is recorded, the stop-loss is cancelled (stream path, then the reconciler).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, type pg } from '@tradehook/db';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
import type { Exchange, OrderJob } from '@tradehook/contracts';
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
} from '../test/support.ts';

const ETH = 'ETH/USDT:USDT';
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
        name: `worker-${exchange}-trailing`,
        env: { LIVE_STATE_MAX_AGE_MS: '4000', LIVE_STATE_OWN_ORDER_GRACE_MS: '300' },
      }),
    );
    queues.set(exchange, createQueue(ordersQueueName(exchange), redis, prefix));
  }
});

afterAll(async () => {
  await Promise.all([...services.values()].map((s) => s.stop()));
  for (const q of queues.values()) await q.close();
  redis.disconnect();
  await sim?.close();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits on a condition, never on time: generous for a loaded machine. */
async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(25);
  }
}

async function run(job: OrderJob) {
  await enqueueOrder(queues.get(job.signal.exchange)!, job);
  return waitForSignal(pool, job.signalId, 30_000);
}

async function legs(signalId: string): Promise<Record<string, { status: string; error: string | null }>> {
  const { rows } = await pool.query<{ leg: string; status: string; error: string | null }>(
    'SELECT leg, status, error FROM orders WHERE signal_id = $1',
    [signalId],
  );
  return Object.fromEntries(rows.map((r) => [r.leg, { status: r.status, error: r.error }]));
}

const price = (p: number) => simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });

describe.each(['binance', 'okx'] as const)('%s trailing stop', (exchange) => {
  it('placed after the fill beside the SL; fires after a run-up and a pull-back; the SL is cancelled', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const ctx = await services.get(exchange)!.registry.get(a.accountId);
    await ctx!.prepare();
    await until(() => ctx!.liveStateUnusable(4000, 300) === null);
    const p = 3000;
    await price(p);
    try {
      const job = await approvedSignal(pool, a, {
        action: 'long',
        symbol: ETH,
        quantity: 0.1,
        stop_loss: 2850,
        trailing_pct: 1,
        trailing_activation_pct: 1,
      });
      const out = await run(job);
      expect(out.status, out.reason ?? '').toBe('executed');
      const view = (out.result as { results: Record<string, Record<string, unknown>> }).results;
      expect(view['trailing_stop']).toMatchObject({
        status: 'open',
        callback_pct: 1,
        activation_price: 3030,
      });
      expect(await legs(job.signalId)).toMatchObject({
        entry: { status: 'filled' },
        stop_loss: { status: 'open' },
        trailing_stop: { status: 'open' },
      });
      expect((await simAccount(sim.url, a)).open_algo_orders).toHaveLength(2);

      await price(3020); // below the activation: nothing
      await price(2995);
      expect((await simAccount(sim.url, a)).positions).toHaveLength(1);
      await price(3100); // armed; the high is 3100, the trigger 3069
      await price(3080);
      expect((await simAccount(sim.url, a)).positions).toHaveLength(1);
      await price(3060); // 1.3 % off the high: fires

      await until(async () => (await simAccount(sim.url, a)).positions.length === 0);
      // The stream path cancels the SL at once; the fill recording settles the fired leg.
      await until(async () => (await simAccount(sim.url, a)).open_algo_orders.length === 0);
      await until(async () => (await legs(job.signalId))['stop_loss']?.status === 'canceled');
      await until(async () => (await legs(job.signalId))['trailing_stop']?.status === 'filled');
      await until(async () => {
        const { rows } = await pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM fills WHERE exchange = $1 AND account_id = $2 AND realized_pnl > 0',
          [exchange, a.accountId],
        );
        return rows[0]!.n > 0;
      });
    } finally {
      await price(p);
    }
  });

  it('the SL fires first: the trailing stop beside it is cancelled (OKX: found by the REST reconciler)', async () => {
    // ccxt pro follows OKX's orders-algo channel, not algo-advance where trailing stops are pushed: on OKX
    // only fill-sync's reconciler (fetchOpenOrders lists move_order_stop on its own request) can see it.
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    await price(3000);
    try {
      const job = await approvedSignal(pool, a, {
        action: 'long',
        symbol: ETH,
        quantity: 0.1,
        stop_loss: 2950,
        trailing_pct: 3,
      });
      expect((await run(job)).status).toBe('executed');
      expect((await simAccount(sim.url, a)).open_algo_orders).toHaveLength(2);
      await price(2940); // the stop fires; the trailing stop (3 % off 3000 → 2910) does not
      await until(async () => (await simAccount(sim.url, a)).positions.length === 0);
      const ctx = await services.get(exchange)!.registry.get(a.accountId);
      await until(async () => {
        // What a fill-sync round does for the symbol (idempotent beside the stream's own handling).
        await services.get(exchange)!.fillSync.syncAccount(ctx!, [ETH]);
        return (await simAccount(sim.url, a)).open_algo_orders.length === 0;
      });
      await until(async () => (await legs(job.signalId))['trailing_stop']?.status === 'canceled');
      await until(async () => (await legs(job.signalId))['stop_loss']?.status === 'filled');
    } finally {
      await price(3000);
    }
  });

  it('hedge mode: the trailing stop closes the short leg (position side, no reduceOnly where refused)', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, positionMode: 'hedge' });
    await price(3000);
    const job = await approvedSignal(pool, a, {
      action: 'short',
      symbol: ETH,
      quantity: 0.1,
      trailing_pct: 1,
    });
    const out = await run(job);
    expect(out.status, out.reason ?? '').toBe('executed');
    expect((await legs(job.signalId))['trailing_stop']).toMatchObject({ status: 'open' });
    try {
      await price(2900); // the low; trigger 2929
      await price(2935);
      await until(async () => (await simAccount(sim.url, a)).positions.length === 0);
    } finally {
      await price(3000);
    }
  });

  it('a close cancels the open trailing stop with the rest of the protection', async () => {
    // auto_sl_tp on: the alert's trailing stop is its own protection, so no ATR SL/TP is added.
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, autoSlTp: true });
    await price(3000);
    const job = await approvedSignal(pool, a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      trailing_pct: 2,
    });
    expect((await run(job)).status).toBe('executed');
    expect((await simAccount(sim.url, a)).open_algo_orders).toHaveLength(1);
    const close = await run(await approvedSignal(pool, a, { action: 'close_long', symbol: ETH }));
    expect(close.status, close.reason ?? '').toBe('executed');
    expect((await simAccount(sim.url, a)).open_algo_orders).toHaveLength(0);
    expect((await legs(job.signalId))['trailing_stop']).toMatchObject({ status: 'canceled' });
  });

  it('a trailing stop alone is the protection; a callback out of range for the venue is a recorded refusal → flat', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, {
      exchange,
      unprotectedPolicy: 'flatten',
    });
    await price(3000);
    // An ATR callback is known only after the fill: 100 ATR is far beyond the venue's 10 %.
    const job = await approvedSignal(pool, a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      trailing_atr: 100,
    });
    const out = await run(job);
    expect(out.status).toBe('failed');
    expect(out.reason).toContain("trailing_stop (the entry's only stop) not placed");
    const rows = await legs(job.signalId);
    expect(rows['trailing_stop']).toMatchObject({ status: 'rejected' });
    expect(rows['trailing_stop']!.error).toMatch(/trailing callback (of 0.1–10 %|.* too wide)/);
    expect(rows['flatten']).toMatchObject({ status: 'filled' });
    expect((await simAccount(sim.url, a)).positions).toHaveLength(0);

    // Beside a stop-loss the same refusal is a warning: the stop protects the position.
    const withStop = await approvedSignal(pool, a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      stop_loss: 2900,
      trailing_atr: 100,
    });
    const kept = await run(withStop);
    expect(kept.status).toBe('executed');
    expect(kept.reason).toContain('trailing_stop not placed');
    expect(await legs(withStop.signalId)).toMatchObject({
      stop_loss: { status: 'open' },
      trailing_stop: { status: 'rejected' },
    });
  });
});
