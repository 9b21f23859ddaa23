/** Binance USDⓈ-M public market data: exchangeInfo, klines, tickers, depth, premium index. */
import { type Sim } from '../http.ts';
import { reply } from '../http.ts';
import { candles, INTERVAL_MS } from '../klines.ts';
import { MARKETS, type MarketSpec } from '../markets.ts';
import { fmt, str } from '../num.ts';
import { err, market, MAX_NUM_ALGO_ORDERS, need, ORDER_TYPES, TIME_IN_FORCE } from './params.ts';
import { route, type Route } from '../route-table.ts';

function exchangeInfo(sim: Sim): unknown {
  return {
    timezone: 'UTC',
    serverTime: sim.engine.clock.now(),
    futuresType: 'U_MARGINED',
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
    ],
    exchangeFilters: [],
    assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
    symbols: MARKETS.map((m) => ({
      symbol: m.id,
      pair: m.id,
      contractType: 'PERPETUAL',
      deliveryDate: 4133404800000,
      onboardDate: 1569398400000,
      status: 'TRADING',
      maintMarginPercent: '2.5000',
      requiredMarginPercent: '5.0000',
      baseAsset: m.base,
      quoteAsset: 'USDT',
      marginAsset: 'USDT',
      pricePrecision: m.pricePrecision,
      quantityPrecision: m.quantityPrecision,
      baseAssetPrecision: 8,
      quotePrecision: 8,
      underlyingType: 'COIN',
      underlyingSubType: ['PoW'],
      triggerProtect: '0.0500',
      liquidationFee: '0.012500',
      marketTakeBound: '0.05',
      maxMoveOrderLimit: 10000,
      filters: [
        {
          filterType: 'PRICE_FILTER',
          minPrice: fmt(m.tickSize, m.pricePrecision),
          maxPrice: fmt(sim.engine.price(m.id) * 100, m.pricePrecision),
          tickSize: fmt(m.tickSize, m.pricePrecision),
        },
        {
          filterType: 'LOT_SIZE',
          stepSize: fmt(m.stepSize, m.quantityPrecision),
          maxQty: fmt(m.maxQty, m.quantityPrecision),
          minQty: fmt(m.minQty, m.quantityPrecision),
        },
        {
          filterType: 'MARKET_LOT_SIZE',
          stepSize: fmt(m.stepSize, m.quantityPrecision),
          maxQty: fmt(m.marketMaxQty, m.quantityPrecision),
          minQty: fmt(m.minQty, m.quantityPrecision),
        },
        { filterType: 'MAX_NUM_ORDERS', limit: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', limit: MAX_NUM_ALGO_ORDERS },
        { filterType: 'MIN_NOTIONAL', notional: str(m.minNotional) },
        {
          filterType: 'PERCENT_PRICE',
          multiplierUp: '1.0500',
          multiplierDown: '0.9500',
          multiplierDecimal: '4',
        },
      ],
      orderTypes: ORDER_TYPES,
      timeInForce: TIME_IN_FORCE,
      permissionSets: ['GRID', 'COPY'],
    })),
  };
}

export function brackets(m: MarketSpec): unknown {
  const tiers: Array<[number, number, number]> = [
    [m.maxLeverage, 50_000, 0.004],
    [Math.min(m.maxLeverage, 50), 500_000, 0.005],
    [20, 5_000_000, 0.01],
    [10, 50_000_000, 0.025],
    [5, 100_000_000, 0.05],
  ];
  let floor = 0;
  let cum = 0;
  let prevRatio = 0;
  return {
    symbol: m.id,
    notionalCoef: 1.0,
    brackets: tiers.map(([lev, cap, ratio], i) => {
      cum += floor * (ratio - prevRatio);
      const b = {
        bracket: i + 1,
        initialLeverage: lev,
        notionalCap: cap,
        notionalFloor: floor,
        maintMarginRatio: ratio,
        cum,
      };
      floor = cap;
      prevRatio = ratio;
      return b;
    }),
  };
}

function tickerJson(sim: Sim, m: MarketSpec): Record<string, unknown> {
  const px = sim.engine.price(m.id);
  const day = candles(m, px, 86_400_000, { limit: 1, now: sim.engine.clock.now() })[0];
  const open = day?.open ?? px;
  const now = sim.engine.clock.now();
  return {
    symbol: m.id,
    priceChange: fmt(px - open, m.pricePrecision),
    priceChangePercent: fmt(((px - open) / open) * 100, 3),
    weightedAvgPrice: fmt(px, m.pricePrecision),
    lastPrice: fmt(px, m.pricePrecision),
    lastQty: fmt(m.minQty, m.quantityPrecision),
    openPrice: fmt(open, m.pricePrecision),
    highPrice: fmt(Math.max(day?.high ?? px, px), m.pricePrecision),
    lowPrice: fmt(Math.min(day?.low ?? px, px), m.pricePrecision),
    volume: fmt(day?.volume ?? 0, m.quantityPrecision),
    quoteVolume: fmt((day?.volume ?? 0) * px, 2),
    openTime: now - 86_400_000,
    closeTime: now,
    firstId: 1,
    lastId: 2,
    count: 2,
  };
}

