import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createExchangeAdapter, type CcxtExchangeAdapter } from './adapter.ts';

/**
 * What a trader reads in the answers, the same on both venues (real ccxt against the simulator): prices at
 * the market's tick, money without float noise, the leverage of a Binance position, SL/TP called stop and
 * take_profit, and filled 0 for a conditional order that has not fired.
 */
const SYMBOL = 'BTC/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

async function control(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${sim.url}/_sim/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

async function account(exchange: 'binance' | 'okx', testnet = false): Promise<CcxtExchangeAdapter> {
  const apiKey = `k${exchange}${Math.random().toString(36).slice(2, 10)}`;
  const apiSecret = `s${Math.random().toString(36).slice(2)}secret`;
  const passphrase = exchange === 'okx' ? 'Pass-phrase1' : undefined;
  await control('accounts', {
    exchange,
    api_key: apiKey,
    api_secret: apiSecret,
    passphrase,
    balance: 10_000,
  });
  const adapter = createExchangeAdapter({
    exchange,
    credentials: { apiKey, apiSecret, passphrase },
    testnet,
    apiUrl: sim.url,
    enableRateLimit: false,
  });
  await adapter.loadMarkets();
  return adapter;
}

describe.each(['binance', 'okx'] as const)('%s answers a trader reads', (exchange) => {
  let a: CcxtExchangeAdapter;
  beforeAll(async () => {
    a = await account(exchange);
  });

  it('reports prices at the tick and the position leverage', async () => {
    // A price with float noise, as an average of fills comes out of ccxt.
    await control('price', { symbol: 'BTCUSDT', price: 59919.100000000006 });
    await a.setLeverage(SYMBOL, 7, 'cross');
    const order = await a.createMarketOrder({
      symbol: SYMBOL,
      side: 'buy',
      amount: 0.01,
      clientOrderId: `thread${exchange}E1`,
      reduceOnly: false,
      positionSide: null,
      marginMode: 'cross',
    });
    expect(order.average).toBe(59919.1);
    const positions = await a.withLeverage(await a.fetchPositions());
    expect(positions).toEqual([
      expect.objectContaining({ symbol: SYMBOL, side: 'long', entryPrice: 59919.1, markPrice: 59919.1 }),
    ]);
    expect(positions[0]!.leverage).toBe(7);
    const pnl = positions[0]!.unrealizedPnl!;
    expect(pnl).toBe(Number(pnl.toFixed(8)));
  });

  it('calls SL/TP stop and take_profit, with filled 0 until they fire', async () => {
    const base = {
      symbol: SYMBOL,
      side: 'sell' as const,
      amount: 0.01,
      reduceOnly: true,
      positionSide: null,
    };
    await a.createConditionalOrder({
      ...base,
      clientOrderId: `thread${exchange}S1`,
      marginMode: 'cross',
      kind: 'stop_loss',
      triggerPrice: 55_000,
    });
    await a.createConditionalOrder({
      ...base,
      clientOrderId: `thread${exchange}T1`,
      marginMode: 'cross',
      kind: 'take_profit',
      triggerPrice: 65_000,
    });
    const open = (await a.fetchOpenOrders()).filter((o) => o.conditional);
    const view = open
      .map((o) => ({ type: o.type, filled: o.filled, trigger: o.triggerPrice }))
      .sort((x, y) => x.type.localeCompare(y.type));
    expect(view).toEqual([
      { type: 'stop', filled: 0, trigger: 55_000 },
      { type: 'take_profit', filled: 0, trigger: 65_000 },
    ]);
  });

  it('reads a price of 0 as none (Binance pushes "sp":"0" on a plain order; ccxt passes triggerPrice 0)', () => {
    const pushed = {
      id: '1',
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      status: 'open',
      amount: 0.01,
      filled: 0,
      price: 0,
      average: 0,
      triggerPrice: 0,
      info: {},
    } as unknown as Parameters<CcxtExchangeAdapter['toOrderInfo']>[0];
    expect(a.toOrderInfo(pushed, false)).toMatchObject({ price: null, average: null, triggerPrice: null });
  });
});

describe('a Binance demo-trading (testnet) account', () => {
  it('passes the key check (demo trading has no /sapi, where live keys show their permissions)', async () => {
    const a = await account('binance', true);
    expect(await a.checkKey()).toMatchObject({ ok: true, canRead: true, positionMode: 'oneway' });
  });
});
