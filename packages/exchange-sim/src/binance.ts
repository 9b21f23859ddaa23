/** Binance USDⓈ-M futures dialect (fapi). */
import { asReported, notVisibleYet } from './report-lag.ts';
import { randomBytes } from 'node:crypto';
import { verifyBinance } from './auth.ts';
import { feeBurn, income, userTrades } from './binance-history.ts';
import { type Account, type AlgoOrder, EngineError, type Order, type PosSide, type Side } from './engine.ts';
import { reply, type Reply, type Sim, type SimRequest } from './http.ts';
import { candles, INTERVAL_MS } from './klines.ts';
import { MARKETS, type MarketSpec, marketById } from './markets.ts';
import { decimalsIn, fmt, isMultiple, str } from './num.ts';
import { ALGO_STATUS, P_SIDE, STATUS } from './binance-codes.ts';

/** Open conditional orders per symbol (exchangeInfo filter MAX_NUM_ALGO_ORDERS). */
const MAX_NUM_ALGO_ORDERS = 10;

const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const ORDER_TYPES = [
  'LIMIT',
  'MARKET',
  'STOP',
  'STOP_MARKET',
  'TAKE_PROFIT',
  'TAKE_PROFIT_MARKET',
  'TRAILING_STOP_MARKET',
];
const ALGO_TYPES = ['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET'];

class BinanceError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly status = 400,
  ) {
    super(msg);
  }
}

function err(code: number, msg: string, status = 400): never {
  throw new BinanceError(code, msg, status);
}

export function binanceErrorReply(code: number, msg: string, status = 400): Reply {
  return reply({ code, msg }, status);
}

type Params = URLSearchParams;

