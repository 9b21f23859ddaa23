/**
 * Partial close end to end on both exchanges (worker ↔ simulator ↔ Postgres): close_long / close_short with
 * close_pct or quantity closes that part reduce-only, and the entry's open SL/TP are replaced by legs for the
 * remainder at the same triggers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, type pg } from '@tradehook/db';
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
  simOrders,
  startTestWorker,
  waitForSignal,
  type SimAccount,
} from '../test/support.ts';

const ETH = 'ETH/USDT:USDT';
let db: TestDatabase;
let pool: pg.Pool;
let sim: Simulator;
const prefix = testQueuePrefix();
const keys = generateCredentialsKeyPair();
const services: WorkerService[] = [];
const queues = new Map<Exchange, Queue>();
const redis = createRedis(TEST_REDIS_URL, 'worker');

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 4 });
  sim = await startSimulator({ rateLimits: { enabled: false } });
  for (const exchange of ['binance', 'okx'] as const) {
    services.push(
      await startTestWorker({
        exchange,
        databaseUrl: db.url,
        redisUrl: TEST_REDIS_URL,
        simUrl: sim.url,
        queuePrefix: prefix,
        credentialsPrivateKey: keys.privateKey,
        name: `worker-${exchange}-partial`,
        // Separate SL and TP orders (the resize of N legs); the attached OCO default has its own block below.
        env: { OKX_ATTACHED_PROTECTION: 'false' },
      }),
    );
    queues.set(exchange, createQueue(ordersQueueName(exchange), redis, prefix));
  }
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  for (const q of queues.values()) await q.close();
  redis.disconnect();
  await sim?.close();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

type Results = Record<string, Record<string, unknown>>;

async function run(a: SimAccount, fields: Omit<NormalisedSignal, 'account_id' | 'exchange'>) {
  const job = await approvedSignal(pool, a, fields);
  await enqueueOrder(queues.get(a.exchange)!, job);
  const out = await waitForSignal(pool, job.signalId, 40_000);
  return { ...out, signalId: job.signalId, results: (out.result?.['results'] ?? {}) as Results };
}

async function ethPrice(): Promise<number> {
  const res = (await (await fetch(`${sim.url}/_sim/prices`)).json()) as { prices: Record<string, number> };
  return res.prices['ETHUSDT']!;
}

interface Row {
  signal_id: string;
  client_order_id: string;
  leg: string;
  status: string;
  amount: number;
  trigger_price: number | null;
  filled_amount: number | null;
}

async function rowsOf(signalId: string): Promise<Row[]> {
  const { rows } = await pool.query<Row>(
    `SELECT signal_id, client_order_id, leg, status, amount::float8 AS amount,
            trigger_price::float8 AS trigger_price, filled_amount::float8 AS filled_amount
       FROM orders WHERE signal_id = $1 ORDER BY leg, client_order_id`,
    [signalId],
  );
  return rows;
}

/** Opens a position with SL and TP; returns the entry's signal id and its triggers. */
async function openProtected(a: SimAccount, side: 'long' | 'short', quantity: number) {
  const p = await ethPrice();
  const [sl, tp] = side === 'long' ? [p * 0.9, p * 1.1] : [p * 1.1, p * 0.9];
  const entry = await run(a, {
    action: side,
    symbol: ETH,
    quantity,
    stop_loss: Math.round(sl),
    take_profit: Math.round(tp),
  });
  expect(entry.status, entry.reason ?? '').toBe('executed');
  expect((await simAccount(sim.url, a)).open_algo_orders).toHaveLength(2);
  return { signalId: entry.signalId, sl: Math.round(sl), tp: Math.round(tp) };
}

