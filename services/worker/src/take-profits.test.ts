/**
 * Several take-profits and break-even end to end on both exchanges, one-way and hedge (worker ↔ simulator ↔
 * Postgres): an entry with `take_profits` gets one stop for the whole fill and one reduce-only take-profit per
 * share; when a take-profit fills (the simulator's price crosses it and the stream reports it), the stop is
 * replaced by one for what is left — at break-even after the first with `break_even: "tp1"` — and the other
 * take-profits stay; when the stop fires, what is left of the take-profits is cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalisedSignal } from '@tradehook/contracts';
import type { Queue } from '@tradehook/queue';
import { createSimAccount, simAccount, simControl, type SimAccount } from '../test/support.ts';
import { startWorkerSuite, type WorkerSuite } from '../test/suite.ts';

const ETH = 'ETH/USDT:USDT';
/** A worker without streams (LIVE_STATE=false): a take-profit's fill reaches it by the periodic fill sync only. */
const REST_ONLY = 'tps-rest';
let suite: WorkerSuite;
let pool: WorkerSuite['pool'];
let sim: WorkerSuite['sim'];
let reconcilerQueue: Queue;

beforeAll(async () => {
  suite = await startWorkerSuite({
    name: 'tps',
    exchanges: ['binance', 'okx'],
    // Production defaults otherwise (OKX attached protection on: several take-profits go separately).
    env: { BREAK_EVEN_FEE_PCT: '0.05', BREAK_EVEN_WATCH_MS: '200' },
  });
  ({ pool, sim } = suite);
  // Its own queue prefix (so its own Redis locks): the break-even watch stays with the other workers.
  await suite.addWorker('binance', REST_ONLY, {
    LIVE_STATE: 'false',
    FILL_SYNC_INTERVAL_MS: '300',
    BREAK_EVEN_WATCH_MS: '0',
  });
  reconcilerQueue = suite.queue('binance', REST_ONLY);
});

afterAll(async () => {
  await suite?.close();
});

type Results = Record<string, unknown>;

const run = (a: SimAccount, fields: Omit<NormalisedSignal, 'account_id' | 'exchange'>, queue?: Queue) =>
  suite.run(a, fields, queue);
const account = (o: Parameters<typeof createSimAccount>[3]) =>
  createSimAccount(sim.url, pool, suite.publicKey, o);

const setPrice = (p: number) => simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });

interface Row {
  client_order_id: string;
  leg: string;
  status: string;
  amount: number;
  trigger_price: number | null;
}

async function protectiveRows(signalId: string): Promise<Row[]> {
  const { rows } = await pool.query<Row>(
    `SELECT client_order_id, leg, status, amount::float8 AS amount, trigger_price::float8 AS trigger_price
       FROM orders WHERE signal_id = $1 AND leg <> 'entry' ORDER BY created_at, client_order_id`,
    [signalId],
  );
  return rows;
}

async function results(signalId: string): Promise<Results> {
  const { rows } = await pool.query<{ result: { results: Results } }>(
    'SELECT result FROM signals WHERE id = $1',
    [signalId],
  );
  return rows[0]!.result.results;
}

const sortedQty = (algos: Array<{ qty: number | null }>) => algos.map((o) => o.qty).sort();

