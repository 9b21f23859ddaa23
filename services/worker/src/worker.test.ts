import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, insertFills, patchRiskLimits, setGlobalHalt, type pg } from '@tradehook/db';
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
  simOrders,
  waitForSignal,
  type SimAccount,
  startTestWorker,
} from '../test/support.ts';
import { ALL_SYMBOLS, type Exchange, type OrderJob } from '@tradehook/contracts';

/**
 * The worker in-process against the real simulator (real ccxt over HTTP), real Postgres and Redis, with
 * OrderJobs enqueued directly as risk would.
 */
const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';

let db: TestDatabase;
let pool: pg.Pool;
let sim: Simulator;
const prefix = testQueuePrefix();
const keys = generateCredentialsKeyPair();
const services: WorkerService[] = [];
const queues = new Map<Exchange, Queue>();
/**
 * OKX with OKX_ATTACHED_PROTECTION=false, for the tests whose point is the separate SL/TP orders placed after
 * the fill (a stop refused after the fill → retry or flatten); with protection attached OKX refuses the entry
 * itself instead (the last test of the file). Binance has only the separate path: its usual worker.
 */
const separatePrefix = `${prefix}-sep`;
const separateQueues = new Map<Exchange, Queue>();
const redis = createRedis(TEST_REDIS_URL, 'worker');

