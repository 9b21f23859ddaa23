import * as ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createExchangeAdapter, type CcxtExchangeAdapter } from './adapter.ts';
import { classifyExchangeError } from './errors.ts';

/** The adapter against the real simulator over HTTP, through the real ccxt (no stubs). */
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

async function account(
  exchange: 'binance' | 'okx',
  positionMode: 'oneway' | 'hedge',
  balance = 10_000,
  testnet = false,
  simAccount: Record<string, unknown> = {},
) {
  const apiKey = `k${exchange}${positionMode}${Math.random().toString(36).slice(2, 10)}`;
  const apiSecret = `s${Math.random().toString(36).slice(2)}secret`;
  const passphrase = exchange === 'okx' ? 'Pass-phrase1' : undefined;
  const created = await simControl('POST', 'accounts', {
    exchange,
    api_key: apiKey,
    api_secret: apiSecret,
    passphrase,
    position_mode: positionMode,
    balance,
    testnet,
    ...simAccount,
  });
  expect(created).toBe(201);
  const adapter = createExchangeAdapter({
    exchange,
    credentials: { apiKey, apiSecret, passphrase },
    testnet,
    apiUrl: sim.url,
    enableRateLimit: false,
  });
  await adapter.loadMarkets();
  return { adapter, apiKey, apiSecret, passphrase };
}

const SYMBOL = 'BTC/USDT:USDT';

