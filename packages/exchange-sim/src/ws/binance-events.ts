/**
 * Binance USDⓈ-M WebSocket payloads, field names and types as documented (developers.binance.com,
 * derivatives/usds-margined-futures): user data stream events "Event: Order Update" (ORDER_TRADE_UPDATE),
 * "Event: Balance and Position Update" (ACCOUNT_UPDATE), "Event: Algo Order Update" (ALGO_UPDATE),
 * "Event: User Data Stream Expired" (listenKeyExpired); market streams "Mark Price Stream",
 * "Individual Symbol Book Ticker Streams", "Individual Symbol Ticker Streams" and "… Mini Ticker Stream".
 * Numbers are strings where Binance sends strings, ids and times are numbers.
 */
import type { Account, AlgoOrder, Engine, Order, PosSide, Trade } from '../engine.ts';
import { candles } from '../klines.ts';
import { type MarketSpec, marketById } from '../markets.ts';
import { fmt } from '../num.ts';
import { ALGO_STATUS, P_SIDE, STATUS } from '../binance-codes.ts';

function spec(symbol: string): MarketSpec {
  return marketById(symbol) as MarketSpec;
}

/** ORDER_TRADE_UPDATE: `x` is TRADE when this event carries a fill (`l`, `L`, `t`, `n`, `rp`), else the new status. */
export function orderTradeUpdate(order: Order, trade: Trade | undefined): Record<string, unknown> {
  const m = spec(order.symbol);
  const now = Date.now();
  const execType = trade
    ? 'TRADE'
    : order.status === 'canceled'
      ? 'CANCELED'
      : order.status === 'expired'
        ? 'EXPIRED'
        : 'NEW';
  // A triggered conditional order reaches the matching engine as MARKET/LIMIT; `ot` keeps its conditional type.
  const origType =
    (order.meta['orderType'] as string | undefined) ??
    (order.meta['origType'] as string | undefined) ??
    order.type.toUpperCase();
  const o: Record<string, unknown> = {
    s: order.symbol,
    c: order.clientId,
    S: order.side.toUpperCase(),
    o: order.type.toUpperCase(),
    f: (order.meta['timeInForce'] as string | undefined) ?? 'GTC',
    q: fmt(order.qty, m.quantityPrecision),
    p: fmt(order.price ?? 0, m.pricePrecision),
    ap: fmt(order.avgPrice, Math.max(m.pricePrecision, 5)),
    sp: fmt(0, m.pricePrecision),
    x: execType,
    X: STATUS[order.status],
    i: order.id,
    l: fmt(trade?.qty ?? 0, m.quantityPrecision),
    z: fmt(order.filledQty, m.quantityPrecision),
    L: fmt(trade?.price ?? 0, m.pricePrecision),
    T: trade?.time ?? order.updatedAt,
    t: trade?.id ?? 0,
    b: '0',
    a: '0',
    m: trade?.maker ?? false,
    R: order.reduceOnly,
    wt: 'CONTRACT_PRICE',
    ot: origType,
    ps: P_SIDE[order.posSide],
    cp: order.closePosition,
    rp: fmt(trade?.realizedPnl ?? 0, 8),
    pP: false,
    si: 0,
    ss: 0,
    V: 'EXPIRE_MAKER',
    pm: 'NONE',
    gtd: 0,
  };
  // "Commission Asset, will not push if no commission" / "Commission, will not push if no commission": the
  // asset the fee was paid in, as userTrades' commissionAsset (BNB while fee burn pays it).
  if (trade) {
    o['N'] = trade.feeAsset;
    o['n'] = fmt(trade.fee, 8);
  }
  return { e: 'ORDER_TRADE_UPDATE', E: now, T: trade?.time ?? order.updatedAt, o };
}

/**
 * ACCOUNT_UPDATE after a fill (`m` = "ORDER"): the changed asset and the changed position of the symbol;
 * in hedge mode the BOTH row of the symbol is pushed too, as the doc's push rules say.
 */
export function accountUpdate(
  engine: Engine,
  acct: Account,
  symbol: string,
  posSide: PosSide,
): Record<string, unknown> {
  const m = spec(symbol);
  const g = engine.margins(acct);
  const sides: PosSide[] = posSide === 'both' ? ['both'] : ['both', posSide];
  const P = sides.map((side) => {
    const p = engine.position(acct, symbol, side);
    const qty = p?.qty ?? 0;
    return {
      s: symbol,
      pa: fmt(qty, m.quantityPrecision),
      ep: fmt(qty === 0 ? 0 : (p?.entryPrice ?? 0), Math.max(m.pricePrecision, 5)),
      bep: fmt(qty === 0 ? 0 : (p?.entryPrice ?? 0), Math.max(m.pricePrecision, 5)),
      cr: fmt(p?.realizedPnl ?? 0, 8),
      up: fmt(p && qty !== 0 ? engine.unrealized(p) : 0, 8),
      mt: engine.settings(acct, symbol).marginMode,
      iw: '0',
      ps: P_SIDE[side],
    };
  });
  const now = Date.now();
  return {
    e: 'ACCOUNT_UPDATE',
    E: now,
    T: acct.updatedAt,
    a: {
      m: 'ORDER',
      B: [{ a: 'USDT', wb: fmt(g.wallet, 8), cw: fmt(g.wallet, 8), bc: '0' }],
      P,
    },
  };
}

