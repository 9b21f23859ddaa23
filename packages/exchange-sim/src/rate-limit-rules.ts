/**
 * What each request costs on the real exchanges; the accounting itself is in rate-limits.ts.
 *
 * Binance USDⓈ-M: per-endpoint REQUEST_WEIGHT from each endpoint's "Request Weight" line in the USDⓈ-M
 * Futures REST docs (developers.binance.com/docs/derivatives/usds-margined-futures/...), the same numbers ccxt
 * 4.5.84 carries in its `fapiPublic`/`fapiPrivate` cost table (including `byLimit` / `noSymbol`). Where ccxt's
 * v2/v3 entries say 1 but the docs say 5 (account, balance, positionRisk V2/V3), the docs win.
 * OKX: per-endpoint "Rate Limit: N requests per 2 seconds" and "Rate limit rule" (IP, User ID, User ID +
 * Instrument ID) from www.okx.com/docs-v5/en/ for each endpoint.
 */

/** `limit` → weight, first row whose bound is ≥ limit (Binance "Weight: adjusted based on the limit"). */
function byLimit(rows: Array<[number, number]>, dflt: number) {
  return (q: URLSearchParams): number => {
    const raw = q.get('limit');
    const limit = raw === null ? dflt : Number(raw);
    for (const [bound, w] of rows) if (limit <= bound) return w;
    return rows[rows.length - 1]![1];
  };
}

const withSymbol = (one: number, all: number) => (q: URLSearchParams) => (q.get('symbol') ? one : all);

type Weight = number | ((q: URLSearchParams) => number);

/** `METHOD path` → IP weight on fapi. Unlisted fapi endpoints cost 1 (never 0: the stricter guess). */
export const BINANCE_WEIGHT: Record<string, Weight> = {
  'GET /fapi/v1/ping': 1,
  'GET /fapi/v1/time': 1,
  'GET /fapi/v1/exchangeInfo': 1,
  // Order Book: limit 5/10/20/50 → 2, 100 → 5, 500 → 10, 1000 → 20 (default limit 500).
  'GET /fapi/v1/depth': byLimit(
    [
      [50, 2],
      [100, 5],
      [500, 10],
      [1000, 20],
    ],
    500,
  ),
  // Kline: limit [1,100) → 1, [100,500) → 2, [500,1000] → 5, > 1000 → 10 (default limit 500).
  'GET /fapi/v1/klines': byLimit(
    [
      [99, 1],
      [499, 2],
      [1000, 5],
      [Infinity, 10],
    ],
    500,
  ),
  'GET /fapi/v1/markPriceKlines': byLimit(
    [
      [99, 1],
      [499, 2],
      [1000, 5],
      [Infinity, 10],
    ],
    500,
  ),
  'GET /fapi/v1/premiumIndex': 1,
  'GET /fapi/v1/ticker/24hr': withSymbol(1, 40),
  'GET /fapi/v1/ticker/price': withSymbol(1, 2),
  'GET /fapi/v2/ticker/price': withSymbol(1, 2),
  'GET /fapi/v1/ticker/bookTicker': withSymbol(2, 5),
  'GET /fapi/v1/allOrders': 5,
  'GET /fapi/v1/openOrder': 1,
  // Current All Open Orders: 1 for a single symbol, 40 when the symbol parameter is omitted.
  'GET /fapi/v1/openOrders': withSymbol(1, 40),
  'GET /fapi/v1/order': 1,
  'GET /fapi/v2/account': 5,
  'GET /fapi/v3/account': 5,
  'GET /fapi/v2/balance': 5,
  'GET /fapi/v3/balance': 5,
  'GET /fapi/v1/leverageBracket': 1,
  'GET /fapi/v2/positionRisk': 5,
  'GET /fapi/v3/positionRisk': 5,
  'GET /fapi/v1/positionSide/dual': 30,
  'GET /fapi/v1/accountConfig': 5,
  'GET /fapi/v1/userTrades': 5,
  'GET /fapi/v1/income': 30,
  'GET /fapi/v1/commissionRate': 20,
  'GET /fapi/v1/algoOrder': 1,
  'GET /fapi/v1/openAlgoOrders': withSymbol(1, 40),
  'GET /fapi/v1/allAlgoOrders': 5,
  'POST /fapi/v1/positionSide/dual': 1,
  'POST /fapi/v1/marginType': 1,
  // New Order: "1 on 10s order rate limit, 1 on 1min order rate limit, 0 on IP rate limit".
  'POST /fapi/v1/order': 0,
  'POST /fapi/v1/batchOrders': 5,
  'PUT /fapi/v1/order': 1,
  'POST /fapi/v1/leverage': 1,
  'POST /fapi/v1/algoOrder': 0,
  'DELETE /fapi/v1/order': 1,
  'DELETE /fapi/v1/allOpenOrders': 1,
  'DELETE /fapi/v1/algoOrder': 1,
  'DELETE /fapi/v1/algoOpenOrders': 1,
};