/** The simulator's control API (unauthenticated JSON): account settings and fault injection. */
async function simControl(
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<number> {
  const res = await fetch(`${sim.url}/_sim/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return res.status;
}

describe.each(['binance', 'okx'] as const)('%s adapter against the simulator', (exchange) => {
  let a: CcxtExchangeAdapter;
  beforeAll(async () => {
    ({ adapter: a } = await account(exchange, 'oneway'));
  });

  it('reads markets in base units, balance, price, candles and the position mode', async () => {
    const m = a.market(SYMBOL);
    expect(m.minAmount).toBeCloseTo(exchange === 'okx' ? 0.0001 : 0.001, 10);
    expect(a.amountToPrecision(SYMBOL, 0.0123456).amount).toBeCloseTo(
      exchange === 'okx' ? 0.0123 : 0.012,
      10,
    );
    expect(() => a.amountToPrecision(SYMBOL, 0.00001)).toThrow(/rounds to zero/);
    const bal = await a.fetchBalance();
    expect(bal).toMatchObject({ asset: 'USDT', free: 10_000, total: 10_000 });
    expect(await a.fetchPrice(SYMBOL)).toBeGreaterThan(0);
    const candles = await a.fetchCandles(SYMBOL, '1h', 20);
    expect(candles.length).toBeGreaterThanOrEqual(15);
    expect(await a.fetchPositionMode()).toBe('oneway');
    await a.setMarginMode(SYMBOL, 'cross');
    await a.setMarginMode(SYMBOL, 'cross');
    await a.setLeverage(SYMBOL, 5, 'cross');
    const check = await a.checkKey();
    expect(check).toMatchObject({ ok: true, canRead: true, positionMode: 'oneway' });
    // OKX reports the key's permissions; Binance futures has no such endpoint without sapi.
    expect([check.canTrade, check.canWithdraw]).toEqual([true, false]);
  });

  it('places a market order by client id, finds it again, and reports fills and trades', async () => {
    const cid = `thtest${exchange}E1`;
    expect(await a.findOrder(SYMBOL, cid, false)).toBeNull();
    const o = await a.createMarketOrder({
      symbol: SYMBOL,
      side: 'buy',
      amount: 0.01,
      clientOrderId: cid,
      reduceOnly: false,
      positionSide: null,
      marginMode: 'cross',
    });
    expect(o).toMatchObject({ clientOrderId: cid, status: 'closed', filled: 0.01 });
    expect(o.average).toBeGreaterThan(0);
    const found = await a.findOrder(SYMBOL, cid, false);
    expect(found).toMatchObject({ id: o.id, filled: 0.01 });
    const positions = await a.fetchPositions(SYMBOL);
    expect(positions).toEqual([expect.objectContaining({ symbol: SYMBOL, side: 'long', amount: 0.01 })]);
    const trades = await a.fetchMyTrades(SYMBOL, undefined);
    expect(trades).toEqual([expect.objectContaining({ orderId: o.id, amount: 0.01, side: 'buy' })]);
    expect(trades[0]!.fee).toBeGreaterThan(0);
  });

  it('places, lists, finds and cancels conditional SL/TP orders', async () => {
    const price = await a.fetchPrice(SYMBOL);
    const sl = await a.createConditionalOrder({
      symbol: SYMBOL,
      side: 'sell',
      amount: 0.01,
      clientOrderId: `thtest${exchange}S1`,
      reduceOnly: true,
      positionSide: null,
      marginMode: 'cross',
      kind: 'stop_loss',
      triggerPrice: price * 0.9,
    });
    const tp = await a.createConditionalOrder({
      symbol: SYMBOL,
      side: 'sell',
      amount: 0.01,
      clientOrderId: `thtest${exchange}T1`,
      reduceOnly: true,
      positionSide: null,
      marginMode: 'cross',
      kind: 'take_profit',
      triggerPrice: price * 1.1,
    });
    expect(sl.id).toBeTruthy();
    const foundSl = await a.findOrder(SYMBOL, `thtest${exchange}S1`, true);
    expect(foundSl?.id).toBe(sl.id);
    expect(await a.findOrder(SYMBOL, `thtest${exchange}S9`, true)).toBeNull();
    const open = await a.fetchOpenOrders();
    expect(
      open
        .filter((o) => o.conditional)
        .map((o) => o.id)
        .sort(),
    ).toEqual([sl.id, tp.id].sort());
    const openSl = open.find((o) => o.id === sl.id)!;
    expect(openSl.triggerPrice).toBeCloseTo(a.priceToPrecision(SYMBOL, price * 0.9), 5);
    expect(openSl.clientOrderId).toBe(`thtest${exchange}S1`);
    for (const o of open) await a.cancelOrder(o);
    expect(await a.fetchOpenOrders(SYMBOL)).toEqual([]);
  });

  it('classifies insufficient margin as final', async () => {
    const err = await a
      .createMarketOrder({
        symbol: SYMBOL,
        side: 'buy',
        amount: 100,
        clientOrderId: `thtest${exchange}E2`,
        reduceOnly: false,
        positionSide: null,
        marginMode: 'cross',
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err?.constructor?.name).toBe('InsufficientFunds');
    expect(classifyExchangeError(err)).toBe('final');
  });

  it('sends the hedge-mode position side', async () => {
    const { adapter: h } = await account(exchange, 'hedge');
    expect(await h.fetchPositionMode()).toBe('hedge');
    await h.createMarketOrder({
      symbol: SYMBOL,
      side: 'sell',
      amount: 0.01,
      clientOrderId: `thtest${exchange}H1`,
      reduceOnly: false,
      positionSide: 'short',
      marginMode: 'cross',
    });
    await h.createMarketOrder({
      symbol: SYMBOL,
      side: 'buy',
      amount: 0.02,
      clientOrderId: `thtest${exchange}H2`,
      reduceOnly: false,
      positionSide: 'long',
      marginMode: 'cross',
    });
    const pos = await h.fetchPositions();
    expect(pos.map((p) => [p.side, p.amount]).sort()).toEqual([
      ['long', 0.02],
      ['short', 0.01],
    ]);
  });

  it('testnet (Binance demo trading / OKX simulated trading) keeps the base-URL override', async () => {
    const { adapter: demo } = await account(exchange, 'oneway', 5_000, true);
    expect(await demo.fetchBalance()).toMatchObject({ free: 5_000 });
    if (exchange === 'okx') expect(demo.client.headers).toMatchObject({ 'x-simulated-trading': '1' });
    else
      expect(String((demo.client.urls['api'] as Record<string, string>)['fapiPrivate'])).toMatch(
        /^http:\/\/127\.0\.0\.1/,
      );
  });

  it('a key the exchange refuses is reported, not thrown', async () => {
    const bad = createExchangeAdapter({
      exchange,
      credentials: { apiKey: 'nobody-knows-this-key', apiSecret: 'wrong-secret-123', passphrase: 'x' },
      testnet: false,
      apiUrl: sim.url,
      enableRateLimit: false,
    });
    await bad.loadMarkets();
    const check = await bad.checkKey();
    expect(check).toMatchObject({ ok: false, canRead: false });
    expect(check.message).toMatch(/refused the key/);
    expect(check.message).not.toMatch(/wrong-secret/);
  });
});

describe('OKX positions outside the swap markets', () => {
  it('lists only its swap positions; futures, margin and option positions of the account are ignored', async () => {
    const { adapter, apiKey } = await account('okx', 'oneway');
    const status = await simControl('PATCH', `accounts/okx/${apiKey}`, {
      other_positions: [
        { inst_type: 'FUTURES', inst_id: 'BTC-USD-261225', pos: 3, avg_px: 60000 },
        { inst_type: 'MARGIN', inst_id: 'ETH-USDT', pos: 2, avg_px: 3000 },
        { inst_type: 'OPTION', inst_id: 'BTC-USD-261225-70000-C', pos: 1, avg_px: 0.01 },
      ],
    });
    expect(status).toBe(200);
    await adapter.createMarketOrder({
      symbol: 'BTC/USDT:USDT',
      side: 'buy',
      amount: 0.01,
      clientOrderId: 'thtestokxOther1',
      reduceOnly: false,
      positionSide: null,
      marginMode: 'cross',
    });
    // All positions (as close_all and the entry's position check read them), and one symbol's.
    expect(await adapter.fetchPositions()).toEqual([
      expect.objectContaining({ symbol: 'BTC/USDT:USDT', side: 'long', amount: 0.01 }),
    ]);
    expect(await adapter.fetchPositions('BTC/USDT:USDT')).toHaveLength(1);
  });
});

describe('OKX key check reads the key permissions (account/config perm)', () => {
  it('refuses a key with withdrawal permission with a clear message that carries no secret', async () => {
    const { adapter, apiSecret, passphrase } = await account('okx', 'oneway', 10_000, false, {
      permissions: 'read_only,withdraw,trade',
    });
    const check = await adapter.checkKey();
    expect(check).toMatchObject({
      ok: false,
      canRead: true,
      canTrade: true,
      canWithdraw: true,
      positionMode: 'oneway',
    });
    expect(check.message).toBe('the key has withdrawal permission: create a key with trade permission only');
    const text = JSON.stringify(check);
    expect(text).not.toContain(apiSecret);
    expect(text).not.toContain(passphrase!);
  });

  it('refuses a read-only key as unable to trade', async () => {
    const { adapter } = await account('okx', 'oneway', 10_000, false, { permissions: ['read_only'] });
    expect(await adapter.checkKey()).toMatchObject({
      ok: false,
      canTrade: false,
      canWithdraw: false,
      message: expect.stringMatching(/cannot trade/),
    });
  });
});

describe('Binance key check reads the key restrictions (GET /sapi/v1/account/apiRestrictions)', () => {
  it('accepts a futures trading key without withdrawals', async () => {
    const { adapter } = await account('binance', 'oneway');
    expect(await adapter.checkKey()).toMatchObject({ ok: true, canTrade: true, canWithdraw: false });
  });

  it('refuses a key with withdrawals enabled, and one without futures', async () => {
    const withdraw = await account('binance', 'oneway', 10_000, false, {
      permissions: ['reading', 'futures', 'withdrawals'],
    });
    const check = await withdraw.adapter.checkKey();
    expect(check).toMatchObject({ ok: false, canTrade: true, canWithdraw: true });
    expect(check.message).toBe('the key has withdrawal permission: create a key with trade permission only');
    expect(JSON.stringify(check)).not.toContain(withdraw.apiSecret);
    const readOnly = await account('binance', 'oneway', 10_000, false, { permissions: ['reading'] });
    expect(await readOnly.adapter.checkKey()).toMatchObject({
      ok: false,
      canTrade: false,
      message: expect.stringMatching(/cannot trade futures/),
    });
  });
});

describe('OKX key check reads the account mode (account/config acctLv)', () => {
  it('refuses an account in simple mode (acctLv 1), whose swap orders OKX refuses with 51010', async () => {
    const { adapter, apiKey } = await account('okx', 'oneway');
    expect(await simControl('PATCH', `accounts/okx/${apiKey}`, { acct_lv: 1 })).toBe(200);
    const check = await adapter.checkKey();
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/simple mode \(acctLv 1\)/);
    const refused = await adapter
      .createMarketOrder({
        symbol: 'BTC/USDT:USDT',
        side: 'buy',
        amount: 0.01,
        clientOrderId: 'thtestokxLv1',
        reduceOnly: false,
        positionSide: null,
        marginMode: 'cross',
      })
      .then(
        () => null,
        (err: Error) => err,
      );
    expect(refused?.message).toContain('51010');
  });
});

describe('Binance -2015 after the key has worked', () => {
  it('is final for the account (a revoked key or removed IP), not a retried DDoSProtection', async () => {
    const { adapter } = await account('binance', 'oneway');
    await adapter.fetchPositions(); // the key has worked
    await simControl('POST', 'faults', {
      exchange: 'binance',
      path: 'positionRisk',
      kind: 'error_code',
      status: 401,
      code: -2015,
      msg: 'Invalid API-key, IP, or permissions for action.',
      count: 1,
    });
    try {
      const err = await adapter.fetchPositions().catch((e: unknown) => e);
      expect(classifyExchangeError(err)).toBe('final');
      // Once a spot-private call has succeeded, ccxt raises the same answer as DDoSProtection (its guess: a
      // temporary ban); that is final too.
      const asBan = new ccxt.DDoSProtection(
        'binanceusdm {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}',
      );
      expect(classifyExchangeError(asBan)).toBe('final');
      expect(classifyExchangeError(new ccxt.DDoSProtection('binanceusdm 418 banned'))).toBe('retryable');
    } finally {
      await simControl('DELETE', 'faults');
    }
  });
});
