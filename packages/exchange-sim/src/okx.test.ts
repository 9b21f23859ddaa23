import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { control, okxAccount, rejects, setPrice } from '../test/support.ts';

const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe('okx swaps via ccxt', () => {
  it('public: time, instruments (contracts), candles, ticker', async () => {
    const { ex } = await okxAccount(sim);
    expect(Math.abs(((await ex.fetchTime()) as number) - Date.now())).toBeLessThan(2000);
    await ex.loadMarkets();
    const btc = ex.market(BTC);
    expect(btc).toMatchObject({
      id: 'BTC-USDT-SWAP',
      swap: true,
      linear: true,
      contractSize: 0.01,
      settle: 'USDT',
      active: true,
    });
    expect(btc.precision.amount).toBe(0.01);
    expect(btc.limits.amount?.min).toBe(0.01);
    expect(ex.market(ETH).contractSize).toBe(0.1);
    expect(ex.market('SOL/USDT:USDT').contractSize).toBe(1);
    const ohlcv = await ex.fetchOHLCV(BTC, '1h', undefined, 100);
    expect(ohlcv).toHaveLength(100);
    expect((ohlcv[0]?.[0] as number) < (ohlcv[99]?.[0] as number)).toBe(true);
    expect(ohlcv.at(-1)?.[4]).toBe(sim.engine.price('BTCUSDT'));
    expect((await ex.fetchTicker(BTC)).last).toBe(sim.engine.price('BTCUSDT'));
  });

  it('rejects wrong secret, wrong passphrase, stale timestamp, wrong environment', async () => {
    const badSecret = await okxAccount(sim, { secret: 'nope' });
    const e1 = await rejects(() => badSecret.ex.fetchBalance());
    expect(e1).toBeInstanceOf(ccxt.AuthenticationError);
    expect(e1.message).toContain('50113');
    const badPass = await okxAccount(sim, { password: 'nope' });
    const e2 = await rejects(() => badPass.ex.fetchBalance());
    expect(e2).toBeInstanceOf(ccxt.AuthenticationError);
    expect(e2.message).toContain('50105');
    const stale = await okxAccount(sim);
    stale.ex.options['timeDifference'] = 45_000;
    const e3 = await rejects(() => stale.ex.fetchBalance());
    expect(e3).toBeInstanceOf(ccxt.InvalidNonce);
    expect(e3.message).toContain('50102');
    // demo key without x-simulated-trading, and live key with it
    const demoOnLive = await okxAccount(sim, { testnet: true, sandbox: false });
    const e4 = await rejects(() => demoOnLive.ex.fetchBalance());
    expect(e4).toBeInstanceOf(ccxt.AuthenticationError);
    expect(e4.message).toContain('50101');
    const liveOnDemo = await okxAccount(sim, { testnet: false, sandbox: true });
    expect((await rejects(() => liveOnDemo.ex.fetchBalance())).message).toContain('50101');
    const live = await okxAccount(sim, { testnet: false, sandbox: false });
    expect((await live.ex.fetchBalance())['USDT']?.total).toBe(10_000);
  });

  it('balance, leverage, position mode', async () => {
    const { ex } = await okxAccount(sim, { balance: 2500 });
    expect((await ex.fetchBalance())['USDT']).toMatchObject({ free: 2500, total: 2500 });
    const r = (await ex.setLeverage(5, BTC, { marginMode: 'cross' })) as {
      data: Array<Record<string, string>>;
    };
    expect(r.data[0]).toMatchObject({ lever: '5', mgnMode: 'cross', instId: 'BTC-USDT-SWAP' });
    expect(await rejects(() => ex.setLeverage(101, BTC, { marginMode: 'cross' }))).toBeInstanceOf(
      ccxt.BadRequest,
    );
    expect((await ex.fetchPositionMode(BTC)).hedged).toBe(false);
    await ex.setPositionMode(true);
    expect((await ex.fetchPositionMode(BTC)).hedged).toBe(true);
    await ex.setPositionMode(false);
    expect((await ex.fetchPositionMode(BTC)).hedged).toBe(false);
  });

  it('contract sizing: market entry in contracts, reduce-only close, fills with fillPnl and negative fee', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim);
    await ex.setLeverage(10, BTC, { marginMode: 'cross' });
    const o = await ex.createOrder(BTC, 'market', 'buy', 5, undefined, { clientOrderId: 'okentry1' }); // 5 contracts = 0.05 BTC
    expect(o.clientOrderId).toBe('okentry1');
    const fetched = await ex.fetchOrder(o.id as string, BTC);
    expect(fetched).toMatchObject({ status: 'closed', filled: 5, amount: 5, average: 60000 });
    expect(fetched.fee?.cost).toBeCloseTo(1.2, 8); // 3000 USDT × 0.04%
    const byClient = await ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'okentry1' });
    expect(byClient.id).toBe(o.id);
    const pos = await ex.fetchPositions([BTC]);
    expect(pos[0]).toMatchObject({ side: 'long', contracts: 5, contractSize: 0.01, entryPrice: 60000 });
    expect((await ex.fetchBalance())['USDT']?.used).toBeCloseTo(300, 6);
    await setPrice(sim, 'BTC-USDT-SWAP', 60500);
    await ex.createOrder(BTC, 'market', 'sell', 5, undefined, {
      reduceOnly: true,
      clientOrderId: 'okclose1',
    });
    expect(await ex.fetchPositions([BTC])).toHaveLength(0);
    const trades = await ex.fetchMyTrades(BTC);
    expect(trades.map((t) => [t.side, t.amount, t.price])).toEqual([
      ['buy', 5, 60000],
      ['sell', 5, 60500],
    ]);
    const info = trades[1]?.info as Record<string, string>;
    expect(info).toMatchObject({ fillPnl: '25', fee: '-1.21', feeCcy: 'USDT', fillSz: '5', posSide: 'net' });
    expect(info['billId']).toBeTruthy();
    expect(info['tradeId']).toBeTruthy();
    expect(trades[1]?.fee?.cost).toBeCloseTo(1.21, 8);
    const fills = (await ex.privateGetTradeFills({ instId: 'BTC-USDT-SWAP' })) as { data: unknown[] };
    expect(fills.data).toHaveLength(2);
    const e = await rejects(() => ex.createOrder(BTC, 'market', 'sell', 1, undefined, { reduceOnly: true }));
    expect(e).toBeInstanceOf(ccxt.ExchangeError);
    expect(e.message).toContain('51169');
    // size must be a multiple of lotSz
    expect(
      (
        await rejects(() =>
          ex.privatePostTradeBatchOrders([
            { instId: 'BTC-USDT-SWAP', tdMode: 'cross', side: 'buy', ordType: 'market', sz: '0.005' },
          ]),
        )
      ).message,
    ).toContain('51121');
  });

  it('refuses a stop-loss or take-profit on the wrong side of the last price with 51277–51280', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim);
    await ex.createOrder(BTC, 'market', 'buy', 2, undefined, { marginMode: 'cross' });
    const algo = (side: 'buy' | 'sell', leg: Record<string, string>) =>
      rejects(() =>
        ex.privatePostTradeOrderAlgo({
          instId: 'BTC-USDT-SWAP',
          tdMode: 'cross',
          side,
          ordType: 'conditional',
          sz: '1',
          reduceOnly: 'true',
          ...leg,
        }),
      );
    expect((await algo('sell', { slTriggerPx: '61000', slOrdPx: '-1' })).message).toContain('51280');
    expect((await algo('buy', { slTriggerPx: '59000', slOrdPx: '-1' })).message).toContain('51278');
    expect((await algo('sell', { tpTriggerPx: '59000', tpOrdPx: '-1' })).message).toContain('51279');
    expect((await algo('buy', { tpTriggerPx: '61000', tpOrdPx: '-1' })).message).toContain('51277');
  });

  it('insufficient margin (51008) and duplicate clOrdId (51016)', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim, { balance: 100 });
    await ex.setLeverage(1, BTC, { marginMode: 'cross' });
    const e = await rejects(() => ex.createOrder(BTC, 'market', 'buy', 1)); // 600 USDT
    expect(e).toBeInstanceOf(ccxt.InsufficientFunds);
    expect(e.message).toContain('51008');
    await ex.setLeverage(20, BTC, { marginMode: 'cross' });
    await ex.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'dupe1' });
    const dup = await rejects(() =>
      ex.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'dupe1' }),
    );
    expect(dup).toBeInstanceOf(ccxt.InvalidOrder);
    expect(dup.message).toContain('51016');
    expect(
      await rejects(() => ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'unknown1' })),
    ).toBeInstanceOf(ccxt.OrderNotFound);
    expect(
      await rejects(() =>
        ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'unknown1', trigger: true }),
      ),
    ).toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('conditional SL triggers on a price move and closes the position; leftover TP stays; cancel-algos', async () => {
    await setPrice(sim, 'ETH-USDT-SWAP', 3000);
    const { ex, key } = await okxAccount(sim);
    await ex.createOrder(ETH, 'market', 'buy', 10, undefined, { clientOrderId: 'ethentry' }); // 1 ETH
    const sl = await ex.createOrder(ETH, 'market', 'sell', 10, undefined, {
      stopLossPrice: 2900,
      reduceOnly: true,
      algoClOrdId: 'ethsl', // an algo order's client id (clOrdId would not identify it)
    });
    const tp = await ex.createOrder(ETH, 'market', 'sell', undefined as never, undefined, {
      takeProfitPrice: 3300,
      closeFraction: '1',
      algoClOrdId: 'ethtp',
    });
    expect(sl.id).toBeTruthy();
    expect(tp.id).toBeTruthy();
    const pending = await ex.fetchOpenOrders(ETH, undefined, undefined, {
      trigger: true,
      ordType: 'conditional',
    });
    // ccxt reports the (deprecated, broker-generated) clOrdId as clientOrderId; the algo's own id is algoClOrdId.
    const algoClOrdId = (o: { info: unknown }) => (o.info as Record<string, string>)['algoClOrdId'];
    expect(pending.map(algoClOrdId).sort()).toEqual(['ethsl', 'ethtp']);
    expect(pending.find((o) => algoClOrdId(o) === 'ethsl')?.stopLossPrice).toBe(2900);
    await setPrice(sim, 'ETH-USDT-SWAP', 2899);
    expect(await ex.fetchPositions([ETH])).toHaveLength(0);
    const slAfter = await ex.fetchOrder(sl.id as string, ETH, { trigger: true });
    expect((slAfter.info as Record<string, string>)['state']).toBe('effective');
    const byClient = await ex.fetchOrder(undefined as never, ETH, { clientOrderId: 'ethsl', trigger: true });
    expect(byClient.id).toBe(sl.id);
    const last = (await ex.fetchMyTrades(ETH)).at(-1);
    expect(last).toMatchObject({ side: 'sell', amount: 10, price: 2899 });
    expect(Number((last?.info as Record<string, string>)['fillPnl'])).toBeCloseTo(-101, 8);
    const left = await ex.fetchOpenOrders(ETH, undefined, undefined, {
      trigger: true,
      ordType: 'conditional',
    });
    expect(left.map(algoClOrdId)).toEqual(['ethtp']);
    await ex.cancelOrders([left[0]?.id as string], ETH, { trigger: true });
    expect(
      await ex.fetchOpenOrders(ETH, undefined, undefined, { trigger: true, ordType: 'conditional' }),
    ).toHaveLength(0);
    const log = (await control(sim, 'GET', `/_sim/orders?exchange=okx&api_key=${key}`)) as {
      orders: Array<Record<string, unknown>>;
    };
    expect(log.orders.map((o) => [o['kind'], o['client_id'], o['status']])).toEqual([
      ['order', 'ethentry', 'filled'],
      ['algo', 'ethsl', 'triggered'],
      ['algo', 'ethtp', 'canceled'],
      ['order', 'ethsl', 'filled'],
    ]);
  });

  it('limit orders: pending, cancel-batch-orders, attached SL on entry', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim);
    const lim = await ex.createOrder(BTC, 'limit', 'buy', 1, 55000, { clientOrderId: 'oklim1' });
    expect((await ex.fetchOpenOrders(BTC)).map((o) => o.id)).toEqual([lim.id]);
    await ex.cancelOrders([lim.id as string], BTC);
    expect(await ex.fetchOpenOrders(BTC)).toHaveLength(0);
    expect((await ex.fetchOrder(lim.id as string, BTC)).status).toBe('canceled');
    await ex.createOrder(BTC, 'market', 'buy', 2, undefined, { stopLoss: { triggerPrice: 59000 } });
    const algos = await ex.fetchOpenOrders(BTC, undefined, undefined, {
      trigger: true,
      ordType: 'conditional',
    });
    expect(algos).toHaveLength(1);
    await setPrice(sim, 'BTC-USDT-SWAP', 58999);
    expect(await ex.fetchPositions([BTC])).toHaveLength(0);
  });

  it('attached SL+TP: one OCO algo order under attachAlgoClOrdId, gone as a whole when one half fires', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim);
    const pair = { slTriggerPx: '59000', slOrdPx: '-1', tpTriggerPx: '62000', tpOrdPx: '-1' };
    await ex.createOrder(BTC, 'market', 'buy', 2, undefined, {
      attachAlgoOrds: [{ attachAlgoClOrdId: 'okoco1', ...pair }],
    });
    const [oco] = await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true, ordType: 'oco' });
    expect(oco?.info).toMatchObject({ ordType: 'oco', algoClOrdId: 'okoco1', slTriggerPx: '59000' });
    await setPrice(sim, 'BTC-USDT-SWAP', 62000);
    expect(await ex.fetchPositions([BTC])).toHaveLength(0);
    const done = await ex.fetchOrder(undefined as unknown as string, BTC, {
      clientOrderId: 'okoco1',
      trigger: true,
    });
    expect(done.info).toMatchObject({ state: 'effective', actualSide: 'tp' });
    expect(await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true, ordType: 'oco' })).toEqual(
      [],
    );
  });

  it('refuses an entry whose attached SL/TP the price already passed (51046–51053), nothing filled', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim);
    const entry = (side: 'buy' | 'sell', att: Record<string, string>, price?: number) =>
      rejects(() =>
        ex.createOrder(BTC, price ? 'limit' : 'market', side, 1, price, { attachAlgoOrds: [att] }),
      );
    const sl = (px: string) => ({ slTriggerPx: px, slOrdPx: '-1' });
    const tp = (px: string) => ({ tpTriggerPx: px, tpOrdPx: '-1' });
    expect((await entry('buy', tp('60000'))).message).toContain('51050');
    expect((await entry('buy', sl('60001'))).message).toContain('51051');
    expect((await entry('sell', tp('60001'))).message).toContain('51052');
    expect((await entry('sell', sl('59999'))).message).toContain('51053');
    expect((await entry('buy', tp('54000'), 55000)).message).toContain('51046');
    expect((await entry('buy', sl('56000'), 55000)).message).toContain('51047');
    expect((await entry('sell', tp('66000'), 65000)).message).toContain('51048');
    expect((await entry('sell', sl('64000'), 65000)).message).toContain('51049');
    expect(await ex.fetchPositions([BTC])).toHaveLength(0);
    expect(await ex.fetchOpenOrders(BTC)).toHaveLength(0);
  });

  it('account/config reports the key permissions given at creation (perm, comma list)', async () => {
    const perm = async (ex: Awaited<ReturnType<typeof okxAccount>>['ex']) =>
      ((await ex.privateGetAccountConfig()) as { data: Array<{ perm: string }> }).data[0]?.perm;
    expect(await perm((await okxAccount(sim)).ex)).toBe('read_only,trade');
    const withdraw = await okxAccount(sim, { permissions: ['read_only', 'withdraw', 'trade'] });
    expect(await perm(withdraw.ex)).toBe('read_only,withdraw,trade');
    expect(await perm((await okxAccount(sim, { permissions: 'read_only' })).ex)).toBe('read_only');

    const patched = await control(sim, 'PATCH', `/_sim/accounts/okx/${withdraw.key}`, {
      permissions: 'read_only, trade',
    });
    expect(patched).toMatchObject({ ok: true, account: { permissions: ['read_only', 'trade'] } });
    expect(await perm(withdraw.ex)).toBe('read_only,trade');

    const invalid = { exchange: 'okx', api_key: 'perm-x', api_secret: 's', passphrase: 'p' };
    expect(
      await control(sim, 'POST', '/_sim/accounts', { ...invalid, permissions: ['transfer'] }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/invalid permissions transfer/) });
    expect(await control(sim, 'POST', '/_sim/accounts', { ...invalid, permissions: 7 })).toMatchObject({
      ok: false,
    });
    // Binance permissions have their own names (the apiRestrictions flags): OKX's are refused there.
    expect(
      await control(sim, 'POST', '/_sim/accounts', {
        ...invalid,
        exchange: 'binance',
        permissions: ['trade'],
      }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/invalid permissions trade: use reading/) });
  });

  it('hedge mode (long_short_mode) requires posSide (51000)', async () => {
    await setPrice(sim, 'SOL-USDT-SWAP', 150);
    const SOL = 'SOL/USDT:USDT';
    const { ex } = await okxAccount(sim, { positionMode: 'hedge' });
    expect((await ex.fetchPositionMode(SOL)).hedged).toBe(true);
    const e = await rejects(() => ex.createOrder(SOL, 'market', 'buy', 1));
    expect(e).toBeInstanceOf(ccxt.BadRequest);
    expect(e.message).toContain('51000');
    await ex.createOrder(SOL, 'market', 'buy', 3, undefined, { hedged: true });
    await ex.createOrder(SOL, 'market', 'sell', 2, undefined, { posSide: 'short' });
    const pos = await ex.fetchPositions([SOL]);
    expect(pos.map((p) => [p.side, p.contracts]).sort()).toEqual([
      ['long', 3],
      ['short', 2],
    ]);
    await ex.createOrder(SOL, 'market', 'sell', undefined as never, undefined, {
      hedged: true,
      stopLossPrice: 140,
      closeFraction: '1',
    });
    await setPrice(sim, 'SOL-USDT-SWAP', 139);
    expect((await ex.fetchPositions([SOL])).map((p) => p.side)).toEqual(['short']);
    expect((await ex.fetchMyTrades(SOL)).at(-1)?.info).toMatchObject({
      posSide: 'long',
      side: 'sell',
      fillPnl: '-33',
    });
  });
});
