import type * as ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createExchangeAdapter, type CcxtExchangeAdapter } from './index.ts';

/**
 * Limit/post-only entries and trailing stops, to the request ccxt would send (its own createOrderRequest on
 * the arguments the adapter hands to createOrder): the simulator does not book these order types yet. The
 * simulator only serves the markets.
 */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const SYMBOL = 'BTC/USDT:USDT';
const base = {
  symbol: SYMBOL,
  side: 'buy' as const,
  amount: 0.01,
  clientOrderId: 'thshape1',
  reduceOnly: false,
  positionSide: null,
  marginMode: 'cross' as const,
};

async function capture(exchange: 'binance' | 'okx') {
  const a = createExchangeAdapter({
    exchange,
    credentials: { apiKey: 'k', apiSecret: 's', passphrase: 'p' },
    testnet: false,
    apiUrl: sim.url,
    enableRateLimit: false,
  });
  await a.loadMarkets();
  const sent: Array<Record<string, unknown>> = [];
  const client = a.client as ccxt.Exchange & {
    createOrderRequest(...args: unknown[]): Record<string, unknown>;
  };
  client.createOrder = (async (...args: unknown[]) => {
    sent.push(client.createOrderRequest(...args));
    return { id: '1', info: {}, symbol: SYMBOL, side: args[2] } as unknown as ccxt.Order;
  }) as ccxt.Exchange['createOrder'];
  return { a, sent };
}

describe('Binance order shapes', () => {
  let a: CcxtExchangeAdapter;
  let sent: Array<Record<string, unknown>>;
  beforeAll(async () => {
    ({ a, sent } = await capture('binance'));
  });

  it('limit entries carry timeInForce GTC / IOC / FOK, post-only as GTX', async () => {
    const o = await a.createLimitOrder({ ...base, price: 50_000.04 });
    expect(o).toMatchObject({ clientOrderId: 'thshape1', status: 'open', price: 50_000, amount: 0.01 });
    await a.createLimitOrder({ ...base, price: 50_000, timeInForce: 'IOC' });
    await a.createLimitOrder({ ...base, price: 50_000, timeInForce: 'FOK' });
    await a.createLimitOrder({ ...base, price: 50_000, timeInForce: 'IOC', postOnly: true });
    expect(sent.map((r) => [r['type'], r['timeInForce'], r['price']])).toEqual([
      ['LIMIT', 'GTC', '50000'],
      ['LIMIT', 'IOC', '50000'],
      ['LIMIT', 'FOK', '50000'],
      ['LIMIT', 'GTX', '50000'],
    ]);
    expect(sent[0]).toMatchObject({ newClientOrderId: 'thshape1', side: 'BUY', quantity: '0.01' });
  });

  it('trailing stops are TRAILING_STOP_MARKET with callbackRate and activatePrice', async () => {
    sent.length = 0;
    const o = await a.createTrailingStop({
      ...base,
      side: 'sell',
      reduceOnly: true,
      callbackRatePct: 1.5,
      activationPrice: 52_000,
    });
    expect(o).toMatchObject({ conditional: true, clientOrderId: 'thshape1', status: 'open' });
    expect(sent[0]).toMatchObject({
      type: 'TRAILING_STOP_MARKET',
      callbackRate: '1.5',
      activatePrice: '52000',
      clientAlgoId: 'thshape1',
      reduceOnly: true,
      side: 'SELL',
    });
  });
});

describe('OKX order shapes', () => {
  let a: CcxtExchangeAdapter;
  let sent: Array<Record<string, unknown>>;
  beforeAll(async () => {
    ({ a, sent } = await capture('okx'));
  });

  it('limit entries are ordType limit / ioc / fok / post_only, with tdMode and clOrdId', async () => {
    await a.createLimitOrder({ ...base, price: 50_000 });
    await a.createLimitOrder({ ...base, price: 50_000, timeInForce: 'IOC' });
    await a.createLimitOrder({ ...base, price: 50_000, timeInForce: 'FOK' });
    await a.createLimitOrder({ ...base, price: 50_000, postOnly: true });
    expect(sent.map((r) => r['ordType'])).toEqual(['limit', 'ioc', 'fok', 'post_only']);
    expect(sent[0]).toMatchObject({ px: '50000', tdMode: 'cross', clOrdId: 'thshape1', side: 'buy' });
  });

  it('trailing stops are move_order_stop algo orders with callbackRatio, activePx and algoClOrdId', async () => {
    sent.length = 0;
    await a.createTrailingStop({
      ...base,
      side: 'sell',
      reduceOnly: true,
      callbackRatePct: 1.5,
      activationPrice: 52_000,
    });
    expect(sent[0]).toMatchObject({
      ordType: 'move_order_stop',
      callbackRatio: '0.015',
      activePx: '52000',
      algoClOrdId: 'thshape1',
      tdMode: 'cross',
      side: 'sell',
    });
    // ccxt still adds a generated clOrdId of its own (as on every OKX order); our id is the algoClOrdId.
    expect(sent[0]!['clOrdId']).not.toBe('thshape1');
  });
});