describe.each(['binance', 'okx'] as const)('%s partial close', (exchange) => {
  it('close_pct 40: 60 % stays, its SL and TP resized to it, the old ones cancelled; quantity > position closes all', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const opened = await openProtected(a, 'long', 0.5);
    const oldIds = (await simAccount(sim.url, a)).open_algo_orders.map((o) => o.client_id);

    const part = await run(a, { action: 'close_long', symbol: ETH, close_pct: 40 });
    expect(part.status, part.reason ?? '').toBe('executed');
    expect(part.reason).toBeNull();
    const view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.3 })]);
    const algos = view.open_algo_orders;
    expect(algos).toHaveLength(2);
    expect(algos.some((o) => oldIds.includes(o.client_id))).toBe(false);
    expect(algos.find((o) => o.sl_trigger !== null)).toMatchObject({ qty: 0.3, sl_trigger: opened.sl });
    expect(algos.find((o) => o.tp_trigger !== null)).toMatchObject({ qty: 0.3, tp_trigger: opened.tp });

    // Postgres: the entry's legs cancelled; the close's own exit and new legs recorded.
    const entryLegs = (await rowsOf(opened.signalId)).filter((r) => r.leg !== 'entry');
    expect(entryLegs.map((r) => `${r.leg}:${r.status}`)).toEqual([
      'stop_loss:canceled',
      'take_profit:canceled',
    ]);
    const closeRows = await rowsOf(part.signalId);
    expect(closeRows.map((r) => `${r.leg}:${r.status}:${r.amount}`)).toEqual([
      'exit:filled:0.2',
      'stop_loss:open:0.3',
      'take_profit:open:0.3',
    ]);
    expect(closeRows.find((r) => r.leg === 'stop_loss')!.trigger_price).toBe(opened.sl);
    expect(new Set(closeRows.map((r) => r.client_order_id)).size).toBe(3);
    expect(algos.map((o) => o.client_id).sort()).toEqual(
      closeRows
        .filter((r) => r.leg !== 'exit')
        .map((r) => r.client_order_id)
        .sort(),
    );

    // The trace says what was resized.
    const resized = part.results['resized']!;
    expect(resized['position']).toEqual({ before: 0.5, closed: 0.2, remaining: 0.3 });
    expect(resized['replaced']).toHaveLength(2);
    expect(resized['stop_loss']).toEqual([
      expect.objectContaining({ amount: 0.3, trigger_price: opened.sl, status: 'open' }),
    ]);
    expect(resized['take_profit']).toEqual([
      expect.objectContaining({ amount: 0.3, trigger_price: opened.tp, status: 'open' }),
    ]);
    expect(part.results['canceled_orders']).toHaveLength(2);

    // More than the position: all of it closes, and the answer says so.
    const rest = await run(a, { action: 'close_long', symbol: ETH, quantity: 5 });
    expect(rest.status, rest.reason ?? '').toBe('executed');
    expect(rest.reason).toBe('quantity 5 is more than the long position of 0.3: closed all of it');
    const flat = await simAccount(sim.url, a);
    expect(flat.positions).toEqual([]);
    expect(flat.open_algo_orders).toEqual([]);
    expect((await rowsOf(part.signalId)).filter((r) => r.status === 'open')).toEqual([]);
  });

  it('a part below the minimum amount closes nothing; a quantity is truncated to the step', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    await openProtected(a, 'long', 0.01);
    const tiny = await run(a, { action: 'close_long', symbol: ETH, close_pct: 5 });
    expect(tiny.status).toBe('failed');
    expect(tiny.reason).toBe(
      "close_pct 5 % of the long position of 0.01 is 0.0005, below the market's minimum amount 0.001; nothing was closed",
    );
    const untouched = await simAccount(sim.url, a);
    expect(untouched.positions).toEqual([expect.objectContaining({ qty: 0.01 })]);
    expect(untouched.open_algo_orders.map((o) => o.qty)).toEqual([0.01, 0.01]);

    // 0.0099 at the 0.001 step is 0.009: 0.001 (the minimum) stays, protected by legs of 0.001.
    const most = await run(a, { action: 'close_long', symbol: ETH, quantity: 0.0099 });
    expect(most.status, most.reason ?? '').toBe('executed');
    const view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.001 })]);
    expect(view.open_algo_orders.map((o) => o.qty)).toEqual([0.001, 0.001]);
    expect((await run(a, { action: 'close_long', symbol: ETH })).status).toBe('executed');
    expect((await simAccount(sim.url, a)).open_algo_orders).toEqual([]);
  });

  it('hedge mode: a short trimmed by quantity keeps buy-side legs on its own leg', async () => {
    const h = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, positionMode: 'hedge' });
    const opened = await openProtected(h, 'short', 0.2);
    const part = await run(h, { action: 'close_short', symbol: ETH, quantity: 0.05 });
    expect(part.status, part.reason ?? '').toBe('executed');
    const view = await simAccount(sim.url, h);
    expect(view.positions).toEqual([expect.objectContaining({ position_side: 'short', qty: -0.15 })]);
    expect(view.open_algo_orders).toHaveLength(2);
    for (const o of view.open_algo_orders) {
      expect(o).toMatchObject({ side: 'buy', qty: 0.15 });
      expect((o as unknown as { position_side: string }).position_side).toBe('short');
    }
    expect(view.open_algo_orders.find((o) => o.sl_trigger !== null)!.sl_trigger).toBe(opened.sl);
    const all = await run(h, { action: 'close_short', symbol: ETH });
    expect(all.status, all.reason ?? '').toBe('executed');
    expect((await simAccount(sim.url, h)).open_algo_orders).toEqual([]);
  });
});

