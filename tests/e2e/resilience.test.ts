import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2EHarness, type E2EAccount, type Exchange, type JsonBody } from './harness.ts';

/**
 * Real worker processes: several replicas keep per-(account, symbol) order under interleaved load, and a
 * worker SIGKILLed while its order is on the wire does not produce a second order when the job is re-run.
 */
let h: E2EHarness;

beforeAll(async () => {
  h = await E2EHarness.start({ workers: { binance: 3, okx: 1 }, env: { FILL_SYNC_INTERVAL_MS: '0' } });
}, 120_000);

afterAll(async () => {
  await h?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds (bounded by wall time, not by a count of polls). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe('ordering with three worker processes', () => {
  it('executes every (account, symbol) key in signal order under interleaved signals', async () => {
    const a1 = await h.registerAccount('binance', { settings: { auto_sl_tp: false } });
    const a2 = await h.registerAccount('binance', { settings: { auto_sl_tp: false } });
    const keys: Array<{ account: E2EAccount; symbol: string; qty: number }> = [
      { account: a1, symbol: 'BTCUSDT', qty: 0.01 },
      { account: a1, symbol: 'ETHUSDT', qty: 0.1 },
      { account: a2, symbol: 'BTCUSDT', qty: 0.01 },
      { account: a2, symbol: 'SOLUSDT', qty: 1 },
    ];
    const actions = ['long', 'close_long', 'short', 'close_short', 'long', 'close_long'];
    const expected = ['buy', 'sell', 'sell', 'buy', 'buy', 'sell'];
    await h.simControl('latency', { ms: 15 }); // executions overlap across replicas
    const ids: string[] = [];
    try {
      for (const [round, action] of actions.entries()) {
        // One signal per key per round, the keys concurrently; rounds in order (that is the per-key order).
        ids.push(
          ...(await Promise.all(
            keys.map((k, i) =>
              h.post(k.account.alert(action, k.symbol, { quantity: k.qty, id: `r${round}k${i}` })),
            ),
          )),
        );
      }
      const outcomes = await Promise.all(ids.map((id) => h.waitForSignal(id, 60_000)));
      for (const o of outcomes) expect(o.status, o.reason ?? '').toBe('executed');
    } finally {
      await h.simControl('latency', { ms: 0 });
    }
    for (const k of keys) {
      const orders = (await h.simOrders(k.account)).filter((o: JsonBody) => o.symbol === k.symbol);
      const byArrival = [...orders].sort((x: JsonBody, y: JsonBody) => x.arrival_ms - y.arrival_ms);
      expect(
        byArrival.map((o: JsonBody) => o.side),
        `${k.account.accountId} ${k.symbol}`,
      ).toEqual(expected);
    }
    // The load really was shared: more than one replica finished signals.
    const busy = h.processes.filter(
      (p) => p.role === 'worker' && p.name.includes('binance') && p.output().includes('signal finished'),
    );
    expect(busy.length).toBeGreaterThan(1);
  }, 90_000);
});

describe.each(['binance', 'okx'] as const)('%s worker killed mid-order', (exchange: Exchange) => {
  it('a SIGKILLed worker re-run finds the order by client id: exactly one order at the exchange', async () => {
    const acct = await h.registerAccount(exchange, { settings: { auto_sl_tp: false } });
    // The order request is held 1.5 s at the simulator, which then accepts it; by then the worker is dead.
    await h.fault({
      exchange,
      method: 'POST',
      path: E2EHarness.orderPath(exchange),
      kind: 'latency',
      latency_ms: 1500,
    });
    const signalId = await h.post(acct.alert('long', 'BTCUSDT', { quantity: 0.01 }));

    // Wait until the order request has reached the simulator (the fault is consumed on arrival, before the
    // held response), then kill -9 every worker of this exchange (we do not know which replica took the job).
    await until('the order request reached the simulator', async () => {
      const { faults } = await h.simControl('faults', undefined, 'GET');
      return faults.length === 0;
    });
    const victims = h.processes.filter(
      (p) =>
        p.role === 'worker' &&
        p.name.includes(exchange) &&
        p.child.exitCode === null &&
        p.child.signalCode === null,
    );
    await Promise.all(victims.map((p) => h.kill(p, 'SIGKILL')));

    // The simulator accepts the order after its latency, with nobody listening for the answer.
    await until('the simulator accepted the order', async () => (await h.simOrders(acct)).length > 0);
    const mid = await h.pool.query('SELECT status FROM signals WHERE id = $1', [signalId]);
    expect(mid.rows[0].status).toBe('executing');

    // A fresh replica picks the stalled job up and must adopt the order instead of sending another.
    await h.startWorker(exchange);
    const outcome = await h.waitForSignal(signalId, 30_000);
    expect(outcome.status, outcome.reason ?? '').toBe('executed');
    expect((outcome.result as JsonBody).results.entry).toMatchObject({ recovered: true, filled: 0.01 });
    const orders = await h.simOrders(acct);
    expect(orders).toHaveLength(1);
    expect((await h.simAccount(acct)).positions).toEqual([expect.objectContaining({ qty: 0.01 })]);
    const { rows } = await h.pool.query('SELECT status, exchange_order_id FROM orders WHERE signal_id = $1', [
      signalId,
    ]);
    expect(rows).toEqual([{ status: 'filled', exchange_order_id: orders[0]!.id }]);
  }, 60_000);
});

describe('graceful shutdown', () => {
  it('SIGTERM lets the in-flight order finish before the worker exits', async () => {
    const acct = await h.registerAccount('binance', { settings: { auto_sl_tp: false } });
    await h.fault({
      exchange: 'binance',
      method: 'POST',
      path: E2EHarness.orderPath('binance'),
      kind: 'latency',
      latency_ms: 1000,
    });
    const signalId = await h.post(acct.alert('short', 'ETHUSDT', { quantity: 0.1 }));
    await until('the worker sent the entry', async () => {
      const { rows } = await h.pool.query('SELECT sent_at FROM orders WHERE signal_id = $1', [signalId]);
      return Boolean(rows[0]?.sent_at);
    });
    const live = h.processes.filter(
      (p) =>
        p.role === 'worker' &&
        p.name.includes('binance') &&
        p.child.exitCode === null &&
        p.child.signalCode === null,
    );
    for (const p of live) p.child.kill('SIGTERM');
    const codes = await Promise.all(live.map((p) => p.exit));
    expect(codes.every((c) => c === 0)).toBe(true);
    // Finished by the stopping worker itself, not by a successor after the stalled check.
    const { rows } = await h.pool.query('SELECT status FROM signals WHERE id = $1', [signalId]);
    expect(rows[0].status).toBe('executed');
    expect(await h.simOrders(acct)).toHaveLength(1);
  }, 30_000);
});