describe.each([
  ['binance', 'oneway'],
  ['okx', 'oneway'],
  ['binance', 'hedge'],
  ['okx', 'hedge'],
] as const)('%s %s: several take-profits', (exchange, positionMode) => {
  it('50/30/20 % take-profits, break-even after TP1, the stop resized after each, the rest cancelled when it fires', async () => {
    const a = await account({ exchange, positionMode });
    await setPrice(3000);
    const entry = await run(a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.5,
      stop_loss_pct: 5,
      take_profits: [
        { pct: 2, share: 50 },
        { pct: 4, share: 30 },
        { price: 3180, share: 20 },
      ],
      break_even: 'tp1',
    });
    expect(entry.status, entry.reason ?? '').toBe('executed');
    expect(entry.reason).toBeNull();
    const tps = entry.results['take_profits'] as Array<Record<string, unknown>>;
    expect(tps.map((t) => [t['index'], t['amount'], t['trigger_price']])).toEqual([
      [1, 0.25, 3060],
      [2, 0.15, 3120],
      [3, 0.1, 3180],
    ]);
    expect(entry.results['stop_loss']).toMatchObject({ trigger_price: 2850 });
    const placed = (await simAccount(sim.url, a)).open_algo_orders;
    expect(placed).toHaveLength(4);
    expect(placed.find((o) => o.sl_trigger !== null)).toMatchObject({ qty: 0.5, sl_trigger: 2850 });
    expect(sortedQty(placed.filter((o) => o.tp_trigger !== null))).toEqual([0.1, 0.15, 0.25]);

    // TP1 fills: 0.25 left; its stop is now at break-even (3000 + 2 × 0.05 % = 3003) for 0.25.
    await setPrice(3070);
    await expect
      .poll(async () => (await simAccount(sim.url, a)).open_algo_orders.find((o) => o.sl_trigger !== null), {
        timeout: 15_000,
      })
      .toMatchObject({ qty: 0.25, sl_trigger: 3003 });
    let view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.25 })]);
    expect(view.open_algo_orders).toHaveLength(3);
    await expect
      .poll(
        async () => (await protectiveRows(entry.signalId)).map((r) => `${r.leg}:${r.status}:${r.amount}`),
        {
          timeout: 10_000,
        },
      )
      .toEqual([
        'stop_loss:canceled:0.5',
        'take_profit:filled:0.25',
        'take_profit:open:0.15',
        'take_profit:open:0.1',
        'stop_loss:open:0.25',
      ]);
    await expect
      .poll(async () => (await results(entry.signalId))['after_take_profit_1'])
      .toMatchObject({
        remaining: 0.25,
        break_even: { stop: 3003 },
        stop_loss: [expect.objectContaining({ amount: 0.25, trigger_price: 3003, status: 'open' })],
      });

    // TP2 fills: 0.1 left, the stop (still at break-even) resized to it.
    await setPrice(3130);
    await expect
      .poll(async () => (await simAccount(sim.url, a)).open_algo_orders.find((o) => o.sl_trigger !== null), {
        timeout: 15_000,
      })
      .toMatchObject({ qty: 0.1, sl_trigger: 3003 });
    view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.1 })]);
    expect(sortedQty(view.open_algo_orders)).toEqual([0.1, 0.1]);

    // Back through break-even: the stop closes the rest at a small profit, and TP3 is cancelled.
    await setPrice(3000);
    await expect
      .poll(async () => (await simAccount(sim.url, a)).open_algo_orders, { timeout: 15_000 })
      .toEqual([]);
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
    await expect
      .poll(async () => (await protectiveRows(entry.signalId)).filter((r) => r.status === 'open'), {
        timeout: 10_000,
      })
      .toEqual([]);
  });
});