describe.each(['binance', 'okx'] as const)('%s partial close of several legs', (exchange) => {
  it('two entries (allow_add), each with its SL and TP: all four legs keep their share of the remainder', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, allowAdd: true });
    const p = await ethPrice();
    const levels = [
      { quantity: 0.2, stop_loss: Math.round(p * 0.9), take_profit: Math.round(p * 1.1) },
      { quantity: 0.1, stop_loss: Math.round(p * 0.85), take_profit: Math.round(p * 1.2) },
    ];
    for (const l of levels) {
      const out = await run(a, { action: 'long', symbol: ETH, ...l });
      expect(out.status, out.reason ?? '').toBe('executed');
    }
    expect((await simAccount(sim.url, a)).open_algo_orders).toHaveLength(4);
    const part = await run(a, { action: 'close_long', symbol: ETH, close_pct: 50 });
    expect(part.status, part.reason ?? '').toBe('executed');
    const view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.15 })]);
    const legs = view.open_algo_orders.map((o) => `${o.sl_trigger ?? '-'}/${o.tp_trigger ?? '-'}:${o.qty}`);
    expect(legs.sort()).toEqual(
      [
        `${levels[0]!.stop_loss}/-:0.1`,
        `-/${levels[0]!.take_profit}:0.1`,
        `${levels[1]!.stop_loss}/-:0.05`,
        `-/${levels[1]!.take_profit}:0.05`,
      ].sort(),
    );
    const closeRows = await rowsOf(part.signalId);
    expect(closeRows.filter((r) => r.leg !== 'exit' && r.status === 'open')).toHaveLength(4);
    expect(part.results['canceled_orders']).toHaveLength(4);
    expect((await run(a, { action: 'close_long', symbol: ETH })).status).toBe('executed');
    expect((await simAccount(sim.url, a)).open_algo_orders).toEqual([]);
  });
});

describe('okx: protection attached to the entry (one OCO algo order)', () => {
  let worker: WorkerService;
  let queue: Queue;
  const ownPrefix = testQueuePrefix();
  beforeAll(async () => {
    worker = await startTestWorker({
      exchange: 'okx',
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      simUrl: sim.url,
      queuePrefix: ownPrefix,
      credentialsPrivateKey: keys.privateKey,
      name: 'worker-okx-partial-attached',
      env: { OKX_ATTACHED_PROTECTION: 'true' },
    });
    queue = createQueue(ordersQueueName('okx'), redis, ownPrefix);
  });
  afterAll(async () => {
    await worker?.stop();
    await queue?.close();
    await deleteRedisPrefix(ownPrefix);
  });

  it('the OCO is replaced by a stop and a take-profit for the remainder', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'okx' });
    const send = async (fields: Omit<NormalisedSignal, 'account_id' | 'exchange'>) => {
      const job = await approvedSignal(pool, a, fields);
      await enqueueOrder(queue, job);
      const out = await waitForSignal(pool, job.signalId, 40_000);
      return { ...out, signalId: job.signalId };
    };
    const p = await ethPrice();
    const [sl, tp] = [Math.round(p * 0.9), Math.round(p * 1.1)];
    const entry = await send({ action: 'long', symbol: ETH, quantity: 0.4, stop_loss: sl, take_profit: tp });
    expect(entry.status, entry.reason ?? '').toBe('executed');
    const oco = (await simAccount(sim.url, a)).open_algo_orders;
    expect(oco).toEqual([expect.objectContaining({ sl_trigger: sl, tp_trigger: tp })]);

    const part = await send({ action: 'close_long', symbol: ETH, close_pct: 25 });
    expect(part.status, part.reason ?? '').toBe('executed');
    const view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.3 })]);
    expect(view.open_algo_orders.map((o) => `${o.sl_trigger}/${o.tp_trigger}:${o.qty}`).sort()).toEqual(
      [`${sl}/null:0.3`, `null/${tp}:0.3`].sort(),
    );
    const entryLegs = (await rowsOf(entry.signalId)).filter((r) => r.leg !== 'entry');
    expect(entryLegs.map((r) => r.status)).toEqual(['canceled', 'canceled']);
    expect((await send({ action: 'close_long', symbol: ETH })).status).toBe('executed');
  });
});

