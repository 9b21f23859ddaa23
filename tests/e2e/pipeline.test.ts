import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2EHarness, type E2EAccount, type JsonBody } from './harness.ts';

/**
 * The whole pipeline as processes: webhook → ingress → risk → worker → simulator (real ccxt over HTTP), real
 * Postgres and Redis, on both exchanges.
 */
let h: E2EHarness;

beforeAll(async () => {
  h = await E2EHarness.start({ env: { FILL_SYNC_INTERVAL_MS: '500' } });
}, 90_000);

afterAll(async () => {
  await h?.stop();
}, 60_000);

const BTC = 'BTCUSDT';
const ETH = 'ETHUSDT.P';

describe.each(['binance', 'okx'] as const)('%s through the pipeline', (exchange) => {
  let acct: E2EAccount;
  beforeAll(async () => {
    acct = await h.registerAccount(exchange, { settings: { default_leverage: 5, auto_sl_tp: true } });
  }, 30_000);

  it('long with ?wait answers the guide shape with the order details, manual SL/TP placed', async () => {
    const p = await h.price(BTC);
    const sl = Math.round(p * 0.95);
    const tp = Math.round(p * 1.05);
    const res = await h.webhook(
      acct.alert('long', BTC, { quantity: '0.01', leverage: 10, stop_loss: sl, take_profit: tp }),
      { wait: 15_000 },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      message: `LONG order executed on ${exchange}`,
      order_details: {
        success: true,
        exchange,
        account_id: acct.accountId,
        action: 'long',
        symbol: 'BTC/USDT:USDT',
        results: {
          leverage: { leverage: 10 },
          entry: { side: 'buy', filled: 0.01 },
          stop_loss: { trigger_price: sl },
          take_profit: { trigger_price: tp },
        },
      },
    });
    const view = await h.simAccount(acct);
    expect(view.positions).toEqual([expect.objectContaining({ symbol: BTC, qty: 0.01 })]);
    // OKX: the SL/TP ride on the entry (OKX_ATTACHED_PROTECTION, default on), booked as one OCO algo order.
    expect(view.open_algo_orders.map((a: JsonBody) => [a.sl_trigger, a.tp_trigger])).toEqual(
      exchange === 'okx' ? [[sl, tp]] : [expect.anything(), expect.anything()],
    );
  });

  it('short flips the long (old SL/TP cancelled) with ATR SL/TP; close_short closes; close_long is a no-op', async () => {
    const flip = await h.signal(acct.alert('short', BTC, { quantity: 0.02 }));
    expect(flip.status, flip.reason ?? '').toBe('executed');
    const results = flip.result!['results'] as Record<string, JsonBody>;
    expect(results['closed']).toEqual([expect.objectContaining({ side: 'sell', filled: 0.01 })]);
    expect(results['atr']).toBeDefined();
    const p = await h.price(BTC);
    expect(results['stop_loss'].trigger_price).toBeGreaterThan(p);
    expect(results['take_profit'].trigger_price).toBeLessThan(p);
    let view = await h.simAccount(acct);
    expect(view.positions).toEqual([expect.objectContaining({ qty: -0.02 })]);
    // OKX: ATR levels from candles already read ride on the entry as one OCO.
    expect(view.open_algo_orders.map((a: JsonBody) => a.side)).toEqual(
      exchange === 'okx' ? ['buy'] : ['buy', 'buy'],
    );

    const close = await h.signal(acct.alert('close_short', BTC));
    expect(close.status, close.reason ?? '').toBe('executed');
    view = await h.simAccount(acct);
    expect(view.positions).toEqual([]);
    expect(view.open_algo_orders).toEqual([]);

    const none = await h.webhook(acct.alert('close_long', BTC), { wait: 15_000 });
    expect(none.status).toBe(200);
    expect(none.body.status).toBe('ignored');
    expect(none.body.reason).toMatch(/no long position to close/);
  });

  it('close_all closes every position and leftover conditional orders', async () => {
    const p = await h.price(ETH);
    expect((await h.signal(acct.alert('long', BTC, { quantity: 0.01 }))).status).toBe('executed');
    expect((await h.signal(acct.alert('short', ETH, { quantity: 0.1, stop_loss: p * 1.1 }))).status).toBe(
      'executed',
    );
    const before = await h.simAccount(acct);
    expect(before.positions).toHaveLength(2);
    expect(before.open_algo_orders.length).toBe(exchange === 'okx' ? 2 : 3); // OKX: BTC's SL+TP one OCO
    // The guide's emergency exit: no symbol; the answer names every symbol it closed.
    const { symbol: _named, ...closeAll } = acct.alert('close_all', BTC);
    const out = await h.signal(closeAll);
    expect(out.status, out.reason ?? '').toBe('executed');
    expect(out.result).toMatchObject({ symbol: '*', symbols: ['BTC/USDT:USDT', 'ETH/USDT:USDT'] });
    const after = await h.simAccount(acct);
    expect(after.positions).toEqual([]);
    expect(after.open_algo_orders).toEqual([]);
  });

  it('refuses a size below the minimum and an entry beyond the balance, with the reason on the signal', async () => {
    const tiny = await h.webhook(acct.alert('long', BTC, { quantity: 0.00001 }), { wait: 15_000 });
    expect(tiny.status).toBe(422);
    expect(tiny.body.error.message).toMatch(/rounds to zero|below the minimum/);
    if (exchange === 'binance') {
      const small = await h.signal(acct.alert('long', BTC, { quantity: 0.001 }));
      expect(small.status).toBe('failed');
      expect(small.reason).toMatch(/below the minimum notional 100 USDT/);
    }
    const big = await h.signal(acct.alert('long', BTC, { quantity: 50 }));
    expect(big.status).toBe('failed');
    expect(big.reason).toMatch(/InsufficientFunds/);
    expect((await h.simAccount(acct)).positions).toEqual([]);
  });

  it('hedge mode sends position sides', async () => {
    const hedge = await h.registerAccount(exchange, {
      positionMode: 'hedge',
      settings: { auto_sl_tp: false },
    });
    expect((await h.signal(hedge.alert('long', ETH, { quantity: 0.1 }))).status).toBe('executed');
    expect((await h.simAccount(hedge)).positions).toEqual([
      expect.objectContaining({ position_side: 'long', qty: 0.1 }),
    ]);
    expect((await h.signal(hedge.alert('close_long', ETH))).status).toBe('executed');
    expect((await h.simAccount(hedge)).positions).toEqual([]);
    const orders = await h.simOrders(hedge);
    expect(orders.map((o) => `${o.side}:${o.position_side}`)).toEqual(['buy:long', 'sell:long']);
  });

  it('survives 5xx, 429 and a response dropped after the order was accepted: one order each', async () => {
    const a = await h.registerAccount(exchange, { settings: { auto_sl_tp: false } });
    const path = E2EHarness.orderPath(exchange);
    const plan = [
      ['http5xx', 'long'],
      ['rate_limit', 'close_long'],
      ['drop_after_accept', 'short'],
    ] as const;
    for (const [kind, action] of plan) {
      await h.fault({ exchange, method: 'POST', path, kind, count: 1 });
      const out = await h.signal(a.alert(action, BTC, { quantity: 0.01 }));
      expect(out.status, `${kind}: ${out.reason}`).toBe('executed');
    }
    const orders = await h.simOrders(a);
    expect(orders.map((o) => o.side)).toEqual(['buy', 'sell', 'sell']);
    const { rows } = await h.pool.query(
      `SELECT status FROM orders WHERE exchange = $1 AND account_id = $2 ORDER BY created_at`,
      [exchange, a.accountId],
    );
    expect(rows.map((r) => r.status)).toEqual(['filled', 'filled', 'filled']);
  });

  it('an SL fired at the exchange reaches the daily PnL through the fill sync', async () => {
    const a = await h.registerAccount(exchange, { settings: { auto_sl_tp: false } });
    const p = await h.price(ETH);
    const entry = await h.signal(a.alert('long', ETH, { quantity: 1, stop_loss: Math.round(p * 0.98) }));
    expect(entry.status, entry.reason ?? '').toBe('executed');
    await h.setPrice(ETH, Math.round(p * 0.97));
    expect((await h.simAccount(a)).positions).toEqual([]);
    let pnl: JsonBody;
    for (let i = 0; i < 100; i++) {
      pnl = (await h.api('GET', `/api/v1/accounts/${exchange}/${a.accountId}/pnl/today`)).body;
      if (pnl.fill_count >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pnl.fill_count).toBe(2);
    expect(pnl.realized_pnl).toBeLessThan(-50); // 1 ETH from p down to the SL at ~0.98 p
    expect(pnl.net_pnl).toBeLessThan(pnl.realized_pnl);
    await h.setPrice(ETH, p);
  });
});

describe('registration key check by a worker process', () => {
  it('an OKX key with withdrawal permission is refused: 422 key_rejected, no account row, no secret echoed', async () => {
    const res = await h.tryRegisterAccount('okx', { permissions: ['read_only', 'withdraw', 'trade'] });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'key_rejected',
      message: 'the key has withdrawal permission: create a key with trade permission only',
      details: {
        key_check: { status: 'rejected', ok: false, can_read: true, can_trade: true, can_withdraw: true },
      },
    });
    const text = JSON.stringify(res.body);
    for (const secret of res.sentSecrets) expect(text).not.toContain(secret);
    const { rows } = await h.pool.query('SELECT 1 FROM accounts WHERE exchange = $1 AND account_id = $2', [
      'okx',
      res.account.accountId,
    ]);
    expect(rows).toEqual([]);
  });
});
