/**
 * Issue 12: in steady state an entry and a close leave with no exchange request before them — positions,
 * balance and price come from the account's private streams and the venue's price feed (real ccxt pro against
 * the simulator's WebSocket streams). A dropped or lagging stream falls back to REST, says so in the trace,
 * and never makes a wrong decision.
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
        name: `worker-${exchange}-live`,
        env: {
          LIVE_STATE_KEEPALIVE_MS: '1000',
          LIVE_STATE_MAX_AGE_MS: '4000',
          LIVE_STATE_OWN_ORDER_GRACE_MS: '300',
        },
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

async function until(cond: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(25);
  }
}

/** Requests this account signed between `from` and the arrival of its first order request after `from`. */
function requestsBeforeOrder(acct: SimAccount, from: number) {
  const mine = sim.requestLog.filter((r) => r.apiKey === acct.apiKey && r.at >= from);
  const isOrder = (p: string, m: string) =>
    m === 'POST' &&
    (p === '/fapi/v1/order' || p === '/api/v5/trade/order' || p === '/api/v5/trade/batch-orders');
  const first = mine.findIndex((r) => isOrder(r.path, r.method));
  expect(first, 'an order request reached the simulator').toBeGreaterThanOrEqual(0);
  // The listenKey keep-alive (PUT) is the stream's, not the decision's.
  return mine.slice(0, first).filter((r) => !(r.path === '/fapi/v1/listenKey'));
}

async function run(job: OrderJob) {
  await enqueueOrder(queues.get(job.signal.exchange)!, job);
  return waitForSignal(pool, job.signalId);
}

