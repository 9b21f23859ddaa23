import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '@tradehook/contracts';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, sumRealisedPnl, type pg } from '@tradehook/db';
import type { CcxtExchangeAdapter } from '@tradehook/exchange';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
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
  waitForSignal,
  type SimAccount,
  startTestWorker,
} from '../test/support.ts';

/**
 * Fill sync against the simulator through the real ccxt client (issue 11 items 1, 5, 9): history that the
 * venue only hands out in windows or pages must be read without gaps.
 */
const ETH = 'ETH/USDT:USDT';
const DAY = 86_400_000;

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
  sim = await startSimulator();
  for (const exchange of ['binance', 'okx'] as const) {
    const service = await startTestWorker({
      exchange,
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      simUrl: sim.url,
      queuePrefix: prefix,
      credentialsPrivateKey: keys.privateKey,
      name: `fill-sync-${exchange}-test`,
      env: { EXCHANGE_TIMEOUT_MS: '5000' },
    });
    services.set(exchange, service);
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

const price = async (symbol: string) => {
  const res = (await (await fetch(`${sim.url}/_sim/prices`)).json()) as { prices: Record<string, number> };
  return res.prices[symbol.replace('/USDT:USDT', 'USDT')]!;
};

const simNow = async () =>
  ((await (await fetch(`${sim.url}/_sim/clock`)).json()) as { now_ms: number }).now_ms;

async function fills(a: SimAccount) {
  const { rows } = await pool.query<{ side: string; realized_pnl: string; time: Date }>(
    'SELECT side, realized_pnl, time FROM fills WHERE exchange = $1 AND account_id = $2 ORDER BY time, trade_id',
    [a.exchange, a.accountId],
  );
  return rows;
}

/** Counts the simulator requests whose path matches (a zero-latency fault changes nothing but counts hits). */
async function countRequests(exchange: Exchange, path: string): Promise<() => Promise<number>> {
  const { fault } = (await simControl(sim.url, 'faults', {
    exchange,
    path,
    kind: 'latency',
    latency_ms: 0,
    count: 100_000,
  })) as { fault: { id: number } };
  return async () => {
    const res = (await (await fetch(`${sim.url}/_sim/faults`)).json()) as {
      faults: Array<{ id: number; hits: number }>;
    };
    return res.faults.find((f) => f.id === fault.id)!.hits;
  };
}

/** One fill-sync round for the account (its per-round Redis lock cleared, as the next round would find it). */
async function syncRound(a: SimAccount) {
  await redis.del(`${prefix}:fill-sync:${a.exchange}:${a.accountId}`);
  return services.get(a.exchange)!.fillSync.syncAll();
}

async function openLong(a: SimAccount, quantity: number, withStops = true) {
  const p = await price(ETH);
  const job = await approvedSignal(pool, a, {
    action: 'long',
    symbol: ETH,
    quantity,
    ...(withStops ? { stop_loss: Math.round(p * 0.98), take_profit: Math.round(p * 1.05) } : {}),
  });
  await enqueueOrder(queues.get(a.exchange)!, job);
  expect((await waitForSignal(pool, job.signalId)).status).toBe('executed');
  return { job, price: p };
}

describe('binance fill sync across a 7-day gap', () => {
  it('records a stop that fires 8 days after the entry, counts it today and cancels the sibling TP', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance' });
    const { job, price: p } = await openLong(a, 0.1);
    await new Promise((r) => setTimeout(r, 300)); // let the post-execution fill recording settle
    await syncRound(a);
    expect((await fills(a)).map((f) => f.side)).toEqual(['buy']);

    // Eight quiet days, then the stop fires on the exchange.
    await simControl(sim.url, 'clock', { advance_ms: 8 * DAY + 3_600_000 });
    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: Math.round(p * 0.97) });
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
    await syncRound(a);

    const rows = await fills(a);
    expect(rows.map((f) => f.side)).toEqual(['buy', 'sell']);
    expect(Number(rows[1]!.realized_pnl)).toBeLessThan(0);
    // The exchange's "today" (UTC, 8 days after the entry), as the daily-loss cap sums it (packages/risk):
    // the loss and the fee of the stop only.
    const dayStart = Math.floor((await simNow()) / DAY) * DAY;
    const today = await sumRealisedPnl(
      pool,
      'binance',
      a.accountId,
      new Date(dayStart),
      new Date(dayStart + DAY),
    );
    expect(today.fillCount).toBe(1);
    expect(today.realizedPnl).toBeCloseTo(Number(rows[1]!.realized_pnl), 8);
    expect(today.netPnl).toBeLessThan(today.realizedPnl); // the fee counts
    // The sibling TP is ours and orphaned: cancelled at the exchange and in orders.
    expect((await simAccount(sim.url, a)).open_algo_orders).toEqual([]);
    const tp = await pool.query("SELECT status FROM orders WHERE signal_id = $1 AND leg = 'take_profit'", [
      job.signalId,
    ]);
    expect(tp.rows[0].status).toBe('canceled');

    // Idle from here on: one request per round, never a walk over old windows again.
    const hits = await countRequests('binance', '/fapi/v1/userTrades');
    await syncRound(a);
    expect(await hits()).toBe(1);
    await simControl(sim.url, 'faults', {}, 'DELETE');
    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });
  });
});

