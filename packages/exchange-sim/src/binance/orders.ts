/** Binance USDⓈ-M orders and conditional (algo) orders: JSON shapes, placement, and their routes. */
import { asReported, notVisibleYet } from '../report-lag.ts';
import { type Account, type AlgoOrder, type Order } from '../engine.ts';
import { reply, type Reply, type Sim } from '../http.ts';
import { type MarketSpec, marketById } from '../markets.ts';
import { decimalsIn, fmt, str } from '../num.ts';
import { ALGO_STATUS, P_SIDE, STATUS } from '../binance-codes.ts';
import {
  ALGO_TYPES,
  bool,
  engineCall,
  ensureClientId,
  err,
  market,
  MAX_NUM_ALGO_ORDERS,
  need,
  num,
  ORDER_TYPES,
  type Params,
  posSideOf,
  sideOf,
  timeWindow,
  TIME_IN_FORCE,
} from './params.ts';
import { route, type Route } from '../route-table.ts';

export function orderJson(
  acct: Account,
  order: Order,
  withTime: boolean,
  nowMs: number,
): Record<string, unknown> {
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

export function algoJson(a: AlgoOrder, sim: Sim): Record<string, unknown> {
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
    ...trailingJson(a, m),
  };
}

function trailingJson(a: AlgoOrder, m: MarketSpec): Record<string, unknown> {
  const t = a.meta['trailing'] as { rate: number; activation?: number } | undefined;
  if (!t) return {};
  return {
    callbackRate: str(Math.round(t.rate * 10000) / 100),
    activatePrice: t.activation === undefined ? '' : fmt(t.activation, m.pricePrecision),
  };
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
  let tif = 'GTC';
  if (type === 'LIMIT') {
    // Binance USDⓈ-M "New Order (TRADE)": LIMIT requires timeInForce (GTC, IOC, FOK, GTX = post-only, GTD);
    // anything else is -1115 "Invalid timeInForce." (USDⓈ-M error codes).
    tif = need(p, 'timeInForce').toUpperCase();
    if (!TIME_IN_FORCE.includes(tif)) err(-1115, 'Invalid timeInForce.');
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
  if (price !== undefined) {
    // The simulated book is the last price: a limit at or through it would take.
    const last = sim.engine.price(m.id);
    const wouldTake = side === 'buy' ? price >= last : price <= last;
    // -5022 / -5021: the messages ccxt records in its binance "linear" exceptions table (binance.ts).
    if (tif === 'GTX' && wouldTake)
      err(-5022, 'Due to the order could not be executed as maker, the Post Only order will be rejected.');
    const depth = sim.engine.limitDepth.get(m.id) ?? Infinity;
    if (tif === 'FOK' && (!wouldTake || depth < qty))
      err(-5021, 'Due to the order could not be filled immediately, the FOK order has been rejected.');
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
      meta: { timeInForce: type === 'LIMIT' ? tif : (p.get('timeInForce') ?? 'GTC'), origType: type },
    }),
  );
  // IOC: what does not fill at once is dropped (status EXPIRED, Binance "Order Status" / ORDER_TRADE_UPDATE x).
  if (tif === 'IOC' || tif === 'FOK') sim.engine.expireOrder(acct, order);
  return reply(orderJson(acct, order, false, sim.engine.clock.now()));
}

/**
 * TRAILING_STOP_MARKET (Binance USDⓈ-M "New Algo Order", POST /fapi/v1/algoOrder): `callbackRate` "min 0.1,
 * max 10 where 1 for 1%", optional `activatePrice` (default: the latest price). The docs give no error code
 * for a callbackRate out of range or finer than 0.1 (the UI's step): the stricter reading refuses it as a
 * malformed parameter (-1102, "A mandatory parameter was not sent, was empty/null, or malformed", USDⓈ-M
 * "Error Codes"). `activationPrice` is the name on the old /fapi/v1/order, not read by the algo endpoint;
 * ccxt 4.5.84 still sends it there for `trailingTriggerPrice` (binance.ts createOrderRequest), so the stricter
 * answer is -1104 "Not all sent parameters were read" rather than a trailing stop silently armed at once.
 * `closePosition` → -4136 (ccxt's binance exceptions: "Target strategy invalid for orderType
 * TRAILING_STOP_MARKET,closePosition true"). An activation price already passed (sell: ≤ last, buy: ≥ last)
 * → -4135 INVALID_ACTIVATION_PRICE ("Invalid activation price", USDⓈ-M "Error Codes"; ccxt maps it too).
 */