function startService(exchange: Exchange, queuePrefix: string, env: Record<string, string> = {}) {
  return startTestWorker({
    exchange,
    databaseUrl: db.url,
    redisUrl: TEST_REDIS_URL,
    simUrl: sim.url,
    queuePrefix,
    credentialsPrivateKey: keys.privateKey,
    name: `worker-${exchange}-test`,
    // Short request validity: an unanswered order is looked up for 2 s (1 s + skew) before it may be resent.
    env: { EXCHANGE_TIMEOUT_MS: '2000', EXCHANGE_RECV_WINDOW_MS: '1000', ...env },
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 4 });
  // The worker runs here without its request budget (EXCHANGE_RATE_LIMIT=false), so the simulator does not
  // count weight either; the budget against the real limits is rate-budget.test.ts.
  sim = await startSimulator({ rateLimits: { enabled: false } });
  for (const exchange of ['binance', 'okx'] as const) {
    services.push(await startService(exchange, prefix));
    queues.set(exchange, createQueue(ordersQueueName(exchange), redis, prefix));
  }
  services.push(await startService('okx', separatePrefix, { OKX_ATTACHED_PROTECTION: 'false' }));
  separateQueues.set('okx', createQueue(ordersQueueName('okx'), redis, separatePrefix));
  separateQueues.set('binance', queues.get('binance')!);
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  for (const q of queues.values()) await q.close();
  await separateQueues.get('okx')?.close();
  await deleteRedisPrefix(separatePrefix);
  redis.disconnect();
  await sim?.close();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

async function run(job: OrderJob) {
  await enqueueOrder(queues.get(job.signal.exchange)!, job);
  return waitForSignal(pool, job.signalId);
}

/** As run, on the separate-order path (OKX without attached protection). */
async function runSeparate(job: OrderJob) {
  await enqueueOrder(separateQueues.get(job.signal.exchange)!, job);
  return waitForSignal(pool, job.signalId);
}

async function orderRows(signalId: string) {
  const { rows } = await pool.query<{
    leg: string;
    status: string;
    client_order_id: string;
    exchange_order_id: string | null;
  }>(
    'SELECT leg, status, client_order_id, exchange_order_id FROM orders WHERE signal_id = $1 ORDER BY created_at, client_order_id',
    [signalId],
  );
  return rows;
}

const price = async (symbol: string) => {
  const res = (await (await fetch(`${sim.url}/_sim/prices`)).json()) as { prices: Record<string, number> };
  return res.prices[symbol.replace('/USDT:USDT', 'USDT')]!;
};

describe.each(['binance', 'okx'] as const)('%s worker', (exchange) => {
  let acct: SimAccount;
  beforeAll(async () => {
    acct = await createSimAccount(sim.url, pool, keys.publicKey, {
      exchange,
      autoSlTp: true,
      defaultLeverage: 5,
    });
  });

  it('opens a long with the given SL/TP, records orders and the guide result', async () => {
    const p = await price(BTC);
    const job = await approvedSignal(
      pool,
      acct,
      {
        action: 'long',
        symbol: BTC,
        quantity: 0.01,
        leverage: 10,
        stop_loss: Math.round(p * 0.95),
        take_profit: Math.round(p * 1.05),
      },
      { leverage: 10 },
    );
    const out = await run(job);
    expect(out.status, out.reason ?? '').toBe('executed');
    expect(out.result).toMatchObject({
      success: true,
      exchange,
      account_id: acct.accountId,
      action: 'long',
      results: {
        leverage: { leverage: 10 },
        entry: { side: 'buy', filled: 0.01, status: 'closed' },
        stop_loss: { trigger_price: Math.round(p * 0.95) },
        take_profit: { trigger_price: Math.round(p * 1.05) },
      },
    });
    const view = await simAccount(sim.url, acct);
    expect(view.positions).toEqual([expect.objectContaining({ qty: 0.01 })]);
    // OKX: attached to the entry, booked as one OCO algo order with both triggers.
    expect(view.open_algo_orders.map((a) => [a.sl_trigger, a.tp_trigger]).sort()).toEqual(
      exchange === 'okx'
        ? [[Math.round(p * 0.95), Math.round(p * 1.05)]]
        : [
            [Math.round(p * 0.95), null],
            [null, Math.round(p * 1.05)],
          ].sort(),
    );
    const rows = await orderRows(job.signalId);
    expect(rows.map((r) => [r.leg, r.status])).toEqual([
      ['entry', 'filled'],
      ['stop_loss', 'open'],
      ['take_profit', 'open'],
    ]);
  });

  it('ignores a second long (adding is off) and rejects an SL on the wrong side', async () => {
    const again = await run(
      await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.01 }),
    );
    expect(again.status).toBe('ignored');
    expect(again.reason).toMatch(/already long/);
    const p = await price(ETH);
    const bad = await run(
      await approvedSignal(pool, acct, { action: 'short', symbol: ETH, quantity: 0.1, stop_loss: p * 0.9 }),
    );
    expect(bad.status).toBe('failed');
    expect(bad.reason).toMatch(/stop_loss .* must be above the entry price/);
  });

  it('flips long → short: closes the long, cancels its SL/TP, opens the short with ATR SL/TP', async () => {
    const job = await approvedSignal(pool, acct, { action: 'short', symbol: BTC, quantity: 0.02 });
    const out = await run(job);
    expect(out.status, out.reason ?? '').toBe('executed');
    const results = out.result!['results'] as Record<string, { trigger_price?: number }>;
    expect(results['closed']).toEqual([expect.objectContaining({ side: 'sell', filled: 0.01 })]);
    const p = await price(BTC);
    expect(results['stop_loss']!.trigger_price).toBeGreaterThan(p);
    expect(results['take_profit']!.trigger_price).toBeLessThan(p);
    const view = await simAccount(sim.url, acct);
    expect(view.positions).toEqual([expect.objectContaining({ qty: -0.02 })]);
    expect(view.open_algo_orders).toHaveLength(exchange === 'okx' ? 1 : 2); // OKX: one OCO (attached)
    expect(view.open_algo_orders.every((a) => a.side === 'buy')).toBe(true);
  });

  it('close_short closes and cancels its SL/TP; close_long with no position is a recorded no-op', async () => {
    const out = await run(await approvedSignal(pool, acct, { action: 'close_short', symbol: BTC }));
    expect(out.status, out.reason ?? '').toBe('executed');
    // The closing order is listed once, under `closed` (as close_all answers).
    const results = out.result!['results'] as Record<string, unknown>;
    expect(Object.keys(results).sort()).toEqual(['canceled_orders', 'closed', 'state']);
    expect(results['closed']).toEqual([expect.objectContaining({ side: 'buy', filled: 0.02 })]);
    const view = await simAccount(sim.url, acct);
    expect(view.positions).toEqual([]);
    expect(view.open_algo_orders).toEqual([]);
    const none = await run(await approvedSignal(pool, acct, { action: 'close_long', symbol: BTC }));
    expect(none.status).toBe('ignored');
    expect(none.reason).toMatch(/no long position to close/);
  });

  it('close_all closes every position and cancels every open order, conditional ones included', async () => {
    const p = await price(ETH);
    expect(
      (await run(await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.01 }))).status,
    ).toBe('executed');
    expect(
      (
        await run(
          await approvedSignal(pool, acct, {
            action: 'short',
            symbol: ETH,
            quantity: 0.1,
            stop_loss: p * 1.1,
          }),
        )
      ).status,
    ).toBe('executed');
    const before = await simAccount(sim.url, acct);
    expect(before.positions).toHaveLength(2);
    // OKX: the BTC entry's ATR SL+TP are one OCO (attached).
    expect(before.open_algo_orders.length).toBeGreaterThanOrEqual(exchange === 'okx' ? 2 : 3);
    // The emergency exit names no symbol and answers with every symbol it closed.
    const out = await run(await approvedSignal(pool, acct, { action: 'close_all', symbol: ALL_SYMBOLS }));
    expect(out.status, out.reason ?? '').toBe('executed');
    expect(out.result).toMatchObject({ symbol: ALL_SYMBOLS, symbols: [BTC, ETH] });
    const closed = (out.result!['results'] as { closed: Array<{ symbol: string }> }).closed;
    expect(closed.map((c) => c.symbol)).toEqual([BTC, ETH]);
    const after = await simAccount(sim.url, acct);
    expect(after.positions).toEqual([]);
    expect(after.open_algo_orders).toEqual([]);
  });

  it('a flip whose entry is refused keeps the close it made visible on the failed signal', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, balance: 1_000 });
    expect(
      (await run(await approvedSignal(pool, a, { action: 'long', symbol: ETH, quantity: 0.1 }))).status,
    ).toBe('executed');
    const out = await run(await approvedSignal(pool, a, { action: 'short', symbol: ETH, quantity: 100 }));
    expect(out.status).toBe('failed');
    expect(out.reason).toMatch(/InsufficientFunds/);
    const legs = (out.result!['results'] as { orders: Array<{ leg: string; status: string }> }).orders;
    expect(legs.map((l) => [l.leg, l.status])).toEqual([
      ['exit', 'filled'],
      ['entry', 'rejected'],
    ]);
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
  });

  it('refuses sizes below the minimum and entries beyond the balance with clear reasons', async () => {
    const tiny = await run(
      await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.00001 }),
    );
    expect(tiny.status).toBe('failed');
    expect(tiny.reason).toMatch(/rounds to zero|below the minimum/);
    if (exchange === 'binance') {
      const small = await run(
        await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 0.001 }),
      );
      expect(small.status).toBe('failed');
      expect(small.reason).toMatch(/below the minimum notional/);
    }
    const big = await run(await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity: 50 }));
    expect(big.status).toBe('failed');
    expect(big.reason).toMatch(/InsufficientFunds/);
    const capped = await run(
      await approvedSignal(
        pool,
        acct,
        { action: 'long', symbol: BTC, quantity: 0.1 },
        { maxPositionNotional: 1000 },
      ),
    );
    expect(capped.status).toBe('failed');
    expect(capped.reason).toMatch(/exceed the limit of 1000/);
  });

  it('sizes an entry without quantity at 10 % of the balance × leverage, capped by maxPositionNotional', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, balance: 10_000 });
    const p = await price(ETH);
    const out = await run(await approvedSignal(pool, a, { action: 'long', symbol: ETH }, { leverage: 2 }));
    expect(out.status, out.reason ?? '').toBe('executed');
    const filled = (out.result!['results'] as { entry: { filled: number } }).entry.filled;
    expect(filled * p).toBeGreaterThan(1900);
    expect(filled * p).toBeLessThanOrEqual(2000.01);
    const b = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, balance: 10_000 });
    const capped = await run(
      await approvedSignal(
        pool,
        b,
        { action: 'long', symbol: ETH },
        { leverage: 2, maxPositionNotional: 500 },
      ),
    );
    expect(capped.status, capped.reason ?? '').toBe('executed');
    const cappedFilled = (capped.result!['results'] as { entry: { filled: number } }).entry.filled;
    expect(cappedFilled * p).toBeLessThanOrEqual(500.01);
  });

  it('hedge mode: sends the position side; a short closes the long leg first', async () => {
    const h = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, positionMode: 'hedge' });
    expect(
      (await run(await approvedSignal(pool, h, { action: 'long', symbol: BTC, quantity: 0.01 }))).status,
    ).toBe('executed');
    let view = await simAccount(sim.url, h);
    expect(view.positions).toEqual([expect.objectContaining({ position_side: 'long', qty: 0.01 })]);
    const out = await run(await approvedSignal(pool, h, { action: 'short', symbol: BTC, quantity: 0.01 }));
    expect(out.status, out.reason ?? '').toBe('executed');
    view = await simAccount(sim.url, h);
    expect(view.positions).toEqual([expect.objectContaining({ position_side: 'short', qty: -0.01 })]);
    const close = await run(await approvedSignal(pool, h, { action: 'close_short', symbol: BTC }));
    expect(close.status).toBe('executed');
    expect((await simAccount(sim.url, h)).positions).toEqual([]);
  });

  it('isolated margin in hedge mode sets margin mode and per-leg leverage', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, {
      exchange,
      positionMode: 'hedge',
      marginMode: 'isolated',
    });
    const out = await run(
      await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 }, { leverage: 7 }),
    );
    expect(out.status, out.reason ?? '').toBe('executed');
    expect(out.result!['results']).toMatchObject({ leverage: { leverage: 7, margin_mode: 'isolated' } });
    const view = (await simAccount(sim.url, a)) as unknown as {
      settings: Record<string, { leverage: number; margin_mode: string }>;
    };
    expect(view.settings['BTCUSDT']).toMatchObject({
      leverage: 7,
      ...(exchange === 'binance' ? { margin_mode: 'isolated' } : {}),
    });
  });

  it('retries 5xx, 429 and a dropped response without a second order', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const orderPath = exchange === 'binance' ? '/fapi/v1/order' : '/api/v5/trade/batch-orders';
    const clockSkew = exchange === 'binance' ? -1021 : 50102; // InvalidNonce: re-sync the clock, retry
    for (const kind of ['http5xx', 'rate_limit', 'drop_after_accept', 'error_code'] as const) {
      await simControl(sim.url, 'faults', {
        exchange,
        method: 'POST',
        path: orderPath,
        kind,
        count: 1,
        ...(kind === 'error_code'
          ? { code: clockSkew, msg: 'Timestamp for this request is outside of the recvWindow.' }
          : {}),
      });
      const side = kind === 'rate_limit' || kind === 'error_code' ? 'close_long' : 'long';
      const job = await approvedSignal(pool, a, { action: side, symbol: BTC, quantity: 0.01 });
      const out = await run(job);
      expect(out.status, `${kind}: ${out.reason}`).toBe('executed');
    }
    const orders = (await simOrders(sim.url, a)).filter((o) => o['kind'] === 'order');
    // long (after 5xx), close (after 429), long (response dropped, adopted on retry), close (after clock skew):
    // four orders, no duplicates.
    expect(orders.map((o) => o['side'])).toEqual(['buy', 'sell', 'buy', 'sell']);
    expect(new Set(orders.map((o) => o['client_id'])).size).toBe(4);
  });

  it('a fault that outlasts every attempt ends the signal failed, never left executing', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const orderPath = exchange === 'binance' ? '/fapi/v1/order' : '/api/v5/trade/batch-orders';
    await simControl(sim.url, 'faults', {
      exchange,
      method: 'POST',
      path: orderPath,
      kind: 'http5xx',
      count: 5,
    });
    const out = await run(await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 }));
    expect(out.status).toBe('failed');
    expect(out.reason).toMatch(/gave up after 5 attempts/);
    expect(await simOrders(sim.url, a)).toEqual([]);
    await simControl(sim.url, 'faults', {}, 'DELETE');
  });

  it('runs the jobs of one (account, symbol) in sequence order even when enqueued in reverse', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const jobs = [
      await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 }),
      await approvedSignal(pool, a, { action: 'close_long', symbol: BTC }),
      await approvedSignal(pool, a, { action: 'short', symbol: BTC, quantity: 0.02 }),
      await approvedSignal(pool, a, { action: 'close_short', symbol: BTC }),
    ];
    for (const job of [...jobs].reverse()) await enqueueOrder(queues.get(exchange)!, job);
    for (const job of jobs) expect((await waitForSignal(pool, job.signalId)).status).toBe('executed');
    const orders = (await simOrders(sim.url, a)).filter((o) => o['kind'] === 'order');
    expect(orders.map((o) => `${o['side']}:${o['qty']}`)).toEqual([
      'buy:0.01',
      'sell:0.01',
      'sell:0.02',
      'buy:0.02',
    ]);
  });

  it('close_all waits for an earlier signal of the same account on another symbol', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const earlier = await approvedSignal(pool, a, { action: 'long', symbol: ETH, quantity: 0.1 });
    const closeAll = await approvedSignal(pool, a, { action: 'close_all', symbol: BTC });
    // The close_all reaches the queue first; it must still run after the ETH entry it came after.
    await enqueueOrder(queues.get(exchange)!, closeAll);
    await new Promise((r) => setTimeout(r, 150));
    await enqueueOrder(queues.get(exchange)!, earlier);
    expect((await waitForSignal(pool, earlier.signalId)).status).toBe('executed');
    const out = await waitForSignal(pool, closeAll.signalId);
    expect(out.status, out.reason ?? '').toBe('executed');
    expect(out.reason).toBeNull();
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
  });

  it('a stuck predecessor is failed after ORDER_GATE_TIMEOUT_MS and its successors then run in order, one at a time', async () => {
    // A service of its own with a short gate timeout (the shared ones keep the default, so load cannot reorder).
    const ownPrefix = testQueuePrefix();
    const service = await startService(exchange, ownPrefix, { ORDER_GATE_TIMEOUT_MS: '1000' });
    const queue = createQueue(ordersQueueName(exchange), redis, ownPrefix);
    try {
      const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
      const stuck = await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 }); // never enqueued
      const second = await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 });
      const third = await approvedSignal(pool, a, { action: 'close_long', symbol: BTC });
      // The third is ready first: it must still wait for the second, not only for the stuck one.
      await enqueueOrder(queue, third);
      await enqueueOrder(queue, second);
      const out3 = await waitForSignal(pool, third.signalId);
      const out2 = await waitForSignal(pool, second.signalId);
      expect(out2.status, out2.reason ?? '').toBe('executed');
      expect(out2.reason).toContain(`earlier signal ${stuck.signalId}`);
      expect(out3.status, out3.reason ?? '').toBe('executed');
      const { rows } = await pool.query(
        `SELECT id, status, reason, completed_at FROM signals WHERE id = ANY($1::uuid[])`,
        [[stuck.signalId, second.signalId, third.signalId]],
      );
      const byId = new Map(rows.map((r) => [r.id as string, r]));
      expect(byId.get(stuck.signalId)?.status).toBe('failed');
      expect(byId.get(stuck.signalId)?.reason).toMatch(/^stuck: .*nothing of it was sent/);
      expect(byId.get(second.signalId)!.completed_at <= byId.get(third.signalId)!.completed_at).toBe(true);
      // The close ran after the entry it closes: nothing left open (out of order it would have left 0.01).
      expect((await simAccount(sim.url, a)).positions).toEqual([]);
    } finally {
      await queue.close();
      await service.stop();
      await deleteRedisPrefix(ownPrefix);
    }
  });

  it('hedge mode places SL/TP on the position leg; maxOpenPositions refuses a new position', async () => {
    const h = await createSimAccount(sim.url, pool, keys.publicKey, {
      exchange,
      positionMode: 'hedge',
      autoSlTp: true,
    });
    const out = await run(await approvedSignal(pool, h, { action: 'short', symbol: ETH, quantity: 0.1 }));
    expect(out.status, out.reason ?? '').toBe('executed');
    const view = await simAccount(sim.url, h);
    expect(view.open_algo_orders).toHaveLength(exchange === 'okx' ? 1 : 2); // OKX: one OCO (attached)
    expect(view.open_algo_orders.every((o) => o.side === 'buy')).toBe(true);
    const limited = await run(
      await approvedSignal(pool, h, { action: 'long', symbol: BTC, quantity: 0.01 }, { maxOpenPositions: 1 }),
    );
    expect(limited.status).toBe('failed');
    expect(limited.reason).toMatch(/2 open positions; the limit is 1/);
    const all = await run(await approvedSignal(pool, h, { action: 'close_all', symbol: ETH }));
    expect(all.status, all.reason ?? '').toBe('executed');
    const after = await simAccount(sim.url, h);
    expect(after.positions).toEqual([]);
    expect(after.open_algo_orders).toEqual([]);
  });

  it('refuses an entry at execution when a halt was set after approval; an exit under the halt still runs', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    expect(
      (await run(await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 }))).status,
    ).toBe('executed');
    // Both approved by risk before the halt; the flip would close the long and open a short if it ran.
    const entry = await approvedSignal(pool, a, { action: 'short', symbol: BTC, quantity: 0.01 });
    const exit = await approvedSignal(pool, a, { action: 'close_long', symbol: BTC });
    await setGlobalHalt(pool, { halted: true, reason: 'worker test', since: new Date().toISOString() });
    try {
      await enqueueOrder(queues.get(exchange)!, entry);
      await enqueueOrder(queues.get(exchange)!, exit);
      const refused = await waitForSignal(pool, entry.signalId);
      expect(refused.status).toBe('rejected');
      expect(refused.reason).toMatch(
        /^rejected at execution: halted: trading is halted for all accounts \(worker test\)/,
      );
      expect(refused.result).toMatchObject({
        success: false,
        exchange,
        account_id: a.accountId,
        action: 'short',
        results: {},
        error: refused.reason,
      });
      const closed = await waitForSignal(pool, exit.signalId);
      expect(closed.status, closed.reason ?? '').toBe('executed');
    } finally {
      await setGlobalHalt(pool, { halted: false, reason: null, since: null });
    }
    expect(await orderRows(entry.signalId)).toEqual([]);
    const orders = (await simOrders(sim.url, a)).filter((o) => o['kind'] === 'order');
    expect(orders.map((o) => `${o['side']}:${o['qty']}`)).toEqual(['buy:0.01', 'sell:0.01']);
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
  });

  it('refuses an entry at execution when a loss realised after approval reached the daily loss cap', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id FROM accounts WHERE exchange = $1 AND account_id = $2',
      [exchange, a.accountId],
    );
    await patchRiskLimits(pool, rows[0]!.id, { daily_loss_cap: 100 });
    const entry = await approvedSignal(pool, a, { action: 'long', symbol: ETH, quantity: 0.1 });
    // What the fill sync records for a close that ran between approval and execution: -150 realised, 1 fee.
    await insertFills(pool, exchange, a.accountId, [
      {
        tradeId: `loss-${entry.signalId}`,
        exchangeOrderId: null,
        clientOrderId: null,
        symbol: ETH,
        side: 'sell',
        price: 2000,
        amount: 1,
        fee: 1,
        feeAsset: 'USDT',
        realizedPnl: -150,
        time: new Date(),
      },
    ]);
    const out = await run(entry);
    expect(out.status).toBe('rejected');
    expect(out.reason).toMatch(
      /^rejected at execution: daily_loss_cap_reached: today's realised PnL .* is -151\.00 USDT/,
    );
    expect(await orderRows(entry.signalId)).toEqual([]);
    expect(await simOrders(sim.url, a)).toEqual([]);
  });

  it('survives Postgres ending its connections (administrator command) and executes the next signal', async () => {
    // Every pg connection of this test database: the workers' pools and this test's own (all idle now).
    // Without an 'error' listener on a pool this is an uncaught exception that kills the worker process.
    const admin = createPgPool(db.url, { max: 1 });
    try {
      await pool.query('SELECT 1'); // keep an idle client of the test pool too
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    await new Promise((r) => setTimeout(r, 100));
    const job = await approvedSignal(pool, acct, { action: 'close_long', symbol: BTC });
    const result = await run(job);
    expect(['executed', 'ignored']).toContain(result.status);
  });

  it('answers status and verify requests', async () => {
    const { createAccountRequestProcessor } = await import('./jobs/account-requests.ts');
    void createAccountRequestProcessor;
    const q = createQueue(`account-requests-${exchange}`, redis, prefix);
    const { QueueEvents } = await import('bullmq');
    const events = new QueueEvents(`account-requests-${exchange}`, {
      connection: createRedis(TEST_REDIS_URL, 'worker'),
      prefix,
    });
    await events.waitUntilReady();
    try {
      const status = await q.add('status', {
        kind: 'status',
        exchange,
        accountId: acct.accountId,
        requestId: 'r1',
      });
      const st = (await status.waitUntilFinished(events, 10_000)) as {
        balance: { asset: string; total_balance: number };
      };
      expect(st.balance.asset).toBe('USDT');
      expect(st.balance.total_balance).toBeGreaterThan(0);
      const verify = await q.add('verify', {
        kind: 'verify',
        exchange,
        accountId: acct.accountId,
        requestId: 'r2',
      });
      const check = (await verify.waitUntilFinished(events, 10_000)) as {
        ok: boolean;
        canRead: boolean;
        positionMode: string;
      };
      expect(check).toMatchObject({ canRead: true, positionMode: 'oneway' });
      const { rows } = await pool.query(
        'SELECT key_check FROM accounts WHERE exchange = $1 AND account_id = $2',
        [exchange, acct.accountId],
      );
      expect(rows[0].key_check).toMatchObject({ canRead: true, positionMode: 'oneway' });
    } finally {
      await events.close();
      await q.close();
    }
  });

  it('fill sync records an SL fired on the exchange with its realised loss', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const p = await price(ETH);
    const job = await approvedSignal(pool, a, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      stop_loss: Math.round(p * 0.98),
      take_profit: Math.round(p * 1.05),
    });
    expect((await run(job)).status).toBe('executed');
    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: Math.round(p * 0.97) });
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
    const service = services.find((s) => s.config.EXCHANGE === exchange)!;
    await new Promise((r) => setTimeout(r, 300)); // let the post-execution fill recording settle
    await service.fillSync.syncAll();
    const { rows } = await pool.query<{ side: string; realized_pnl: string }>(
      'SELECT side, realized_pnl FROM fills WHERE exchange = $1 AND account_id = $2 ORDER BY time',
      [exchange, a.accountId],
    );
    expect(rows.map((r) => r.side)).toEqual(['buy', 'sell']);
    expect(Number(rows[1]!.realized_pnl)).toBeLessThan(0);
    // The TP left behind by the fired SL is ours and orphaned: cancelled at the exchange and in orders.
    expect((await simAccount(sim.url, a)).open_algo_orders).toEqual([]);
    const tp = await pool.query("SELECT status FROM orders WHERE signal_id = $1 AND leg = 'take_profit'", [
      job.signalId,
    ]);
    expect(tp.rows[0].status).toBe('canceled');
    const sl = await pool.query("SELECT status FROM orders WHERE signal_id = $1 AND leg = 'stop_loss'", [
      job.signalId,
    ]);
    expect(sl.rows[0].status).toBe('filled');
    await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });
  });
});

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