/** ALGO_UPDATE for a conditional order of the Algo Service (placed, canceled, triggered or failed). */
export function algoUpdate(acct: Account, algo: AlgoOrder): Record<string, unknown> {
  const m = spec(algo.symbol);
  const result =
    algo.resultOrderId !== undefined ? acct.orders.find((o) => o.id === algo.resultOrderId) : undefined;
  const o: Record<string, unknown> = {
    caid: algo.clientId,
    aid: algo.id,
    at: 'CONDITIONAL',
    o: (algo.meta['orderType'] as string | undefined) ?? 'STOP_MARKET',
    s: algo.symbol,
    S: algo.side.toUpperCase(),
    ps: P_SIDE[algo.posSide],
    f: (algo.meta['timeInForce'] as string | undefined) ?? 'GTC',
    q: fmt(algo.qty ?? 0, m.quantityPrecision),
    X: ALGO_STATUS[algo.status],
    ai: result ? String(result.id) : '',
    tp: fmt(algo.slTrigger ?? algo.tpTrigger ?? 0, m.pricePrecision),
    p: fmt(algo.orderPrice ?? 0, m.pricePrecision),
    V: 'EXPIRE_MAKER',
    wt: (algo.meta['workingType'] as string | undefined) ?? 'CONTRACT_PRICE',
    pm: 'NONE',
    cp: algo.closePosition,
    pP: false,
    R: algo.reduceOnly,
    tt: algo.triggeredAt ?? 0,
    gtd: 0,
  };
  // "only display when order is triggered and placed in matching engine"
  if (result) {
    o['ap'] = fmt(result.avgPrice, Math.max(m.pricePrecision, 5));
    o['aq'] = fmt(result.filledQty, m.quantityPrecision);
    o['act'] = result.type.toUpperCase();
  }
  if (algo.failReason !== undefined) o['rm'] = algo.failReason;
  return { e: 'ALGO_UPDATE', T: algo.updatedAt, E: Date.now(), o };
}

/**
 * USDⓈ-M "Event: Account Configuration Update previous Leverage Update": "When the leverage of a trade pair
 * changes, the payload will contain the object `ac` to represent the account configuration of the trade pair,
 * where `s` represents the specific trade pair and `l` represents the leverage" — whoever changed it (the API,
 * the app, another client of the account).
 */
export function accountConfigUpdate(symbol: string, leverage: number): Record<string, unknown> {
  const now = Date.now();
  return { e: 'ACCOUNT_CONFIG_UPDATE', E: now, T: now, ac: { s: symbol, l: leverage } };
}

export function listenKeyExpired(listenKey: string): Record<string, unknown> {
  return { e: 'listenKeyExpired', E: Date.now(), listenKey };
}

/** `<symbol>@markPrice` / `@markPrice@1s`: one price per symbol here, so mark = index = last. */
export function markPriceUpdate(engine: Engine, symbol: string): Record<string, unknown> {
  const px = fmt(engine.price(symbol), 8);
  const now = Date.now();
  return {
    e: 'markPriceUpdate',
    E: now,
    s: symbol,
    p: px,
    ap: px,
    i: px,
    P: px,
    r: '0.00010000',
    T: Math.ceil(now / 28_800_000) * 28_800_000,
  };
}

let bookUpdateId = 400_900_000_000;

/** `<symbol>@bookTicker`: best bid one tick below the price, ask at it, like REST ticker/bookTicker. */
export function bookTicker(engine: Engine, symbol: string): Record<string, unknown> {
  const m = spec(symbol);
  const px = engine.price(symbol);
  const now = Date.now();
  bookUpdateId += 1;
  return {
    e: 'bookTicker',
    u: bookUpdateId,
    E: now,
    T: now,
    s: symbol,
    b: fmt(px - m.tickSize, m.pricePrecision),
    B: '10',
    a: fmt(px, m.pricePrecision),
    A: '10',
  };
}

/** `<symbol>@ticker` (24hrTicker), from the same deterministic daily candle as REST ticker/24hr. */
export function ticker24h(engine: Engine, symbol: string): Record<string, unknown> {
  const m = spec(symbol);
  const px = engine.price(symbol);
  const day = candles(m, px, 86_400_000, { limit: 1 })[0];
  const open = day?.open ?? px;
  const now = Date.now();
  return {
    e: '24hrTicker',
    E: now,
    s: symbol,
    p: fmt(px - open, m.pricePrecision),
    P: fmt(((px - open) / open) * 100, 3),
    w: fmt(px, m.pricePrecision),
    c: fmt(px, m.pricePrecision),
    Q: fmt(m.minQty, m.quantityPrecision),
    o: fmt(open, m.pricePrecision),
    h: fmt(Math.max(day?.high ?? px, px), m.pricePrecision),
    l: fmt(Math.min(day?.low ?? px, px), m.pricePrecision),
    v: fmt(day?.volume ?? 0, m.quantityPrecision),
    q: fmt((day?.volume ?? 0) * px, 2),
    O: now - 86_400_000,
    C: now,
    F: 1,
    L: 2,
    n: 2,
  };
}

/** `<symbol>@miniTicker` (24hrMiniTicker): the 24 h ticker's close, open, high, low and volumes. */
export function miniTicker24h(engine: Engine, symbol: string): Record<string, unknown> {
  const t = ticker24h(engine, symbol);
  return {
    e: '24hrMiniTicker',
    E: t['E'],
    s: symbol,
    c: t['c'],
    o: t['o'],
    h: t['h'],
    l: t['l'],
    v: t['v'],
    q: t['q'],
  };
}