/** Public (unsigned) endpoints; GET only (Binance answers -1014 to another method). */
export const PUBLIC_ROUTES: Route[] = [
  route(['GET /fapi/v1/time'], ({ sim }) => reply({ serverTime: sim.engine.clock.now() })),
  route(['GET /fapi/v1/ping'], () => reply({})),
  route(['GET /fapi/v1/exchangeInfo'], ({ sim }) => reply(exchangeInfo(sim))),
  route(['GET /fapi/v1/klines', 'GET /fapi/v1/markPriceKlines'], ({ engine, q }) => {
    const m = market(q) as MarketSpec;
    const iv = INTERVAL_MS[need(q, 'interval')];
    if (!iv) err(-1120, 'Invalid interval.');
    const limit = Math.min(Number(q.get('limit') ?? 500), 1500);
    const start = q.get('startTime');
    const end = q.get('endTime');
    const list = candles(m, engine.price(m.id), iv, {
      limit,
      startTime: start ? Number(start) : undefined,
      endTime: end ? Number(end) : undefined,
      now: engine.clock.now(),
    });
    return reply(
      list.map((c) => [
        c.openTime,
        fmt(c.open, m.pricePrecision),
        fmt(c.high, m.pricePrecision),
        fmt(c.low, m.pricePrecision),
        fmt(c.close, m.pricePrecision),
        fmt(c.volume, m.quantityPrecision),
        c.closeTime,
        fmt(c.volume * c.close, 4),
        1000,
        fmt(c.volume / 2, m.quantityPrecision),
        fmt((c.volume * c.close) / 2, 4),
        '0',
      ]),
    );
  }),
  route(['GET /fapi/v1/ticker/price', 'GET /fapi/v2/ticker/price'], ({ sim, engine, q }) => {
    const m = market(q, false);
    const one = (x: MarketSpec) => ({
      symbol: x.id,
      price: fmt(engine.price(x.id), x.pricePrecision),
      time: sim.engine.clock.now(),
    });
    return reply(m ? one(m) : MARKETS.map(one));
  }),
  route(['GET /fapi/v1/ticker/24hr'], ({ sim, q }) => {
    const m = market(q, false);
    return reply(m ? tickerJson(sim, m) : MARKETS.map((x) => tickerJson(sim, x)));
  }),
  route(['GET /fapi/v1/ticker/bookTicker'], ({ sim, engine, q }) => {
    const m = market(q, false);
    const one = (x: MarketSpec) => {
      const px = engine.price(x.id);
      return {
        symbol: x.id,
        bidPrice: fmt(px - x.tickSize, x.pricePrecision),
        bidQty: '10',
        askPrice: fmt(px, x.pricePrecision),
        askQty: '10',
        time: sim.engine.clock.now(),
      };
    };
    return reply(m ? one(m) : MARKETS.map(one));
  }),
  route(['GET /fapi/v1/depth'], ({ sim, engine, q }) => {
    const m = market(q) as MarketSpec;
    const px = engine.price(m.id);
    const lvl = (k: number) =>
      Array.from({ length: 5 }, (_, i) => [
        fmt(px + k * (i + (k > 0 ? 0 : 1)) * m.tickSize, m.pricePrecision),
        fmt(m.minQty * 10, m.quantityPrecision),
      ]);
    return reply({
      lastUpdateId: sim.engine.clock.now(),
      E: sim.engine.clock.now(),
      T: sim.engine.clock.now(),
      bids: lvl(-1),
      asks: lvl(1),
    });
  }),
  route(['GET /fapi/v1/premiumIndex'], ({ sim, engine, q }) => {
    const m = market(q, false);
    const one = (x: MarketSpec) => {
      const px = fmt(engine.price(x.id), 8);
      return {
        symbol: x.id,
        markPrice: px,
        indexPrice: px,
        estimatedSettlePrice: px,
        lastFundingRate: '0.00010000',
        interestRate: '0.00010000',
        nextFundingTime: Math.ceil(sim.engine.clock.now() / 28_800_000) * 28_800_000,
        time: sim.engine.clock.now(),
      };
    };
    return reply(m ? one(m) : MARKETS.map(one));
  }),
];