function trailingOf(
  sim: Sim,
  m: MarketSpec,
  side: 'buy' | 'sell',
  p: Params,
  closePosition: boolean,
): { rate: number; activation: number | undefined; extreme: number } {
  if (closePosition)
    err(-4136, 'Target strategy invalid for orderType TRAILING_STOP_MARKET,closePosition true');
  if (p.get('activationPrice') !== null)
    err(-1104, "Not all sent parameters were read; 'activationPrice' is not a parameter of this endpoint.");
  const raw = need(p, 'callbackRate');
  const rate = Number(raw);
  if (!Number.isFinite(rate) || rate < 0.1 || rate > 10 || decimalsIn(raw) > 1)
    err(-1102, "Mandatory parameter 'callbackRate' was not sent, was empty/null, or malformed.");
  const last = sim.engine.price(m.id);
  let activation: number | undefined;
  if (p.get('activatePrice') !== null) {
    activation = num(p, 'activatePrice', m.pricePrecision, m.tickSize);
    if (side === 'sell' ? activation <= last : activation >= last) err(-4135, 'Invalid activation price.');
  }
  return { rate: rate / 100, activation, extreme: activation ?? last };
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
  const trailing = type === 'TRAILING_STOP_MARKET' ? trailingOf(sim, m, side, p, closePosition) : undefined;
  const trigger = trailing
    ? (trailing.activation ?? sim.engine.price(m.id))
    : num(p, 'triggerPrice', m.pricePrecision, m.tickSize);
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
  const legs = trailing
    ? { slTrigger: undefined, tpTrigger: undefined }
    : isStop
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
        ...(trailing ? { trailing: { ...trailing, activated: trailing.activation === undefined } } : {}),
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

/** Orders and algo orders (Binance USDⓈ-M "Trade Endpoints"). */
export const ORDER_ROUTES: Route[] = [
  route(['POST /fapi/v1/order'], ({ sim, p, acct, req }) => placeOrder(sim, acct, p, req.arrivalMs)),
  route(['GET /fapi/v1/order', 'GET /fapi/v1/openOrder'], ({ engine, p, acct, path }) => {
    const o = findOrder(acct, p);
    if (
      !o ||
      notVisibleYet(acct, o.createdAt, engine.clock.now()) ||
      (path.endsWith('openOrder') && o.status !== 'new')
    )
      err(-2013, 'Order does not exist.');
    return reply(orderJson(acct, o, true, engine.clock.now()));
  }),
  route(['DELETE /fapi/v1/order'], ({ engine, p, acct }) => {
    const o = findOrder(acct, p);
    if (!o || !engine.cancelOrder(acct, o)) err(-2011, 'Unknown order sent.');
    return reply(orderJson(acct, o, false, engine.clock.now()));
  }),
  route(['GET /fapi/v1/openOrders'], ({ engine, p, acct }) => {
    const m = market(p, false);
    return reply(engine.openOrders(acct, m?.id).map((o) => orderJson(acct, o, true, engine.clock.now())));
  }),
  route(['GET /fapi/v1/allOrders'], ({ engine, p, acct }) => {
    const m = market(p) as MarketSpec;
    const w = timeWindow(p, 7, engine.clock.now());
    const list = acct.orders.filter(
      (o) => o.symbol === m.id && o.createdAt >= w.from && o.createdAt <= w.to && o.source === 'api',
    );
    return reply(list.slice(-(w.limit || 500)).map((o) => orderJson(acct, o, true, engine.clock.now())));
  }),
  route(['DELETE /fapi/v1/allOpenOrders'], ({ engine, p, acct }) => {
    const m = market(p) as MarketSpec;
    for (const o of engine.openOrders(acct, m.id)) engine.cancelOrder(acct, o);
    return reply({ code: 200, msg: 'The operation of cancel all open order is done.' });
  }),
  route(['POST /fapi/v1/algoOrder'], ({ sim, p, acct, req }) => placeAlgo(sim, acct, p, req.arrivalMs)),
  route(['GET /fapi/v1/algoOrder'], ({ sim, engine, p, acct }) => {
    const a = findAlgo(acct, p);
    if (!a || notVisibleYet(acct, a.createdAt, engine.clock.now())) err(-2013, 'Order does not exist.');
    return reply(algoJson(a, sim));
  }),
  route(['DELETE /fapi/v1/algoOrder'], ({ engine, p, acct }) => {
    const a = findAlgo(acct, p);
    if (!a || !engine.cancelAlgo(acct, a)) err(-2011, 'Unknown order sent.');
    return reply({ algoId: a.id, clientAlgoId: a.clientId, code: '200', msg: 'success' });
  }),
  route(['GET /fapi/v1/openAlgoOrders'], ({ sim, engine, p, acct }) => {
    const m = market(p, false);
    return reply(engine.openAlgos(acct, m?.id).map((a) => algoJson(a, sim)));
  }),
  route(['GET /fapi/v1/allAlgoOrders'], ({ sim, p, acct }) => {
    const m = market(p) as MarketSpec;
    return reply(acct.algoOrders.filter((a) => a.symbol === m.id).map((a) => algoJson(a, sim)));
  }),
  route(['DELETE /fapi/v1/algoOpenOrders'], ({ engine, p, acct }) => {
    const m = market(p) as MarketSpec;
    for (const a of engine.openAlgos(acct, m.id)) engine.cancelAlgo(acct, a);
    return reply({ code: 200, msg: 'success' });
  }),
];