function need(p: Params, name: string): string {
  const v = p.get(name);
  if (v === null || v === '')
    err(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  return v;
}

function bool(p: Params, name: string): boolean {
  return (p.get(name) ?? '').toLowerCase() === 'true';
}

function market(p: Params, required = true): MarketSpec | undefined {
  const s = p.get('symbol');
  if (!s) {
    if (required) need(p, 'symbol');
    return undefined;
  }
  const m = marketById(s.toUpperCase());
  if (!m) err(-1121, 'Invalid symbol.');
  return m;
}

function num(p: Params, name: string, decimals: number, step?: number, tickCode = -4014): number {
  const raw = need(p, name);
  const v = Number(raw);
  if (!Number.isFinite(v))
    err(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  if (decimalsIn(raw) > decimals) err(-1111, 'Precision is over the maximum defined for this asset.');
  if (step !== undefined && !isMultiple(v, step)) {
    if (tickCode === -4014) err(-4014, 'Price not increased by tick size.');
    err(-1013, 'Filter failure: LOT_SIZE');
  }
  return v;
}

function sideOf(p: Params): Side {
  const s = need(p, 'side').toUpperCase();
  if (s !== 'BUY' && s !== 'SELL') err(-1117, 'Invalid side.');
  return s === 'BUY' ? 'buy' : 'sell';
}

/** positionSide vs the account's mode: -4061 on mismatch. */
function posSideOf(acct: Account, p: Params): PosSide {
  const raw = (p.get('positionSide') ?? 'BOTH').toUpperCase();
  if (!['BOTH', 'LONG', 'SHORT'].includes(raw)) err(-4006, 'Invalid position side.');
  const hedge = acct.positionMode === 'hedge';
  if (hedge === (raw === 'BOTH')) err(-4061, "Order's position side does not match user's setting.");
  return raw.toLowerCase() as PosSide;
}

function orderJson(acct: Account, order: Order, withTime: boolean, nowMs: number): Record<string, unknown> {
  const o = asReported(acct, order, nowMs);
  const m = marketById(o.symbol) as MarketSpec;
  const origType = (o.meta['origType'] as string | undefined) ?? o.type.toUpperCase();
  const out: Record<string, unknown> = {
    orderId: o.id,
    symbol: o.symbol,
    status: STATUS[o.status],
    clientOrderId: o.clientId,
    price: fmt(o.price ?? 0, m.pricePrecision),
    avgPrice: fmt(o.avgPrice, Math.max(m.pricePrecision, 5)),
    origQty: fmt(o.qty, m.quantityPrecision),
    executedQty: fmt(o.filledQty, m.quantityPrecision),
    cumQty: fmt(o.filledQty, m.quantityPrecision),
    cumQuote: fmt(o.filledQty * o.avgPrice, 5),
    timeInForce: (o.meta['timeInForce'] as string | undefined) ?? 'GTC',
    type: o.type.toUpperCase(),
    reduceOnly: o.reduceOnly,
    closePosition: o.closePosition,
    side: o.side.toUpperCase(),
    positionSide: P_SIDE[o.posSide],
    stopPrice: fmt(0, m.pricePrecision),
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
  };
  if (withTime) out['time'] = o.createdAt;
  out['updateTime'] = o.updatedAt;
  return out;
}

function algoJson(a: AlgoOrder, sim: Sim): Record<string, unknown> {
  const m = marketById(a.symbol) as MarketSpec;
  const trig = a.slTrigger ?? a.tpTrigger ?? 0;
  const result =
    a.resultOrderId !== undefined
      ? sim.engine.account('binance', a.apiKey)?.orders.find((o) => o.id === a.resultOrderId)
      : undefined;
  return {
    algoId: a.id,
    clientAlgoId: a.clientId,
    algoType: 'CONDITIONAL',
    orderType: a.meta['orderType'] ?? 'STOP_MARKET',
    symbol: a.symbol,
    side: a.side.toUpperCase(),
    positionSide: P_SIDE[a.posSide],
    timeInForce: (a.meta['timeInForce'] as string | undefined) ?? 'GTC',
    quantity: fmt(a.qty ?? 0, m.quantityPrecision),
    algoStatus: ALGO_STATUS[a.status],
    actualOrderId: result ? String(result.id) : '',
    actualPrice: result ? fmt(result.avgPrice, m.pricePrecision) : fmt(0, m.pricePrecision),
    triggerPrice: fmt(trig, m.pricePrecision),
    price: fmt(a.orderPrice ?? 0, m.pricePrecision),
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: (a.meta['workingType'] as string | undefined) ?? 'CONTRACT_PRICE',
    priceMatch: 'NONE',
    closePosition: a.closePosition,
    priceProtect: false,
    reduceOnly: a.reduceOnly,
    createTime: a.createdAt,
    updateTime: a.updatedAt,
    triggerTime: a.triggeredAt ?? 0,
    goodTillDate: 0,
  };
}

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
      timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      permissionSets: ['GRID', 'COPY'],
    })),
  };
}