describe.each(['binance', 'okx'] as const)('%s worker hot path', (exchange) => {
  it('pre-warms accounts after start; entries on one symbol share one candle read', async () => {
    const acct = await createSimAccount(sim.url, pool, keys.publicKey, {
      exchange,
      autoSlTp: true,
      allowAdd: true,
    });
    const positionModeReads = await countRequests(
      exchange,
      exchange === 'binance' ? 'accountConfig' : 'account/config',
    );
    const bracketReads = await countRequests(exchange, 'leverageBracket');
    const candleReads = await countRequests(exchange, exchange === 'binance' ? '/klines' : '/candles');
    const ownPrefix = testQueuePrefix();
    const service = await startService(exchange, ownPrefix);
    const queue = createQueue(ordersQueueName(exchange), redis, ownPrefix);
    try {
      const summary = await service.prewarmed();
      expect(summary?.prepared).toBeGreaterThanOrEqual(1);
      expect(service.registry.cached(acct.accountId)).not.toBeNull();
      const modeReadsAtStart = await positionModeReads();
      const bracketReadsAtStart = await bracketReads();
      expect(modeReadsAtStart).toBeGreaterThanOrEqual(1);
      if (exchange === 'binance') expect(bracketReadsAtStart).toBeGreaterThanOrEqual(1);
      // After the pre-warm its private streams start too, before any alert of the account.
      const ctx = service.registry.cached(acct.accountId)!;
      await expect.poll(() => ctx.live?.freshness(Date.now()).confirmedAt, { timeout: 10_000 }).toBeDefined();

      for (const quantity of [0.01, 0.02]) {
        const job = await approvedSignal(pool, acct, { action: 'long', symbol: BTC, quantity });
        await enqueueOrder(queue, job);
        const out = await waitForSignal(pool, job.signalId);
        expect(out.status, out.reason ?? '').toBe('executed');
        expect(out.result).toMatchObject({ results: { atr: {}, stop_loss: {}, take_profit: {} } });
      }
      // The first job found the account ready: no position-mode or bracket read on its way to the order.
      expect(await positionModeReads()).toBe(modeReadsAtStart);
      expect(await bracketReads()).toBe(bracketReadsAtStart);
      expect(await candleReads()).toBe(1);
    } finally {
      await simControl(sim.url, 'faults', {}, 'DELETE');
      await service.stop();
      await queue.close();
      await deleteRedisPrefix(ownPrefix);
    }
  });

  it('after a restart the price feed follows the symbols the accounts traded, before their first alert', async () => {
    const acct = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const ownPrefix = testQueuePrefix();
    const queue = createQueue(ordersQueueName(exchange), redis, ownPrefix);
    const ETH = 'ETH/USDT:USDT';
    try {
      const first = await startService(exchange, ownPrefix);
      try {
        const job = await approvedSignal(pool, acct, { action: 'long', symbol: ETH, quantity: 0.05 });
        await enqueueOrder(queue, job);
        expect((await waitForSignal(pool, job.signalId)).status).toBe('executed');
      } finally {
        await first.stop(); // its price feeds stop with it
      }
      const again = await startService(exchange, ownPrefix);
      try {
        await again.prewarmed();
        const ctx = again.registry.cached(acct.accountId)!;
        // latest() only reads (livePrice would start following the symbol itself).
        await expect
          .poll(() => ctx.prices?.latest(ETH, 5_000)?.price, { timeout: 10_000 })
          .toBeGreaterThan(0);
      } finally {
        await again.stop();
      }
    } finally {
      await queue.close();
      await deleteRedisPrefix(ownPrefix);
    }
  });

  /** The exchange's own refusal of the next `count` conditional orders (Binance -2021, OKX 51280). */
  const refuseConditionals = (count: number) =>
    simControl(sim.url, 'faults', {
      exchange,
      path: exchange === 'binance' ? 'algoOrder' : 'order-algo',
      method: 'POST',
      kind: 'error_code',
      code: exchange === 'binance' ? -2021 : 51280,
      msg:
        exchange === 'binance'
          ? 'Order would immediately trigger.'
          : 'SL trigger price cannot be higher than the last price',
      count,
    });

  it('protected or flat: a refused stop-loss closes the entry at once and fails the signal with the reason', async () => {
    const acct = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const p = await price(ETH);
    const job = await approvedSignal(pool, acct, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      stop_loss: Math.round(p * 0.95),
      take_profit: Math.round(p * 1.05),
    });
    // Both protective orders leave together; refuse both so the stop is refused for sure.
    await refuseConditionals(2);
    try {
      const out = await runSeparate(job);
      expect(out.status, out.reason ?? '').toBe('failed');
      expect(out.reason).toMatch(/^unprotected → flattened: stop_loss not placed: /);
      const rows = await orderRows(job.signalId);
      expect(rows.find((r) => r.leg === 'entry')?.status).toBe('filled');
      expect(rows.find((r) => r.leg === 'flatten')?.status).toBe('filled');
      const state = await simAccount(sim.url, acct);
      expect(state.positions).toEqual([]);
      expect(state.open_algo_orders).toEqual([]);
    } finally {
      await simControl(sim.url, 'faults', {}, 'DELETE');
    }
  });

  it('an add whose stop is refused flattens only the add: the earlier entry keeps its own SL and TP', async () => {
    const acct = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, allowAdd: true });
    const p = await price(ETH);
    const levels = { stop_loss: Math.round(p * 0.95), take_profit: Math.round(p * 1.05) };
    const first = await approvedSignal(pool, acct, { action: 'long', symbol: ETH, quantity: 0.1, ...levels });
    const opened = await runSeparate(first);
    expect(opened.status, opened.reason ?? '').toBe('executed');
    const before = await simAccount(sim.url, acct);
    expect(before.open_algo_orders).toHaveLength(2);
    const add = await approvedSignal(pool, acct, { action: 'long', symbol: ETH, quantity: 0.05, ...levels });
    // Only the add's stop is refused: its take-profit is placed, and must be the only leg cancelled.
    await simControl(sim.url, 'faults', {
      exchange,
      path: exchange === 'binance' ? 'algoOrder' : 'order-algo',
      method: 'POST',
      request_contains: exchange === 'binance' ? 'type=STOP_MARKET' : 'slTriggerPx',
      kind: 'error_code',
      code: exchange === 'binance' ? -4045 : 51280,
      msg:
        exchange === 'binance'
          ? 'Reach max stop order limit.'
          : 'SL trigger price cannot be higher than the last price',
    });
    try {
      const out = await runSeparate(add);
      expect(out.status, out.reason ?? '').toBe('failed');
      expect(out.reason).toMatch(/^unprotected → flattened: stop_loss not placed: /);
      const state = await simAccount(sim.url, acct);
      // The first entry's position and both of its legs are untouched: only the add was closed.
      const open = (v: typeof state) => v.positions.filter((q) => q.qty !== 0).map((q) => q.qty);
      expect(open(state)).toEqual(open(before));
      expect(state.open_algo_orders).toEqual(before.open_algo_orders);
      const legs = await orderRows(add.signalId);
      expect(legs.find((r) => r.leg === 'take_profit')?.status).toBe('canceled');
    } finally {
      await simControl(sim.url, 'faults', {}, 'DELETE');
    }
  });

  it('a stop the market passed before the fill is placed at the alert’s distance from the fill instead', async () => {
    const acct = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const p = await price(ETH);
    const stop = Math.round(p * 0.99);
    const job = await approvedSignal(pool, acct, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      price: p,
      stop_loss: stop,
    });
    // The entry reaches the exchange 400 ms late; meanwhile the market falls below the alert's stop.
    await simControl(sim.url, 'faults', {
      exchange,
      method: 'POST',
      path: exchange === 'binance' ? '/fapi/v1/order' : '/api/v5/trade/batch-orders',
      kind: 'latency',
      latency_ms: 400,
    });
    try {
      await enqueueOrder(separateQueues.get(exchange)!, job);
      for (let i = 0; i < 200; i++) {
        const { faults } = (await simControl(sim.url, 'faults', undefined, 'GET')) as { faults: unknown[] };
        if (faults.length === 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const fallen = Math.round(p * 0.985 * 100) / 100;
      await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: fallen });
      const out = await waitForSignal(pool, job.signalId);
      expect(out.status, out.reason ?? '').toBe('executed');
      expect(out.reason).toMatch(/already through the market/);
      const results = (out.result as { results: Record<string, Record<string, unknown>> }).results;
      const fill = Number(results['entry']!['average_price']);
      expect(fill).toBeCloseTo(fallen, 1);
      expect(Number(results['stop_loss']!['trigger_price'])).toBeCloseTo(fill - (p - stop), 1);
      const state = await simAccount(sim.url, acct);
      expect(state.positions).toHaveLength(1);
      expect(state.open_algo_orders).toHaveLength(1);
    } finally {
      await simControl(sim.url, 'faults', {}, 'DELETE');
      await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });
    }
  });

  it('an account set to keep an unprotected entry keeps it and reports the refused stop', async () => {
    const acct = await createSimAccount(sim.url, pool, keys.publicKey, {
      exchange,
      unprotectedPolicy: 'keep',
    });
    const p = await price(ETH);
    const job = await approvedSignal(pool, acct, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      stop_loss: Math.round(p * 0.95),
    });
    await refuseConditionals(1);
    try {
      const out = await runSeparate(job);
      expect(out.status, out.reason ?? '').toBe('executed');
      expect(out.reason).toMatch(/stop_loss not placed/);
      expect((await orderRows(job.signalId)).some((r) => r.leg === 'flatten')).toBe(false);
      expect((await simAccount(sim.url, acct)).positions).toHaveLength(1);
    } finally {
      await simControl(sim.url, 'faults', {}, 'DELETE');
    }
  });

  it('a refused take-profit keeps the entry (its stop protects it) and reports the refusal', async () => {
    const acct = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const p = await price(ETH);
    const job = await approvedSignal(pool, acct, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      take_profit: Math.round(p * 1.05),
    });
    await refuseConditionals(1);
    try {
      const out = await runSeparate(job);
      expect(out.status, out.reason ?? '').toBe('executed');
      expect(out.reason).toMatch(/take_profit not placed/);
      expect((await orderRows(job.signalId)).find((r) => r.leg === 'take_profit')?.status).toBe('rejected');
    } finally {
      await simControl(sim.url, 'faults', {}, 'DELETE');
    }
  });
});