describe.each(['binance', 'okx'] as const)('%s live state', (exchange) => {
  let acct: SimAccount;
  beforeAll(async () => {
    acct = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, defaultLeverage: 3 });
    const ctx = await services.get(exchange)!.registry.get(acct.accountId);
    await ctx!.prepare();
    // The venue's price feed follows BTC once asked; wait for its first price.
    await ctx!.prices!.track(BTC);
    await until(() => ctx!.liveStateUnusable(4000, 300) === null);
  });

  it('an entry and a close leave with zero requests before them; the trace says stream', async () => {
    // Leverage is set once per process: the first entry sets it, the second must send nothing before its order.
    const warm = await run(
      await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.003 }),
    );
    expect(warm.status, warm.reason ?? '').toBe('executed');
    await run(await approvedSignal(pool, acct, { action: 'close_long', symbol: BTC }));
    await sleep(400); // past the own-order grace

    const from = performance.timeOrigin + performance.now();
    const entry = await run(
      await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.004, stop_loss: 40_000 }),
    );
    expect(entry.status, entry.reason ?? '').toBe('executed');
    expect(requestsBeforeOrder(acct, from)).toEqual([]);
    const results = entry.result!['results'] as Record<string, unknown>;
    expect(results['state']).toMatchObject({ positions: 'stream', price: 'stream' });

    await sleep(400);
    const closeFrom = performance.timeOrigin + performance.now();
    const close = await run(await approvedSignal(pool, acct, { action: 'close_long', symbol: BTC }));
    expect(close.status, close.reason ?? '').toBe('executed');
    expect(requestsBeforeOrder(acct, closeFrom)).toEqual([]);
    expect((close.result!['results'] as Record<string, unknown>)['state']).toMatchObject({
      positions: 'stream',
    });
    expect((await simAccount(sim.url, acct)).positions).toEqual([]);
  });

  it('with the account stream dropped, decides from REST, says so, and recovers to the stream', async () => {
    await sleep(400);
    await simControl(sim.url, 'streams/drop', { exchange, api_key: acct.apiKey });
    await simControl(sim.url, 'streams/refuse', { exchange, ms: 1500 });
    const from = performance.timeOrigin + performance.now();
    const entry = await run(
      await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.004 }),
    );
    expect(entry.status, entry.reason ?? '').toBe('executed');
    const state = (entry.result!['results'] as Record<string, unknown>)['state'] as Record<string, unknown>;
    expect(state['positions']).toBe('rest');
    expect(String(state['rest_because'])).toMatch(/stream/);
    expect(requestsBeforeOrder(acct, from).length).toBeGreaterThan(0);
    const view = await simAccount(sim.url, acct);
    expect(view.positions).toHaveLength(1);

    // The stream comes back and is reconciled: the close decides from it again, and closes the right size.
    const ctx = services.get(exchange)!.registry.cached(acct.accountId)!;
    await until(() => ctx.liveStateUnusable(4000, 300) === null, 15_000);
    const close = await run(await approvedSignal(pool, acct, { action: 'close_long', symbol: BTC }));
    expect(close.status, close.reason ?? '').toBe('executed');
    expect((close.result!['results'] as Record<string, unknown>)['state']).toMatchObject({
      positions: 'stream',
    });
    expect((await simAccount(sim.url, acct)).positions).toEqual([]);
  });

  it('a lagging stream is not trusted: an entry right after another on the same account reads REST', async () => {
    await simControl(sim.url, 'streams/delay', { exchange, api_key: acct.apiKey, ms: 2000 });
    try {
      await sleep(400);
      const first = await run(
        await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.004 }),
      );
      expect(first.status, first.reason ?? '').toBe('executed');
      // The fill's position update is 2 s late on the stream; the next decision must still see the position.
      const second = await run(
        await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.004 }),
      );
      expect(second.status).toBe('ignored');
      const state = (second.result!['results'] as Record<string, unknown>)['state'] as Record<
        string,
        unknown
      >;
      expect(state['positions']).toBe('rest');
    } finally {
      await simControl(sim.url, 'streams/delay', { exchange, api_key: acct.apiKey, ms: 0 });
    }
    await sleep(400);
    await run(await approvedSignal(pool, acct, { action: 'close_long', symbol: BTC }));
    expect((await simAccount(sim.url, acct)).positions).toEqual([]);
  });

  it('fills of an entry and its close are stored from the stream, as the REST history reports them, and no trade read follows the execution', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const ctx = (await services.get(exchange)!.registry.get(a.accountId))!;
    await ctx.prepare();
    await until(() => ctx.liveStateUnusable(4000, 300) === null);
    const from = performance.timeOrigin + performance.now();
    const entry = await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.004 });
    expect((await run(entry)).status).toBe('executed');
    await sleep(400);
    // The close at another price: its fill carries a realized PnL.
    const px = ((await (await fetch(`${sim.url}/_sim/prices`)).json()) as { prices: Record<string, number> })
      .prices['BTCUSDT']!;
    await simControl(sim.url, 'price', { symbol: 'BTCUSDT', price: Math.round(px * 1.01) });
    try {
      const close = await approvedSignal(pool, a, { action: 'close_long', symbol: BTC });
      expect((await run(close)).status).toBe('executed');
    } finally {
      await simControl(sim.url, 'price', { symbol: 'BTCUSDT', price: px });
    }
    type FillRow = { trade_id: string; client_order_id: string | null; fee: number; realized_pnl: number };
    let rows: FillRow[] = [];
    await until(async () => {
      rows = (
        await pool.query<FillRow>(
          `SELECT trade_id, client_order_id, fee::float8 AS fee, realized_pnl::float8 AS realized_pnl
             FROM fills WHERE exchange = $1 AND account_id = $2 ORDER BY time, trade_id`,
          [exchange, a.accountId],
        )
      ).rows;
      return rows.length >= 2;
    }, 3000);
    const tradeReads = sim.requestLog.filter(
      (r) =>
        r.apiKey === a.apiKey &&
        r.at >= from &&
        ['/fapi/v1/userTrades', '/api/v5/trade/fills', '/api/v5/trade/fills-history'].includes(r.path),
    );
    expect(tradeReads, 'trade history read after an execution while the stream is live').toEqual([]);
    // The rows the REST history would have made: same trade ids, fees (sign: paid > 0) and realized PnL.
    const rest = (await ctx.adapter.fetchTradesAfter(BTC, null, Date.now() - 60_000)).trades;
    expect(rows.map((r) => r.trade_id)).toEqual(rest.map((t) => t.id));
    rows.forEach((r, i) => {
      expect(r.fee).toBeGreaterThan(0);
      expect(r.fee).toBeCloseTo(rest[i]!.fee, 8);
      expect(r.realized_pnl).toBeCloseTo(rest[i]!.realizedPnl, 8);
    });
    expect(rows[0]!.client_order_id).toMatch(/^th.*E$/);
    expect(rows[rows.length - 1]!.realized_pnl).toBeGreaterThan(0);
  });

  it('the entry is settled from its pushed fill (OKX: and its attached SL/TP from the algo push): no look-up after the placement', async () => {
    // An account of its own: the lagging-stream test's delayed events may still be on their way to `acct`.
    const b = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const ctx = (await services.get(exchange)!.registry.get(b.accountId))!;
    await ctx.prepare();
    await until(() => ctx.liveStateUnusable(4000, 300) === null);
    const px = ((await (await fetch(`${sim.url}/_sim/prices`)).json()) as { prices: Record<string, number> })
      .prices['BTCUSDT']!;
    const from = performance.timeOrigin + performance.now();
    const job = await approvedSignal(pool, b, {
      action: 'long',
      symbol: BTC,
      quantity: 0.004,
      stop_loss: Math.round(px * 0.9),
      take_profit: Math.round(px * 1.1),
    });
    const out = await run(job);
    expect(out.status, out.reason ?? '').toBe('executed');
    const lookUps = sim.requestLog.filter(
      (r) =>
        r.apiKey === b.apiKey &&
        r.at >= from &&
        r.method === 'GET' &&
        ['/fapi/v1/order', '/fapi/v1/algoOrder', '/api/v5/trade/order', '/api/v5/trade/order-algo'].includes(
          r.path,
        ),
    );
    expect(lookUps).toEqual([]);
    const { rows } = await pool.query<{ leg: string; status: string; average_price: number | null }>(
      `SELECT leg, status, average_price::float8 AS average_price FROM orders WHERE signal_id = $1 ORDER BY leg`,
      [job.signalId],
    );
    expect(rows.map((r) => [r.leg, r.status])).toEqual([
      ['entry', 'filled'],
      ['stop_loss', 'open'],
      ['take_profit', 'open'],
    ]);
    expect(rows[0]!.average_price).toBeGreaterThan(0);
    await sleep(400);
    expect((await run(await approvedSignal(pool, b, { action: 'close_long', symbol: BTC }))).status).toBe(
      'executed',
    );
  });

  it('an SL hit arrives from the stream: fill rows and the cancelled sibling without any fill polling', async () => {
    // FILL_SYNC_INTERVAL_MS is 0 here and nothing calls syncAll: only the stream event can do this.
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const ctx = await services.get(exchange)!.registry.get(a.accountId);
    await ctx!.prepare();
    await until(() => ctx!.liveStateUnusable(4000, 300) === null);
    const p = ((await (await fetch(`${sim.url}/_sim/prices`)).json()) as { prices: Record<string, number> })
      .prices['ETHUSDT']!;
    const job = await approvedSignal(pool, a, {
      action: 'long',
      symbol: 'ETH/USDT:USDT',
      quantity: 0.1,
      stop_loss: Math.round(p * 0.98),
      take_profit: Math.round(p * 1.05),
    });
    expect((await run(job)).status).toBe('executed');
    await sleep(300); // the job's own fill recording settles first
    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: Math.round(p * 0.97) });
    try {
      await until(async () => (await simAccount(sim.url, a)).open_algo_orders.length === 0, 5000);
      // The sibling's row follows the stream event (the exchange shows it gone a moment before).
      await until(async () => {
        const tp = await pool.query<{ status: string }>(
          "SELECT status FROM orders WHERE signal_id = $1 AND leg = 'take_profit'",
          [job.signalId],
        );
        return tp.rows[0]?.status === 'canceled';
      }, 3000);
      await until(async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM fills WHERE exchange = $1 AND account_id = $2 AND realized_pnl < 0`,
          [exchange, a.accountId],
        );
        return rows[0]!.n > 0;
      }, 5000);
    } finally {
      await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });
    }
  });
});

describe('okx attached protection (OKX_ATTACHED_PROTECTION=true)', () => {
  const attachPrefix = `${prefix}-att`;
  let worker: WorkerService;
  let queue: Queue;
  beforeAll(async () => {
    worker = await startTestWorker({
      exchange: 'okx',
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      simUrl: sim.url,
      queuePrefix: attachPrefix,
      credentialsPrivateKey: keys.privateKey,
      name: 'worker-okx-attached',
      env: { OKX_ATTACHED_PROTECTION: 'true' },
    });
    queue = createQueue(ordersQueueName('okx'), redis, attachPrefix);
  });
  afterAll(async () => {
    await worker?.stop();
    await queue?.close();
    await deleteRedisPrefix(attachPrefix);
  });

  it('the SL and TP ride on the entry request: one order request, both legs recorded, a close cancels them', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'okx' });
    const px = ((await (await fetch(`${sim.url}/_sim/prices`)).json()) as { prices: Record<string, number> })
      .prices['BTCUSDT']!;
    const [sl, tp] = [Math.round(px * 0.9), Math.round(px * 1.1)];
    const from = performance.timeOrigin + performance.now();
    const job = await approvedSignal(pool, a, {
      action: 'long',
      symbol: BTC,
      quantity: 0.01,
      stop_loss: sl,
      take_profit: tp,
    });
    await enqueueOrder(queue, job);
    const out = await waitForSignal(pool, job.signalId);
    expect(out.status, out.reason ?? '').toBe('executed');
    const mine = sim.requestLog.filter((r) => r.apiKey === a.apiKey && r.at >= from);
    expect(mine.filter((r) => r.method === 'POST' && r.path === '/api/v5/trade/order-algo')).toEqual([]); // nothing placed after
    const placing = mine.filter(
      (r) => r.method === 'POST' && ['/api/v5/trade/order', '/api/v5/trade/batch-orders'].includes(r.path),
    );
    expect(placing).toHaveLength(1);
    const view = await simAccount(sim.url, a);
    expect(view.open_algo_orders).toEqual([expect.objectContaining({ sl_trigger: sl, tp_trigger: tp })]);
    const { rows } = await pool.query<{ leg: string; status: string; exchange_order_id: string | null }>(
      `SELECT leg, status, exchange_order_id FROM orders WHERE signal_id = $1 ORDER BY leg`,
      [job.signalId],
    );
    expect(rows.map((r) => [r.leg, r.status])).toEqual([
      ['entry', 'filled'],
      ['stop_loss', 'open'],
      ['take_profit', 'open'],
    ]);
    expect(rows[1]!.exchange_order_id).toBeTruthy();
    const results = out.result!['results'] as Record<string, Record<string, unknown>>;
    expect(results['stop_loss']).toMatchObject({ attached_to_entry: true });

    const close = await approvedSignal(pool, a, { action: 'close_long', symbol: BTC });
    await enqueueOrder(queue, close);
    expect((await waitForSignal(pool, close.signalId)).status).toBe('executed');
    const after = await simAccount(sim.url, a);
    expect(after.positions).toEqual([]);
    expect(after.open_algo_orders).toEqual([]);
  });
});