describe.each([
  ['binance', 'oneway'],
  ['okx', 'oneway'],
  ['okx', 'hedge'],
] as const)('%s %s: break_even_pct', (exchange, positionMode) => {
  it('once the price moved 1.5 % in favour, the stop moves to break-even; the take-profit stays', async () => {
    const a = await account({ exchange, positionMode });
    await setPrice(3000);
    const entry = await run(a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.2,
      stop_loss: 2900,
      take_profit: 3300,
      break_even_pct: 1.5,
    });
    expect(entry.status, entry.reason ?? '').toBe('executed');
    // Separate orders on OKX too: moving an attached OCO's stop would cancel its take-profit.
    expect((await simAccount(sim.url, a)).open_algo_orders).toHaveLength(2);
    const stop = async () =>
      (await simAccount(sim.url, a)).open_algo_orders.find((o) => o.sl_trigger !== null);

    await setPrice(3040); // +1.33 %: not yet
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stop()).toMatchObject({ qty: 0.2, sl_trigger: 2900 });

    await setPrice(3050); // +1.67 %: the stop goes to 3003
    await expect.poll(stop, { timeout: 10_000 }).toMatchObject({ qty: 0.2, sl_trigger: 3003 });
    const view = await simAccount(sim.url, a);
    expect(view.open_algo_orders).toHaveLength(2);
    expect(view.open_algo_orders.find((o) => o.tp_trigger !== null)).toMatchObject({ tp_trigger: 3300 });
    await expect
      .poll(async () => (await results(entry.signalId))['break_even'], { timeout: 5_000 })
      .toMatchObject({ stop: 3003, canceled_orders: [expect.any(String)] });
    expect(
      (await protectiveRows(entry.signalId)).map((r) => `${r.leg}:${r.status}:${r.trigger_price}`),
    ).toEqual(['stop_loss:canceled:2900', 'take_profit:open:3300', 'stop_loss:open:3003']);

    // Back down: the break-even stop closes the position and the take-profit is cancelled.
    await setPrice(3000);
    await expect
      .poll(async () => (await simAccount(sim.url, a)).open_algo_orders, { timeout: 15_000 })
      .toEqual([]);
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
  });
});

describe.each(['binance', 'okx'] as const)('%s take-profits refused or merged', (exchange) => {
  it('a share below the minimum amount is merged into its neighbour, and the answer says so', async () => {
    const a = await account({ exchange });
    await setPrice(3000);
    const entry = await run(a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.01,
      stop_loss: 2900,
      take_profits: [
        { pct: 1, share: 50 },
        { pct: 2, share: 5 },
      ],
    });
    expect(entry.status, entry.reason ?? '').toBe('executed');
    expect(entry.reason).toMatch(
      /take_profits\[2\] of 0\.0005 is below the minimum quantity 0\.001; merged into take_profits\[1\]/,
    );
    const tps = entry.results['take_profits'] as Array<Record<string, unknown>>;
    expect(tps.map((t) => [t['index'], t['amount']])).toEqual([[1, 0.005]]);
  });

  it('a take-profit price on the wrong side is refused before anything is sent', async () => {
    const a = await account({ exchange });
    await setPrice(3000);
    const entry = await run(a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      stop_loss: 2900,
      take_profits: [
        { price: 3100, share: 50 },
        { price: 2950, share: 50 },
      ],
    });
    // The decision price: the stream's last price (the simulator's 3000, or a moment-old one).
    expect({ status: entry.status, reason: entry.reason }).toEqual({
      status: 'failed',
      reason: expect.stringMatching(
        /^take_profits\[2\] 2950 must be above the entry price \([\d.]+\) for a long$/,
      ),
    });
    const view = await simAccount(sim.url, a);
    expect(view.positions).toEqual([]);
    expect(view.open_algo_orders).toEqual([]);
    expect(await protectiveRows(entry.signalId)).toEqual([]);
  });
});

describe('binance without streams', () => {
  it('the periodic fill sync finds the filled take-profit and moves the stop to break-even', async () => {
    // Its own account symbol state: the other workers do not know this account (it is only on this queue).
    const a = await account({ exchange: 'binance' });
    await setPrice(3000);
    const entry = await run(
      a,
      {
        action: 'long',
        symbol: ETH,
        quantity: 0.2,
        stop_loss: 2900,
        take_profits: [
          { price: 3050, share: 50 },
          { price: 3100, share: 50 },
        ],
        break_even: 'tp1',
      },
      reconcilerQueue,
    );
    expect(entry.status, entry.reason ?? '').toBe('executed');
    await setPrice(3060);
    await expect
      .poll(async () => (await simAccount(sim.url, a)).open_algo_orders.find((o) => o.sl_trigger !== null), {
        timeout: 15_000,
      })
      .toMatchObject({ qty: 0.1, sl_trigger: 3003 });
    await expect
      .poll(async () => (await results(entry.signalId))['after_take_profit_1'], { timeout: 5_000 })
      .toMatchObject({ remaining: 0.1, break_even: { stop: 3003 } });
  });
});