describe('okx fill sync with more than 100 fills between two syncs', () => {
  it('pages fills-history and fills by billId and records every fill', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'okx', balance: 100_000 });
    // Large market orders are booked as many fills (a book walked level by level): 150 per order here.
    await simControl(sim.url, 'fill-split', { symbol: 'ETHUSDT', max_fill_qty: 0.01 });
    try {
      await openLong(a, 1.5, false);
      const close = await approvedSignal(pool, a, { action: 'close_long', symbol: ETH });
      await enqueueOrder(queues.get('okx')!, close);
      expect((await waitForSignal(pool, close.signalId)).status).toBe('executed');
      await new Promise((r) => setTimeout(r, 300)); // let the post-execution fill recording settle
      await syncRound(a);
      const view = await simAccount(sim.url, a);
      const rows = await fills(a);
      expect(view.trades).toHaveLength(300);
      expect(rows).toHaveLength(300);
      expect(rows.filter((r) => r.side === 'sell')).toHaveLength(150);
      const pnl = rows.reduce((s, r) => s + Number(r.realized_pnl), 0);
      const simPnl = view.trades.reduce((s, t) => s + Number((t as { realizedPnl: number }).realizedPnl), 0);
      expect(pnl).toBeCloseTo(simPnl, 6);
    } finally {
      await simControl(sim.url, 'fill-split', { symbol: 'ETHUSDT', max_fill_qty: 0 });
    }
  });
});

describe.each(['binance', 'okx'] as const)('%s funding and fees in the daily PnL', (exchange) => {
  it('syncs funding booked every 8 h and counts it as its own line', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    await openLong(a, 0.2, false);
    await syncRound(a); // first funding read: nothing yet
    const before = await simNow();
    // To 5 min past the next 8-hourly funding time: exactly one funding, whatever the time of day.
    const EIGHT_H = 8 * 3_600_000;
    const next = Math.ceil((before + 1) / EIGHT_H) * EIGHT_H;
    await simControl(sim.url, 'clock', { advance_ms: next + 300_000 - before });
    await syncRound(a);
    const { rows } = await pool.query<{ amount: string; time: Date }>(
      'SELECT amount, time FROM funding_payments WHERE exchange = $1 AND account_id = $2',
      [exchange, a.accountId],
    );
    expect(rows).toHaveLength(1);
    const paid = Number(rows[0]!.amount);
    expect(paid).toBeLessThan(0); // a long pays a positive rate
    expect(rows[0]!.time.getTime()).toBeGreaterThan(before);
    const t = rows[0]!.time.getTime();
    const dayStart = Math.floor(t / DAY) * DAY;
    const day = await sumRealisedPnl(
      pool,
      exchange,
      a.accountId,
      new Date(dayStart),
      new Date(dayStart + DAY),
    );
    expect(day.funding).toBeCloseTo(paid, 8);
    expect(day.netPnl).toBeCloseTo(day.realizedPnl - day.fees + paid, 8);
  });
});