export function binanceWeight(method: string, path: string, q: URLSearchParams): number {
  const w = BINANCE_WEIGHT[`${method} ${path}`];
  if (w === undefined) return 1;
  return typeof w === 'number' ? w : w(q);
}

/**
 * Requests that count on the per-account ORDERS limits (X-MBX-ORDER-COUNT-10S/-1M): new, modified and algo
 * orders (algo orders counted too: the docs do not exempt them, so the stricter choice).
 */
export function binanceOrderCount(method: string, path: string, q: URLSearchParams): number {
  if (method === 'POST' && path === '/fapi/v1/batchOrders') {
    try {
      const list: unknown = JSON.parse(q.get('batchOrders') ?? '[]');
      return Array.isArray(list) ? Math.max(1, list.length) : 1;
    } catch {
      return 1;
    }
  }
  if ((method === 'POST' || method === 'PUT') && path === '/fapi/v1/order') return 1;
  if (method === 'POST' && path === '/fapi/v1/algoOrder') return 1;
  return 0;
}

export type OkxScope = 'ip' | 'user' | 'user+inst';
export interface OkxRule {
  /** Requests per window. */
  limit: number;
  windowMs: number;
  scope: OkxScope;
}

const r = (limit: number, scope: OkxScope, windowMs = 2_000): OkxRule => ({ limit, windowMs, scope });

/** `METHOD path` → OKX's documented limit. Unlisted private endpoints: 5/2 s per user (the docs' smallest). */
export const OKX_RULES: Record<string, OkxRule> = {
  'GET /api/v5/public/time': r(10, 'ip'),
  'GET /api/v5/public/instruments': r(20, 'ip'),
  'GET /api/v5/public/mark-price': r(10, 'ip'),
  'GET /api/v5/public/funding-rate': r(20, 'ip'),
  'GET /api/v5/market/ticker': r(20, 'ip'),
  'GET /api/v5/market/tickers': r(20, 'ip'),
  'GET /api/v5/market/candles': r(40, 'ip'),
  'GET /api/v5/market/history-candles': r(20, 'ip'),
  'GET /api/v5/market/mark-price-candles': r(20, 'ip'),
  'GET /api/v5/asset/currencies': r(6, 'user', 1_000),
  'GET /api/v5/account/balance': r(10, 'user'),
  'GET /api/v5/account/positions': r(10, 'user'),
  'GET /api/v5/account/config': r(5, 'user'),
  'GET /api/v5/account/leverage-info': r(20, 'user'),
  'POST /api/v5/account/set-leverage': r(20, 'user'),
  'POST /api/v5/account/set-position-mode': r(5, 'user'),
  'GET /api/v5/account/bills': r(5, 'user', 1_000),
  // Place / cancel / get order: 60 requests per 2 s, rule "User ID + Instrument ID".
  'POST /api/v5/trade/order': r(60, 'user+inst'),
  'POST /api/v5/trade/cancel-order': r(60, 'user+inst'),
  'GET /api/v5/trade/order': r(60, 'user+inst'),
  // Batch endpoints: 300 orders per 2 s per instrument (counted per order, see rate-limits.ts).
  'POST /api/v5/trade/batch-orders': r(300, 'user+inst'),
  'POST /api/v5/trade/cancel-batch-orders': r(300, 'user+inst'),
  'GET /api/v5/trade/orders-pending': r(60, 'user'),
  'GET /api/v5/trade/orders-history': r(40, 'user'),
  'GET /api/v5/trade/orders-history-archive': r(20, 'user'),
  // Algo orders: 20 requests per 2 s; place is per "User ID + Instrument ID".
  'POST /api/v5/trade/order-algo': r(20, 'user+inst'),
  'POST /api/v5/trade/cancel-algos': r(20, 'user'),
  'GET /api/v5/trade/order-algo': r(20, 'user'),
  'GET /api/v5/trade/orders-algo-pending': r(20, 'user'),
  'GET /api/v5/trade/orders-algo-history': r(20, 'user'),
  // Transaction details: last 3 days 60/2 s, last 3 months (fills-history) 10/2 s, per user.
  'GET /api/v5/trade/fills': r(60, 'user'),
  'GET /api/v5/trade/fills-history': r(10, 'user'),
  'POST /api/v5/trade/close-position': r(20, 'user'),
};

export function okxRule(method: string, path: string): OkxRule {
  return (
    OKX_RULES[`${method} ${path}`] ??
    (path.startsWith('/api/v5/public/') || path.startsWith('/api/v5/market/') ? r(20, 'ip') : r(5, 'user'))
  );
}
