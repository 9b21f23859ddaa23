import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, control, rejects, setPrice } from '../test/support.ts';

const BTC = 'BTC/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe('binance usdm via ccxt', () => {
  it('public: time, markets with filters and order types, klines, ticker', async () => {
    const { ex } = await binanceAccount(sim);
    expect(Math.abs(((await ex.fetchTime()) as number) - Date.now())).toBeLessThan(2000);
    await ex.loadMarkets();
    for (const [sym, notional] of [
      [BTC, 100],
      ['ETH/USDT:USDT', 20],
      ['SOL/USDT:USDT', 5],
    ] as const) {
      const m = ex.market(sym);
      expect(m.swap && m.linear).toBe(true);
      expect(m.limits.cost?.min).toBe(notional);
    }
    const btc = ex.market(BTC);
    expect(btc.precision.amount).toBe(0.001);
    expect(btc.precision.price).toBe(0.1);
    expect(btc.limits.amount?.min).toBe(0.001);
    expect((btc.info as { orderTypes: string[] }).orderTypes).toContain('TAKE_PROFIT_MARKET');
    const ohlcv = await ex.fetchOHLCV(BTC, '1h', undefined, 100);
    expect(ohlcv).toHaveLength(100);
    expect(ohlcv.at(-1)?.[4]).toBe(sim.engine.price('BTCUSDT'));
    // deterministic and with real ranges (ATR > 0)
    expect(await ex.fetchOHLCV(BTC, '1h', undefined, 100)).toEqual(ohlcv);
    expect(
      ohlcv.every(
        (c) =>
          (c[2] as number) >= Math.max(c[1] as number, c[4] as number) &&
          (c[3] as number) <= Math.min(c[1] as number, c[4] as number),
      ),
    ).toBe(true);
    expect(ohlcv.some((c) => (c[2] as number) - (c[3] as number) > 0)).toBe(true);
    const t = await ex.fetchTicker(BTC);
    expect(t.last).toBe(sim.engine.price('BTCUSDT'));
  });

  it('rejects wrong secret, unknown key and stale timestamp with the real codes', async () => {
    const bad = await binanceAccount(sim, { secret: 'wrong' });
    const e1 = await rejects(() => bad.ex.fetchBalance());
    expect(e1).toBeInstanceOf(ccxt.AuthenticationError);
    expect(e1.message).toContain('-1022');

    const unknown = new ccxt.binanceusdm({ apiKey: 'nobody', secret: 'x', enableRateLimit: false });
    unknown.enableDemoTrading(true);
    const { pointCcxtAtSimulator } = await import('./ccxt-overrides.ts');
    pointCcxtAtSimulator(unknown as never, sim.url);
    const e2 = await rejects(() => unknown.fetchBalance());
    expect(e2).toBeInstanceOf(ccxt.AuthenticationError);
    expect(e2.message).toContain('-2015');

    const stale = await binanceAccount(sim);
    stale.ex.options['timeDifference'] = 20_000; // ccxt signs a timestamp 20 s in the past (recvWindow 10 s)
    const e3 = await rejects(() => stale.ex.fetchBalance());
    expect(e3).toBeInstanceOf(ccxt.InvalidNonce);
    expect(e3.message).toContain('-1021');
    stale.ex.options['timeDifference'] = -5_000; // 5 s ahead of the server
    expect(await rejects(() => stale.ex.fetchBalance())).toBeInstanceOf(ccxt.InvalidNonce);
  });

  it('balance, leverage, margin type, position mode', async () => {
    const { ex } = await binanceAccount(sim, { balance: 5000 });
    const bal = await ex.fetchBalance();
    expect(bal['USDT']).toMatchObject({ free: 5000, total: 5000, used: 0 });
    const lev = await ex.setLeverage(7, BTC);
    expect(lev).toMatchObject({ leverage: 7, symbol: 'BTCUSDT' });
    // ccxt checks 1..125 itself; SOL's max is 75 on the exchange
    const e = await rejects(() => ex.setLeverage(100, 'SOL/USDT:USDT'));
    expect(e).toBeInstanceOf(ccxt.BadRequest);
    expect(e.message).toContain('-4028');
    await ex.setMarginMode('isolated', BTC);
    expect(await rejects(() => ex.setMarginMode('isolated', BTC))).toBeInstanceOf(ccxt.MarginModeAlreadySet);
    await ex.setMarginMode('cross', BTC);
    expect((await ex.fetchPositionMode()).hedged).toBe(false);
    await ex.setPositionMode(true);
    expect((await ex.fetchPositionMode()).hedged).toBe(true);
    expect((await rejects(() => ex.setPositionMode(true))).message).toContain('-4059');
    await ex.setPositionMode(false);
    expect((await ex.fetchPositionMode()).hedged).toBe(false);
  });

  it('market entry then reduce-only close, with fees, PnL and positions', async () => {
    await setPrice(sim, 'BTCUSDT', 60000);
    const { ex } = await binanceAccount(sim, { balance: 10_000 });
    await ex.setLeverage(10, BTC);
    const entry = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'entry1' });
    expect(entry).toMatchObject({
      status: 'closed',
      filled: 0.01,
      average: 60000,
      clientOrderId: 'entry1',
      side: 'buy',
    });
    let positions = await ex.fetchPositions([BTC]);
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ side: 'long', contracts: 0.01, entryPrice: 60000 });
    const bal = await ex.fetchBalance();
    expect(bal['USDT']?.used).toBeCloseTo(60, 6); // 600 notional / 10x
    expect(bal['USDT']?.total).toBeCloseTo(10_000 - 0.24, 6); // taker 0.04%
    await setPrice(sim, 'BTCUSDT', 61000);
    positions = await ex.fetchPositions([BTC]);
    expect(positions[0]?.unrealizedPnl).toBeCloseTo(10, 6);
    const close = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, {
      reduceOnly: true,
      clientOrderId: 'close1',
    });
    expect(close).toMatchObject({ status: 'closed', filled: 0.01, average: 61000, reduceOnly: true });
    expect(await ex.fetchPositions([BTC])).toHaveLength(0);
    const trades = await ex.fetchMyTrades(BTC);
    expect(trades.map((t) => [t.side, t.amount, t.price])).toEqual([
      ['buy', 0.01, 60000],
      ['sell', 0.01, 61000],
    ]);
    const info = trades[1]?.info as Record<string, unknown>;
    expect(info).toMatchObject({
      realizedPnl: '10.00000000',
      commission: '0.24400000',
      commissionAsset: 'USDT',
      buyer: false,
      maker: false,
      positionSide: 'BOTH',
    });
    const income = (await ex.fapiPrivateGetIncome({ symbol: 'BTCUSDT' })) as Array<Record<string, string>>;
    expect(income.filter((r) => r['incomeType'] === 'REALIZED_PNL').map((r) => r['income'])).toEqual([
      '10.00000000',
    ]);
    expect(income.filter((r) => r['incomeType'] === 'COMMISSION')).toHaveLength(2);
    // nothing left to reduce
    const e = await rejects(() =>
      ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true }),
    );
    expect(e).toBeInstanceOf(ccxt.InvalidOrder);
    expect(e.message).toContain('-2022');
  });

  it('validates min notional, precision, margin, and the order endpoint type', async () => {
    await setPrice(sim, 'BTCUSDT', 60000);
    const { ex } = await binanceAccount(sim, { balance: 100 });
    await ex.loadMarkets();
    const e1 = await rejects(() => ex.createOrder(BTC, 'market', 'buy', 0.001)); // 60 USDT < 100
    expect(e1).toBeInstanceOf(ccxt.InvalidOrder);
    expect(e1.message).toContain('-4164');
    const e2 = await rejects(() =>
      ex.fapiPrivatePostOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.0101' }),
    );
    expect(e2).toBeInstanceOf(ccxt.BadRequest);
    expect(e2.message).toContain('-1111');
    await ex.setLeverage(1, BTC);
    const e3 = await rejects(() => ex.createOrder(BTC, 'market', 'buy', 0.01)); // 600 USDT at 1x > 100
    expect(e3).toBeInstanceOf(ccxt.InsufficientFunds);
    expect(e3.message).toContain('-2019');
    const e4 = await rejects(() =>
      ex.fapiPrivatePostOrder({
        symbol: 'BTCUSDT',
        side: 'SELL',
        type: 'STOP_MARKET',
        stopPrice: '50000',
        closePosition: 'true',
      }),
    );
    expect(e4.message).toContain('-4120');
  });

  it('refuses an 11th open conditional order on one symbol with -4045 (MAX_NUM_ALGO_ORDERS = 10)', async () => {
    await setPrice(sim, 'ETHUSDT', 3000);
    const { ex } = await binanceAccount(sim);
    const ETH = 'ETH/USDT:USDT';
    await ex.createOrder(ETH, 'market', 'buy', 1, undefined, { clientOrderId: 'lim-e' });
    for (let i = 0; i < 10; i++)
      await ex.createOrder(ETH, 'market', 'sell', 0.1, undefined, {
        stopLossPrice: 2000 + i,
        reduceOnly: true,
        clientOrderId: `lim-sl${i}`,
      });
    const refused = await rejects(() =>
      ex.createOrder(ETH, 'market', 'sell', 0.1, undefined, { stopLossPrice: 1990, reduceOnly: true }),
    );
    expect(refused.message).toContain('-4045');
    expect(refused.message).toContain('Reach max stop order limit.');
    // Another symbol has its own ten.
    await setPrice(sim, 'BTCUSDT', 60000);
    await ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'lim-b' });
    const other = await ex.createOrder('BTC/USDT:USDT', 'market', 'sell', 0.01, undefined, {
      stopLossPrice: 50000,
      reduceOnly: true,
    });
    expect(other.status).toBe('open');
  });

  it('stop-loss triggers on a price move, closes the position, shows realised PnL; TP stays open', async () => {
    await setPrice(sim, 'ETHUSDT', 3000);
    const { ex, key } = await binanceAccount(sim);
    const ETH = 'ETH/USDT:USDT';
    await ex.createOrder(ETH, 'market', 'buy', 0.5, undefined, { clientOrderId: 'e1' });
    const sl = await ex.createOrder(ETH, 'market', 'sell', 0.5, undefined, {
      stopLossPrice: 2900,
      reduceOnly: true,
      clientOrderId: 'sl1',
    });
    expect(sl).toMatchObject({ status: 'open', triggerPrice: 2900, clientOrderId: 'sl1' });
    const tp = await ex.createOrder(ETH, 'market', 'sell', undefined as never, undefined, {
      takeProfitPrice: 3200,
      closePosition: true,
      clientOrderId: 'tp1',
    });
    expect(tp.status).toBe('open');
    expect(
      (
        await rejects(() =>
          ex.createOrder(ETH, 'market', 'sell', 0.5, undefined, { stopLossPrice: 3100, reduceOnly: true }),
        )
      ).message,
    ).toContain('-2021');
    const open = await ex.fetchOpenOrders(ETH, undefined, undefined, { trigger: true });
    expect(open.map((o) => o.clientOrderId).sort()).toEqual(['sl1', 'tp1']);
    await setPrice(sim, 'ETHUSDT', 2950);
    expect(await ex.fetchPositions([ETH])).toHaveLength(1);
    await setPrice(sim, 'ETHUSDT', 2890); // crosses 2900
    expect(await ex.fetchPositions([ETH])).toHaveLength(0);
    const slAfter = await ex.fetchOrder(undefined as never, ETH, { clientOrderId: 'sl1', trigger: true });
    expect(slAfter.status).toBe('closed');
    expect((slAfter.info as Record<string, unknown>)['actualOrderId']).not.toBe('');
    const trades = await ex.fetchMyTrades(ETH);
    const last = trades.at(-1);
    expect(last).toMatchObject({ side: 'sell', amount: 0.5, price: 2890 });
    expect(Number((last?.info as Record<string, string>)['realizedPnl'])).toBeCloseTo(-55, 6);
    // the TP (reduce-only, closePosition) remains open like on the real exchange; the worker cancels it
    const still = await ex.fetchOpenOrders(ETH, undefined, undefined, { trigger: true });
    expect(still.map((o) => o.clientOrderId)).toEqual(['tp1']);
    const canceled = await ex.cancelOrder(still[0]?.id as string, ETH, { trigger: true });
    expect(canceled.id).toBe(still[0]?.id);
    expect(await ex.fetchOpenOrders(ETH, undefined, undefined, { trigger: true })).toHaveLength(0);
    const log = (await control(sim, 'GET', `/_sim/orders?exchange=binance&api_key=${key}`)) as {
      orders: Array<Record<string, unknown>>;
    };
    expect(log.orders.map((o) => [o['kind'], o['client_id'], o['status']])).toEqual([
      ['order', 'e1', 'filled'],
      ['algo', 'sl1', 'triggered'],
      ['algo', 'tp1', 'canceled'],
      ['order', 'sl1', 'filled'],
    ]);
    expect(typeof log.orders[0]?.['arrival_ms']).toBe('number');
  });

  it('client order ids: lookup, unknown (-2013), duplicates among open orders (-4116), reuse after fill', async () => {
    await setPrice(sim, 'BTCUSDT', 60000);
    const { ex } = await binanceAccount(sim);
    await ex.createOrder(BTC, 'market', 'buy', 0.002, undefined, { clientOrderId: 'reuse1' });
    const found = await ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'reuse1' });
    expect(found).toMatchObject({ clientOrderId: 'reuse1', status: 'closed', filled: 0.002 });
    expect(
      await rejects(() => ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'never-sent' })),
    ).toBeInstanceOf(ccxt.OrderNotFound);
    expect(
      await rejects(() =>
        ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'never-sent', trigger: true }),
      ),
    ).toBeInstanceOf(ccxt.OrderNotFound);
    // a filled market order's id can be reused
    await ex.createOrder(BTC, 'market', 'buy', 0.002, undefined, { clientOrderId: 'reuse1' });
    // a resting limit order's id cannot
    const lim = await ex.createOrder(BTC, 'limit', 'buy', 0.002, 55000, { clientOrderId: 'lim1' });
    expect(lim.status).toBe('open');
    const dup = await rejects(() =>
      ex.createOrder(BTC, 'limit', 'buy', 0.002, 55000, { clientOrderId: 'lim1' }),
    );
    expect(dup).toBeInstanceOf(ccxt.InvalidOrder);
    expect(dup.message).toContain('-4116');
    await ex.createOrder(BTC, 'market', 'sell', 0.004, undefined, {
      stopLossPrice: 50000,
      reduceOnly: true,
      clientOrderId: 'algo1',
    });
    expect(
      await rejects(() =>
        ex.createOrder(BTC, 'market', 'sell', 0.004, undefined, {
          stopLossPrice: 50000,
          reduceOnly: true,
          clientOrderId: 'algo1',
        }),
      ),
    ).toBeInstanceOf(ccxt.InvalidOrder);
    expect((await ex.fetchOpenOrders(BTC)).map((o) => o.clientOrderId)).toEqual(['lim1']);
    const open = await ex.fetchOrder(lim.id as string, BTC);
    expect(open.status).toBe('open');
    await ex.cancelAllOrders(BTC);
    await ex.cancelAllOrders(BTC, { trigger: true });
    expect(await ex.fetchOpenOrders(BTC)).toHaveLength(0);
    expect(await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true })).toHaveLength(0);
    expect((await ex.fetchOrder(lim.id as string, BTC)).status).toBe('canceled');
    expect(await rejects(() => ex.cancelOrder(lim.id as string, BTC))).toBeInstanceOf(ccxt.OrderNotFound);
    // resting limit fills when the price comes down to it
    const lim2 = await ex.createOrder(BTC, 'limit', 'buy', 0.002, 59000, { clientOrderId: 'lim2' });
    await setPrice(sim, 'BTCUSDT', 58990);
    const filled = await ex.fetchOrder(lim2.id as string, BTC);
    expect(filled).toMatchObject({ status: 'closed', average: 59000 });
    expect((await ex.fetchMyTrades(BTC)).at(-1)?.takerOrMaker).toBe('maker');
  });

  it('hedge mode needs positionSide (-4061) and keeps long and short legs', async () => {
    await setPrice(sim, 'SOLUSDT', 150);
    const SOL = 'SOL/USDT:USDT';
    const { ex } = await binanceAccount(sim, { positionMode: 'hedge' });
    const e = await rejects(() => ex.createOrder(SOL, 'market', 'buy', 1));
    expect(e.message).toContain('-4061');
    expect(e).toBeInstanceOf(ccxt.OperationRejected);
    await ex.createOrder(SOL, 'market', 'buy', 2, undefined, { positionSide: 'LONG' });
    await ex.createOrder(SOL, 'market', 'sell', 1, undefined, { positionSide: 'SHORT' });
    const pos = await ex.fetchPositions([SOL]);
    expect(pos.map((p) => [p.side, p.contracts]).sort()).toEqual([
      ['long', 2],
      ['short', 1],
    ]);
    // ccxt's hedged:true maps a reduce-only close to positionSide and drops reduceOnly
    await ex.createOrder(SOL, 'market', 'sell', 2, undefined, { hedged: true, reduceOnly: true });
    const sl = await ex.createOrder(SOL, 'market', 'buy', undefined as never, undefined, {
      positionSide: 'SHORT',
      stopLossPrice: 160,
      closePosition: true,
    });
    expect(sl.status).toBe('open');
    await setPrice(sim, 'SOLUSDT', 161);
    expect(await ex.fetchPositions([SOL])).toHaveLength(0);
    expect((await ex.fetchMyTrades(SOL)).at(-1)?.info).toMatchObject({
      positionSide: 'SHORT',
      side: 'BUY',
      realizedPnl: '-11.00000000',
    });
  });
});