/** The worker's own ccxt client of an account (the real client the worker uses). */
async function clientOf(a: SimAccount) {
  const ctx = await services.get(a.exchange)!.registry.get(a.accountId);
  await ctx!.adapter.syncTime(); // earlier tests moved the exchange clock
  return { ctx: ctx!, client: (ctx!.adapter as CcxtExchangeAdapter).client };
}

describe('fees in the daily PnL', () => {
  it('binance: fees paid in BNB (fee burn on) count at their USDT value at the fill time', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'binance' });
    await simControl(sim.url, `accounts/binance/${a.apiKey}`, { bnb_balance: 10 }, 'PATCH');
    const { client } = await clientOf(a);
    const implicit = client as unknown as Record<string, (p?: object) => Promise<unknown>>;
    await implicit['fapiPrivatePostFeeBurn']!({ feeBurn: 'true' });
    expect(await implicit['fapiPrivateGetFeeBurn']!()).toEqual({ feeBurn: true });
    await openLong(a, 0.1, false);
    const close = await approvedSignal(pool, a, { action: 'close_long', symbol: ETH });
    await enqueueOrder(queues.get('binance')!, close);
    expect((await waitForSignal(pool, close.signalId)).status).toBe('executed');
    await new Promise((r) => setTimeout(r, 300));
    await syncRound(a);
    const { rows } = await pool.query<{
      fee: string;
      fee_asset: string;
      fee_quote: string;
      price: string;
      amount: string;
      time: Date;
    }>(
      'SELECT fee, fee_asset, fee_quote, price, amount, time FROM fills WHERE exchange = $1 AND account_id = $2',
      ['binance', a.accountId],
    );
    expect(rows).toHaveLength(2);
    const bnb = await price('BNB/USDT:USDT');
    for (const r of rows) {
      expect(r.fee_asset).toBe('BNB');
      expect(Number(r.fee_quote)).toBeCloseTo(Number(r.fee) * bnb, 6);
      // 0.04 % taker, 10 % off for paying in BNB.
      expect(Number(r.fee_quote)).toBeCloseTo(Number(r.price) * Number(r.amount) * 0.0004 * 0.9, 4);
    }
    const dayStart = Math.floor(rows[0]!.time.getTime() / DAY) * DAY;
    const day = await sumRealisedPnl(
      pool,
      'binance',
      a.accountId,
      new Date(dayStart),
      new Date(dayStart + DAY),
    );
    expect(day.fees).toBeCloseTo(Number(rows[0]!.fee_quote) + Number(rows[1]!.fee_quote), 8);
  });

  it.each(['binance', 'okx'] as const)('%s: a maker rebate is income, not a cost', async (exchange) => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    await simControl(sim.url, `accounts/${exchange}/${a.apiKey}`, { maker_fee: -0.0001 }, 'PATCH');
    const { ctx, client } = await clientOf(a);
    const p = await price(ETH);
    const limit = Math.round(p * 99) / 100;
    // A resting limit buy (placed by the user on the exchange) that fills as maker when the price comes down.
    await client.createOrder(ETH, 'limit', 'buy', exchange === 'okx' ? 1 : 0.1, limit);
    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: limit });
    await services.get(exchange)!.fillSync.syncAccount(ctx, [ETH]);
    const { rows } = await pool.query<{ fee: string; time: Date }>(
      'SELECT fee, time FROM fills WHERE exchange = $1 AND account_id = $2',
      [exchange, a.accountId],
    );
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.fee)).toBeCloseTo(-limit * 0.1 * 0.0001, 8);
    const dayStart = Math.floor(rows[0]!.time.getTime() / DAY) * DAY;
    const day = await sumRealisedPnl(
      pool,
      exchange,
      a.accountId,
      new Date(dayStart),
      new Date(dayStart + DAY),
    );
    expect(day.fees).toBeLessThan(0);
    expect(day.netPnl).toBeGreaterThan(day.realizedPnl);
    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });
  });
});