const ALGO_PLACE: Record<Exchange, string> = {
  binance: '/fapi/v1/algoOrder',
  okx: '/api/v5/trade/order-algo',
};
const ALGO_CANCEL: Record<Exchange, { method: string; path: string }> = {
  binance: { method: 'DELETE', path: '/fapi/v1/algoOrder' },
  okx: { method: 'POST', path: '/api/v5/trade/cancel-algos' },
};
/** A final refusal of a stop by each venue: its trigger is already through the market. */
const THROUGH_MARKET: Record<Exchange, { code: number | string; msg: string }> = {
  binance: { code: -2021, msg: 'Order would immediately trigger.' },
  okx: { code: '51280', msg: 'SL trigger price cannot be higher than the last price' },
};

describe.each(['binance', 'okx'] as const)('%s partial close under failures', (exchange) => {
  afterAll(() => simControl(sim.url, 'faults', {}, 'DELETE'));

  it('a cancel that fails (503) is retried: the new legs are placed once, the old ones cancelled', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    await openProtected(a, 'long', 0.5);
    const { method, path } = ALGO_CANCEL[exchange];
    await simControl(sim.url, 'faults', { exchange, method, path, kind: 'http5xx', status: 503 });
    const part = await run(a, { action: 'close_long', symbol: ETH, close_pct: 50 });
    expect(part.status, part.reason ?? '').toBe('executed');
    const view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.25 })]);
    expect(view.open_algo_orders.map((o) => o.qty)).toEqual([0.25, 0.25]);
    const closeIds = (await rowsOf(part.signalId))
      .filter((r) => r.leg !== 'exit')
      .map((r) => r.client_order_id);
    const sent = (await simOrders(sim.url, a)).filter((o) => closeIds.includes(String(o['client_id'])));
    expect(sent).toHaveLength(2);
    // The fault was consumed: the job did fail once and resume.
    const faults = (await (await fetch(`${sim.url}/_sim/faults`)).json()) as { faults: unknown[] };
    expect(faults.faults).toEqual([]);
    expect((await run(a, { action: 'close_long', symbol: ETH })).status).toBe('executed');
  });

  it('a new stop the exchange refuses keeps the old one; the take-profit is still resized; the reason says so', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const opened = await openProtected(a, 'long', 0.5);
    const oldStop = (await simAccount(sim.url, a)).open_algo_orders.find((o) => o.sl_trigger !== null)!;
    await simControl(sim.url, 'faults', {
      exchange,
      method: 'POST',
      path: ALGO_PLACE[exchange],
      kind: 'error_code',
      ...THROUGH_MARKET[exchange],
    });
    const part = await run(a, { action: 'close_long', symbol: ETH, close_pct: 40 });
    expect(part.status, part.reason ?? '').toBe('executed');
    expect(part.reason).toMatch(
      /^stop_loss not resized: .*; the earlier stop stays \(reduce-only, it closes at most the 0\.3 left\)$/,
    );
    const view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.3 })]);
    const stops = view.open_algo_orders.filter((o) => o.sl_trigger !== null);
    expect(stops).toEqual([expect.objectContaining({ client_id: oldStop.client_id, qty: 0.5 })]);
    expect(view.open_algo_orders.find((o) => o.tp_trigger !== null)).toMatchObject({
      qty: 0.3,
      tp_trigger: opened.tp,
    });
    expect((await run(a, { action: 'close_long', symbol: ETH })).status).toBe('executed');
    expect((await simAccount(sim.url, a)).open_algo_orders).toEqual([]);
  });
});