describe('okx attached protection', () => {
  it('a stop the market passed before the entry arrived refuses the entry itself (51051): failed and flat', async () => {
    const acct = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'okx' });
    const p = await price(ETH);
    const job = await approvedSignal(pool, acct, {
      action: 'long',
      symbol: ETH,
      quantity: 0.1,
      stop_loss: Math.round(p * 0.99),
      take_profit: Math.round(p * 1.05),
    });
    // The entry (SL/TP attached, one request) reaches the exchange late; meanwhile the market falls below the stop.
    await simControl(sim.url, 'faults', {
      exchange: 'okx',
      method: 'POST',
      path: '/api/v5/trade/batch-orders', // ccxt sends OKX's single order there
      kind: 'latency',
      latency_ms: 400,
    });
    try {
      await enqueueOrder(queues.get('okx')!, job);
      for (let i = 0; i < 200; i++) {
        const { faults } = (await simControl(sim.url, 'faults', undefined, 'GET')) as { faults: unknown[] };
        if (faults.length === 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: Math.round(p * 0.985 * 100) / 100 });
      const out = await waitForSignal(pool, job.signalId);
      expect(out.status).toBe('failed');
      expect(out.reason).toMatch(/51051/);
      const rows = await orderRows(job.signalId);
      expect(rows.find((r) => r.leg === 'entry')?.status).toBe('rejected');
      expect(rows.some((r) => r.leg === 'flatten')).toBe(false);
      const state = await simAccount(sim.url, acct);
      expect(state.positions).toEqual([]);
      expect(state.open_algo_orders).toEqual([]);
    } finally {
      await simControl(sim.url, 'faults', {}, 'DELETE');
      await simControl(sim.url, 'price', { symbol: 'ETHUSDT', price: p });
    }
  });
});