function brackets(m: MarketSpec): unknown {
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

function ensureClientId(p: Params, name: string): string {
  const id = p.get(name);
  if (id === null || id === '') return `sim${randomBytes(10).toString('hex')}`;
  if (!CLIENT_ID_RE.test(id)) {
    err(
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.`,
    );
  }
  return id;
}

function engineCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EngineError) {
      switch (e.kind) {
        case 'insufficient_margin':
          err(-2019, 'Margin is insufficient.');
        // falls through (err never returns)
        case 'reduce_only_rejected':
        case 'no_position':
        case 'over_close':
          err(-2022, 'ReduceOnly Order is rejected.');
        // falls through
        case 'unknown_symbol':
          err(-1121, 'Invalid symbol.');
      }
    }
    throw e;
  }
}

function placeOrder(sim: Sim, acct: Account, p: Params, arrivalMs: number): Reply {
  const m = market(p) as MarketSpec;
  const side = sideOf(p);
  const type = need(p, 'type').toUpperCase();
  if (!ORDER_TYPES.includes(type)) err(-1116, 'Invalid orderType.');
  if (type !== 'MARKET' && type !== 'LIMIT') {
    err(
      -4120,
      'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
    );
  }
  const posSide = posSideOf(acct, p);
  const reduceOnlyRaw = p.get('reduceOnly');
  if (acct.positionMode === 'hedge' && reduceOnlyRaw !== null)
    err(-1106, "Parameter 'reduceonly' sent when not required.");
  const reduceOnly = bool(p, 'reduceOnly');
  const qty = num(p, 'quantity', m.quantityPrecision, m.stepSize, -1013);
  if (qty <= 0) err(-4003, 'Quantity less than or equal to zero.');
  if (qty < m.minQty) err(-4004, 'Quantity less than min quantity.');
  if (type === 'MARKET' && qty > m.marketMaxQty) err(-4005, 'Quantity greater than max quantity.');
  let price: number | undefined;
  if (type === 'LIMIT') {
    need(p, 'timeInForce');
    price = num(p, 'price', m.pricePrecision, m.tickSize);
    if (price <= 0) err(-4001, 'Price less than 0.');
  }
  const clientId = ensureClientId(p, 'newClientOrderId');
  if (sim.engine.openOrders(acct).some((o) => o.clientId === clientId))
    err(-4116, 'ClientOrderId is duplicated.');
  const reducing = sim.engine.isReducing(acct, posSide, side, reduceOnly);
  const refPrice = price ?? sim.engine.price(m.id);
  if (!reducing && qty * refPrice < m.minNotional) {
    err(
      -4164,
      `Order's notional must be no smaller than ${str(m.minNotional)} (unless you choose reduce only).`,
    );
  }
  const order = engineCall(() =>
    sim.engine.placeOrder(acct, {
      symbol: m.id,
      side,
      posSide,
      type: type === 'MARKET' ? 'market' : 'limit',
      qty,
      price,
      reduceOnly,
      clientId,
      arrivalMs,
      overClose: acct.positionMode === 'hedge' ? 'reject' : 'clamp',
      meta: { timeInForce: p.get('timeInForce') ?? 'GTC', origType: type },
    }),
  );
  return reply(orderJson(acct, order, false, sim.engine.clock.now()));
}

function placeAlgo(sim: Sim, acct: Account, p: Params, arrivalMs: number): Reply {
  const algoType = need(p, 'algoType').toUpperCase();
  if (algoType !== 'CONDITIONAL') err(-1116, 'Invalid algoType.');
  const m = market(p) as MarketSpec;
  const side = sideOf(p);
  const type = need(p, 'type').toUpperCase();
  if (!ALGO_TYPES.includes(type)) err(-1116, 'Invalid orderType.');
  const posSide = posSideOf(acct, p);
  const closePosition = bool(p, 'closePosition');
  const reduceOnlyRaw = p.get('reduceOnly');
  if (reduceOnlyRaw !== null && (acct.positionMode === 'hedge' || closePosition)) {
    err(-1106, "Parameter 'reduceonly' sent when not required.");
  }
  const reduceOnly = bool(p, 'reduceOnly');
  const trigger = num(p, 'triggerPrice', m.pricePrecision, m.tickSize);
  if (trigger <= 0) err(-4001, 'Price less than 0.');
  let qty: number | undefined;
  if (closePosition) {
    if (p.get('quantity') !== null) err(-1106, "Parameter 'quantity' sent when not required.");
    if (type === 'STOP' || type === 'TAKE_PROFIT')
      err(-1106, "Parameter 'closePosition' sent when not required.");
  } else {
    qty = num(p, 'quantity', m.quantityPrecision, m.stepSize, -1013);
    if (qty <= 0) err(-4003, 'Quantity less than or equal to zero.');
    if (qty < m.minQty) err(-4004, 'Quantity less than min quantity.');
  }
  let orderPrice: number | undefined;
  if (type === 'STOP' || type === 'TAKE_PROFIT') orderPrice = num(p, 'price', m.pricePrecision, m.tickSize);
  const isStop = type === 'STOP' || type === 'STOP_MARKET';
  const legs = isStop
    ? { slTrigger: trigger, tpTrigger: undefined }
    : { slTrigger: undefined, tpTrigger: trigger };
  if (sim.engine.triggerHit({ side, ...legs }, sim.engine.price(m.id)))
    err(-2021, 'Order would immediately trigger.');
  // exchangeInfo's MAX_NUM_ALGO_ORDERS filter (limit 10 per symbol, Binance USDⓈ-M "Filters"); beyond it the
  // order is refused with -4045 "Reach max stop order limit." (Binance USDⓈ-M error codes).
  if (sim.engine.openAlgos(acct, m.id).length >= MAX_NUM_ALGO_ORDERS)
    err(-4045, 'Reach max stop order limit.');
  const clientId = ensureClientId(p, 'clientAlgoId');
  if (sim.engine.openAlgos(acct).some((a) => a.clientId === clientId))
    err(-4116, 'ClientOrderId is duplicated.');
  const reducing = closePosition || sim.engine.isReducing(acct, posSide, side, reduceOnly);
  if (!reducing && qty !== undefined && qty * (orderPrice ?? trigger) < m.minNotional) {
    err(
      -4164,
      `Order's notional must be no smaller than ${str(m.minNotional)} (unless you choose reduce only).`,
    );
  }
  const algo = engineCall(() =>
    sim.engine.placeAlgo(acct, {
      symbol: m.id,
      side,
      posSide,
      ...legs,
      orderPrice,
      qty,
      closePosition,
      reduceOnly,
      clientId,
      arrivalMs,
      meta: {
        orderType: type,
        workingType: p.get('workingType') ?? 'CONTRACT_PRICE',
        timeInForce: p.get('timeInForce') ?? 'GTC',
      },
    }),
  );
  return reply(algoJson(algo, sim));
}

function findOrder(acct: Account, p: Params): Order | undefined {
  const m = market(p) as MarketSpec;
  const id = p.get('orderId');
  const cid = p.get('origClientOrderId');
  if (!id && !cid) err(-1102, 'Either orderId or origClientOrderId must be sent.');
  for (let i = acct.orders.length - 1; i >= 0; i--) {
    const o = acct.orders[i] as Order;
    if (o.symbol !== m.id) continue;
    if (id ? String(o.id) === id : o.clientId === cid) return o;
  }
  return undefined;
}

function findAlgo(acct: Account, p: Params): AlgoOrder | undefined {
  const id = p.get('algoId');
  const cid = p.get('clientAlgoId');
  if (!id && !cid) err(-1102, 'Either algoId or clientAlgoId must be sent.');
  for (let i = acct.algoOrders.length - 1; i >= 0; i--) {
    const a = acct.algoOrders[i] as AlgoOrder;
    if (id ? String(a.id) === id : a.clientId === cid) return a;
  }
  return undefined;
}

function timeWindow(
  p: Params,
  defaultDays: number,
  nowMs: number,
): { from: number; to: number; limit: number } {
  const start = p.get('startTime');
  const end = p.get('endTime');
  const to = end ? Number(end) : start ? Number(start) + defaultDays * 86_400_000 : nowMs + 1;
  const from = start ? Number(start) : to - defaultDays * 86_400_000;
  return { from, to, limit: Number(p.get('limit') ?? 0) };
}

/**
 * `GET /fapi/v2/account` and `/fapi/v3/account`. v2 carries the key's flags and fee tier on top (ccxt's
 * recorded "Linear swap balance", test-fixtures/ccxt-recorded-responses.json); v3 dropped them.
 */
function accountJson(sim: Sim, acct: Account, version: 'v2' | 'v3'): Record<string, unknown> {
  const g = sim.engine.margins(acct);
  const positions = sim.engine.openPositions(acct).map((pos) => {
    const px = sim.engine.price(pos.symbol);
    const lev = sim.engine.settings(acct, pos.symbol).leverage;
    const notional = pos.qty * px;
    return {
      symbol: pos.symbol,
      positionSide: P_SIDE[pos.posSide],
      positionAmt: fmt(pos.qty, (marketById(pos.symbol) as MarketSpec).quantityPrecision),
      unrealizedProfit: fmt(sim.engine.unrealized(pos), 8),
      isolatedMargin: '0',
      notional: fmt(notional, 8),
      isolatedWallet: '0',
      initialMargin: fmt(Math.abs(notional) / lev, 8),
      maintMargin: fmt(Math.abs(notional) * 0.004, 8),
      updateTime: pos.updatedAt,
    };
  });
  const v2 =
    version === 'v2'
      ? {
          feeTier: 0,
          canTrade: acct.permissions.includes('futures'),
          canDeposit: true,
          canWithdraw: acct.permissions.includes('withdrawals'),
          tradeGroupId: -1,
          updateTime: 0,
          multiAssetsMargin: false,
        }
      : {};
  return {
    ...v2,
    totalInitialMargin: fmt(g.positionIM + g.orderIM, 8),
    totalMaintMargin: fmt(g.maint, 8),
    totalWalletBalance: fmt(g.wallet, 8),
    totalUnrealizedProfit: fmt(g.upl, 8),
    totalMarginBalance: fmt(g.marginBalance, 8),
    totalPositionInitialMargin: fmt(g.positionIM, 8),
    totalOpenOrderInitialMargin: fmt(g.orderIM, 8),
    totalCrossWalletBalance: fmt(g.wallet, 8),
    totalCrossUnPnl: fmt(g.upl, 8),
    availableBalance: fmt(g.available, 8),
    maxWithdrawAmount: fmt(Math.min(g.available, g.wallet), 8),
    assets: [
      {
        asset: 'USDT',
        walletBalance: fmt(g.wallet, 8),
        unrealizedProfit: fmt(g.upl, 8),
        marginBalance: fmt(g.marginBalance, 8),
        maintMargin: fmt(g.maint, 8),
        initialMargin: fmt(g.positionIM + g.orderIM, 8),
        positionInitialMargin: fmt(g.positionIM, 8),
        openOrderInitialMargin: fmt(g.orderIM, 8),
        crossWalletBalance: fmt(g.wallet, 8),
        crossUnPnl: fmt(g.upl, 8),
        availableBalance: fmt(g.available, 8),
        maxWithdrawAmount: fmt(Math.min(g.available, g.wallet), 8),
        marginAvailable: true,
        updateTime: acct.updatedAt,
      },
    ],
    positions,
  };
}

function positionRisk(sim: Sim, acct: Account, p: Params): unknown[] {
  const m = market(p, false);
  return sim.engine
    .openPositions(acct)
    .filter((pos) => !m || pos.symbol === m.id)
    .map((pos) => {
      const mk = marketById(pos.symbol) as MarketSpec;
      const px = sim.engine.price(pos.symbol);
      const s = sim.engine.settings(acct, pos.symbol);
      const notional = pos.qty * px;
      const isolated = s.marginMode === 'isolated';
      const im = Math.abs(notional) / s.leverage;
      const liq =
        pos.qty > 0
          ? pos.entryPrice * (1 - 1 / s.leverage + 0.004)
          : pos.entryPrice * (1 + 1 / s.leverage - 0.004);
      return {
        symbol: pos.symbol,
        positionSide: P_SIDE[pos.posSide],
        positionAmt: fmt(pos.qty, mk.quantityPrecision),
        entryPrice: str(pos.entryPrice),
        breakEvenPrice: str(pos.entryPrice * (1 + Math.sign(pos.qty) * acct.takerFee)),
        markPrice: fmt(px, 8),
        unRealizedProfit: fmt(sim.engine.unrealized(pos), 8),
        liquidationPrice: isolated ? fmt(Math.max(0, liq), 8) : '0',
        isolatedMargin: isolated ? fmt(Math.abs(pos.qty * pos.entryPrice) / s.leverage, 8) : '0',
        notional: fmt(notional, 8),
        marginAsset: 'USDT',
        isolatedWallet: isolated ? fmt(Math.abs(pos.qty * pos.entryPrice) / s.leverage, 8) : '0',
        initialMargin: fmt(im, 8),
        maintMargin: fmt(Math.abs(notional) * 0.004, 8),
        positionInitialMargin: fmt(im, 8),
        openOrderInitialMargin: '0',
        adl: 1,
        bidNotional: '0',
        askNotional: '0',
        updateTime: pos.updatedAt,
      };
    });
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

const PUBLIC = new Set([
  '/fapi/v1/time',
  '/fapi/v1/ping',
  '/fapi/v1/exchangeInfo',
  '/fapi/v1/klines',
  '/fapi/v1/markPriceKlines',
  '/fapi/v1/ticker/price',
  '/fapi/v2/ticker/price',
  '/fapi/v1/ticker/24hr',
  '/fapi/v1/ticker/bookTicker',
  '/fapi/v1/premiumIndex',
  '/fapi/v1/depth',
]);

/** Order placement: what the matching engine executes, and so re-checks for recvWindow. */
const ME_CHECKED = new Set(['/fapi/v1/order', '/fapi/v1/batchOrders', '/fapi/v1/algoOrder']);

function reachedMatchingEngineLate(p: URLSearchParams, nowMs: number): boolean {
  const ts = Number(p.get('timestamp'));
  const recvWindow = Number(p.get('recvWindow') ?? 5000);
  return Number.isFinite(ts) && nowMs - ts > recvWindow;
}

export async function handleBinance(sim: Sim, req: SimRequest): Promise<Reply> {
  try {
    return route(sim, req);
  } catch (e) {
    if (e instanceof BinanceError) return binanceErrorReply(e.code, e.message, e.status);
    throw e;
  }
}

function route(sim: Sim, req: SimRequest): Reply {
  const { method, path } = req;
  const engine = sim.engine;
  const q = req.query;
  if (PUBLIC.has(path)) {
    if (method !== 'GET') err(-1014, 'Unsupported order combination.');
    switch (path) {
      case '/fapi/v1/time':
        return reply({ serverTime: sim.engine.clock.now() });
      case '/fapi/v1/ping':
        return reply({});
      case '/fapi/v1/exchangeInfo':
        return reply(exchangeInfo(sim));
      case '/fapi/v1/klines':
      case '/fapi/v1/markPriceKlines': {
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
      }
      case '/fapi/v1/ticker/price':
      case '/fapi/v2/ticker/price': {
        const m = market(q, false);
        const one = (x: MarketSpec) => ({
          symbol: x.id,
          price: fmt(engine.price(x.id), x.pricePrecision),
          time: sim.engine.clock.now(),
        });
        return reply(m ? one(m) : MARKETS.map(one));
      }
      case '/fapi/v1/ticker/24hr': {
        const m = market(q, false);
        return reply(m ? tickerJson(sim, m) : MARKETS.map((x) => tickerJson(sim, x)));
      }
      case '/fapi/v1/ticker/bookTicker': {
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
      }
      case '/fapi/v1/depth': {
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
      }
      case '/fapi/v1/premiumIndex': {
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
      }
    }
  }
  // ── signed endpoints ──
  // The gateway checks the timestamp when the request arrives; a slow path to the matching engine comes after.
  const auth = verifyBinance(
    engine,
    req.headers,
    req.rawQuery,
    req.body,
    req.arrivalMs + engine.clock.offset,
  );
  if ('error' in auth) return binanceErrorReply(Number(auth.error.code), auth.error.msg, auth.error.status);
  const acct = auth.account;
  const p = new URLSearchParams(
    req.rawQuery && req.body ? `${req.rawQuery}&${req.body}` : req.rawQuery || req.body,
  );
  if (method === 'POST' && ME_CHECKED.has(path) && reachedMatchingEngineLate(p, engine.clock.now())) {
    // USDⓈ-M error code -5028 (in ccxt's binance "linear" error table): the matching engine re-checks the
    // timestamp against recvWindow, so an order that reaches it too late is refused, never executed.
    return binanceErrorReply(-5028, 'Timestamp for this request is outside of the ME recvWindow.', 400);
  }
  const key = `${method} ${path}`;
  switch (key) {
    case 'GET /sapi/v1/account/apiRestrictions': {
      // Binance "Get API Key Permission" (USER_DATA, weight 1): the key's restrictions as enable* flags.
      const has = (perm: string) => acct.permissions.includes(perm);
      return reply({
        ipRestrict: false,
        createTime: acct.createdAt,
        enableReading: has('reading'),
        enableWithdrawals: has('withdrawals'),
        enableInternalTransfer: has('internal_transfer'),
        enableMargin: has('margin'),
        enableFutures: has('futures'),
        permitsUniversalTransfer: has('universal_transfer'),
        enableVanillaOptions: has('vanilla_options'),
        enableFixApiTrade: false,
        enableFixReadOnly: false,
        enableSpotAndMarginTrading: has('spot_and_margin_trading'),
        enablePortfolioMarginTrading: false,
      });
    }
    case 'GET /sapi/v1/capital/config/getall':
    case 'GET /sapi/v1/margin/allPairs':
    case 'GET /sapi/v1/margin/isolated/allPairs':
      return reply([]);
    case 'GET /fapi/v3/account':
      return reply(accountJson(sim, acct, 'v3'));
    case 'GET /fapi/v2/account':
      return reply(accountJson(sim, acct, 'v2'));
    case 'GET /fapi/v2/balance':
    case 'GET /fapi/v3/balance': {
      const g = engine.margins(acct);
      return reply([
        {
          accountAlias: 'SgsR',
          asset: 'USDT',
          balance: fmt(g.wallet, 8),
          crossWalletBalance: fmt(g.wallet, 8),
          crossUnPnl: fmt(g.upl, 8),
          availableBalance: fmt(g.available, 8),
          maxWithdrawAmount: fmt(Math.min(g.available, g.wallet), 8),
          marginAvailable: true,
          updateTime: acct.updatedAt,
        },
      ]);
    }
    case 'GET /fapi/v3/positionRisk':
    case 'GET /fapi/v2/positionRisk':
      return reply(positionRisk(sim, acct, p));
    case 'GET /fapi/v1/symbolConfig': {
      // Binance "Symbol Configuration (USER_DATA)": leverage and margin type per symbol — v3 positionRisk no
      // longer carries leverage; ccxt's fetchLeverages reads it here (binance.js, fapiPrivateGetSymbolConfig).
      const m = market(p, false);
      return reply(
        (m ? [m] : MARKETS).map((mk) => {
          const s = engine.settings(acct, mk.id);
          return {
            symbol: mk.id,
            marginType: s.marginMode === 'isolated' ? 'ISOLATED' : 'CROSSED',
            isAutoAddMargin: 'false',
            leverage: s.leverage,
            maxNotionalValue: s.leverage > 50 ? '50000' : s.leverage > 20 ? '500000' : '5000000',
          };
        }),
      );
    }
    case 'GET /fapi/v1/leverageBracket': {
      const m = market(p, false);
      return reply(m ? [brackets(m)] : MARKETS.map(brackets));
    }
    case 'GET /fapi/v1/commissionRate': {
      const m = market(p) as MarketSpec;
      return reply({
        symbol: m.id,
        makerCommissionRate: str(acct.makerFee),
        takerCommissionRate: str(acct.takerFee),
        rpiCommissionRate: '0',
      });
    }
    case 'POST /fapi/v1/leverage': {
      const m = market(p) as MarketSpec;
      const raw = need(p, 'leverage');
      const lev = Number(raw);
      if (!Number.isInteger(lev) || lev < 1 || lev > m.maxLeverage)
        err(-4028, `Leverage ${raw} is not valid`);
      engine.settings(acct, m.id).leverage = lev;
      return reply({
        leverage: lev,
        maxNotionalValue: lev > 50 ? '50000' : lev > 20 ? '500000' : '5000000',
        symbol: m.id,
      });
    }
    case 'POST /fapi/v1/marginType': {
      const m = market(p) as MarketSpec;
      const t = need(p, 'marginType').toUpperCase();
      if (t !== 'ISOLATED' && t !== 'CROSSED') err(-4002, 'Invalid margin type.');
      const mode = t === 'ISOLATED' ? 'isolated' : 'cross';
      const s = engine.settings(acct, m.id);
      if (s.marginMode === mode) err(-4046, 'No need to change margin type.');
      if (engine.openPositions(acct).some((x) => x.symbol === m.id))
        err(-4048, 'Margin type cannot be changed if there exists position.');
      if (engine.openOrders(acct, m.id).length > 0)
        err(-4047, 'Margin type cannot be changed if there exists open orders.');
      s.marginMode = mode;
      return reply({ code: 200, msg: 'success' });
    }
    case 'GET /fapi/v1/positionSide/dual':
      return reply({ dualSidePosition: acct.positionMode === 'hedge' });
    case 'POST /fapi/v1/positionSide/dual': {
      const want = need(p, 'dualSidePosition').toLowerCase() === 'true' ? 'hedge' : 'oneway';
      if (acct.positionMode === want) err(-4059, 'No need to change position side.');
      if (engine.openPositions(acct).length > 0)
        err(-4068, 'Position side cannot be changed if there exists position.');
      if (engine.openOrders(acct).length > 0)
        err(-4067, 'Position side cannot be changed if there exists open orders.');
      acct.positionMode = want;
      return reply({ code: 200, msg: 'success' });
    }
    case 'POST /fapi/v1/order':
      return placeOrder(sim, acct, p, req.arrivalMs);
    case 'GET /fapi/v1/order':
    case 'GET /fapi/v1/openOrder': {
      const o = findOrder(acct, p);
      if (
        !o ||
        notVisibleYet(acct, o.createdAt, engine.clock.now()) ||
        (path.endsWith('openOrder') && o.status !== 'new')
      )
        err(-2013, 'Order does not exist.');
      return reply(orderJson(acct, o, true, engine.clock.now()));
    }
    case 'DELETE /fapi/v1/order': {
      const o = findOrder(acct, p);
      if (!o || !engine.cancelOrder(acct, o)) err(-2011, 'Unknown order sent.');
      return reply(orderJson(acct, o, false, engine.clock.now()));
    }
    case 'GET /fapi/v1/openOrders': {
      const m = market(p, false);
      return reply(engine.openOrders(acct, m?.id).map((o) => orderJson(acct, o, true, engine.clock.now())));
    }
    case 'GET /fapi/v1/allOrders': {
      const m = market(p) as MarketSpec;
      const w = timeWindow(p, 7, engine.clock.now());
      const list = acct.orders.filter(
        (o) => o.symbol === m.id && o.createdAt >= w.from && o.createdAt <= w.to && o.source === 'api',
      );
      return reply(list.slice(-(w.limit || 500)).map((o) => orderJson(acct, o, true, engine.clock.now())));
    }
    case 'DELETE /fapi/v1/allOpenOrders': {
      const m = market(p) as MarketSpec;
      for (const o of engine.openOrders(acct, m.id)) engine.cancelOrder(acct, o);
      return reply({ code: 200, msg: 'The operation of cancel all open order is done.' });
    }
    case 'POST /fapi/v1/algoOrder':
      return placeAlgo(sim, acct, p, req.arrivalMs);
    case 'GET /fapi/v1/algoOrder': {
      const a = findAlgo(acct, p);
      if (!a || notVisibleYet(acct, a.createdAt, engine.clock.now())) err(-2013, 'Order does not exist.');
      return reply(algoJson(a, sim));
    }
    case 'DELETE /fapi/v1/algoOrder': {
      const a = findAlgo(acct, p);
      if (!a || !engine.cancelAlgo(acct, a)) err(-2011, 'Unknown order sent.');
      return reply({ algoId: a.id, clientAlgoId: a.clientId, code: '200', msg: 'success' });
    }
    case 'GET /fapi/v1/openAlgoOrders': {
      const m = market(p, false);
      return reply(engine.openAlgos(acct, m?.id).map((a) => algoJson(a, sim)));
    }
    case 'GET /fapi/v1/allAlgoOrders': {
      const m = market(p) as MarketSpec;
      return reply(acct.algoOrders.filter((a) => a.symbol === m.id).map((a) => algoJson(a, sim)));
    }
    case 'DELETE /fapi/v1/algoOpenOrders': {
      const m = market(p) as MarketSpec;
      for (const a of engine.openAlgos(acct, m.id)) engine.cancelAlgo(acct, a);
      return reply({ code: 200, msg: 'success' });
    }
    case 'GET /fapi/v1/userTrades':
      return userTrades(engine, acct, p);
    case 'GET /fapi/v1/income':
      return income(engine, acct, p);
    case 'GET /fapi/v1/feeBurn':
    case 'POST /fapi/v1/feeBurn':
      return feeBurn(acct, method, p);
  }
  return binanceErrorReply(-5000, 'Path ' + path + ', Method ' + method + ' is invalid', 404);
}
