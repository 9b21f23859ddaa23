import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createExchangeAdapter } from './index.ts';
import { attachAlgoOrds } from './okx/attached.ts';

/** Protection attached to the entry (OKX attachAlgoOrds), against the simulator through the real ccxt. */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const SYMBOL = 'BTC/USDT:USDT';

async function account(exchange: 'binance' | 'okx', positionMode: 'oneway' | 'hedge' = 'oneway') {
  const apiKey = `k${exchange}att${Math.random().toString(36).slice(2, 10)}`;
  const apiSecret = `s${Math.random().toString(36).slice(2)}secret`;
  const passphrase = exchange === 'okx' ? 'Pass-phrase1' : undefined;
  const res = await fetch(`${sim.url}/_sim/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      exchange,
      api_key: apiKey,
      api_secret: apiSecret,
      passphrase,
      position_mode: positionMode,
      balance: 10_000,
      testnet: false,
    }),
  });
  expect(res.status).toBe(201);
  const adapter = createExchangeAdapter({
    exchange,
    credentials: { apiKey, apiSecret, passphrase },
    testnet: false,
    apiUrl: sim.url,
    enableRateLimit: false,
  });
  await adapter.loadMarkets();
  return adapter;
}

describe('attached protection', () => {
  it('builds the OKX attachAlgoOrds entry: market SL/TP, our algo client id, the trigger price type', () => {
    const tick = (p: number) => p.toFixed(1);
    expect(
      attachAlgoOrds(
        { stopLoss: 90.04, takeProfit: 110, clientOrderId: 'thA1', triggerPriceType: 'mark' },
        tick,
      ),
    ).toEqual([
      {
        attachAlgoClOrdId: 'thA1',
        slTriggerPx: '90.0',
        slOrdPx: '-1',
        slTriggerPxType: 'mark',
        tpTriggerPx: '110.0',
        tpOrdPx: '-1',
        tpTriggerPxType: 'mark',
      },
    ]);
    expect(attachAlgoOrds({ stopLoss: 90, clientOrderId: 'thA2' }, tick)).toEqual([
      { attachAlgoClOrdId: 'thA2', slTriggerPx: '90.0', slOrdPx: '-1', slTriggerPxType: 'last' },
    ]);
    expect(() => attachAlgoOrds({ clientOrderId: 'x' }, tick)).toThrow(/stop loss or a take profit/);
  });

  it.each(['oneway', 'hedge'] as const)(
    'OKX (%s): one entry request books SL and TP, found again by their client id and listed as open',
    async (mode) => {
      const a = await account('okx', mode);
      expect(a.supportsAttachedProtection).toBe(true);
      const price = await a.fetchPrice(SYMBOL);
      const sl = a.priceToPrecision(SYMBOL, price * 0.9);
      const tp = a.priceToPrecision(SYMBOL, price * 1.1);
      const cid = `thatt${mode}E1`;
      const pid = `thatt${mode}P1`;
      expect(await a.findAttachedProtection(SYMBOL, pid)).toEqual([]);
      const entry = await a.createMarketOrder({
        symbol: SYMBOL,
        side: 'buy',
        amount: 0.01,
        clientOrderId: cid,
        reduceOnly: false,
        positionSide: mode === 'hedge' ? 'long' : null,
        marginMode: 'cross',
        attached: { stopLoss: sl, takeProfit: tp, clientOrderId: pid },
      });
      expect(entry).toMatchObject({ clientOrderId: cid, status: 'closed', filled: 0.01 });
      const legs = await a.findAttachedProtection(SYMBOL, pid);
      expect(legs).toEqual([
        expect.objectContaining({ type: 'stop', triggerPrice: sl, clientOrderId: pid, conditional: true }),
        expect.objectContaining({ type: 'take_profit', triggerPrice: tp, clientOrderId: pid }),
      ]);
      expect(legs[0]!.id).toBe(legs[1]!.id);
      expect(legs[0]).toMatchObject({ side: 'sell', amount: 0.01, status: 'open' });
      const open = await a.fetchOpenOrders(SYMBOL);
      expect(open.filter((o) => o.conditional).map((o) => o.id)).toEqual([legs[0]!.id]);
      await a.cancelOrder(legs[0]!);
      expect((await a.fetchOpenOrders(SYMBOL)).filter((o) => o.conditional)).toEqual([]);
    },
  );

  it('Binance advertises no attached protection and refuses an entry that carries it', async () => {
    const a = await account('binance');
    expect(a.supportsAttachedProtection).toBe(false);
    expect(await a.findAttachedProtection(SYMBOL, 'x')).toEqual([]);
    await expect(
      a.createMarketOrder({
        symbol: SYMBOL,
        side: 'buy',
        amount: 0.01,
        clientOrderId: 'thattB1',
        reduceOnly: false,
        positionSide: null,
        marginMode: 'cross',
        attached: { stopLoss: 1, clientOrderId: 'thattBP' },
      }),
    ).rejects.toThrow(/no protection attached/);
  });
});
