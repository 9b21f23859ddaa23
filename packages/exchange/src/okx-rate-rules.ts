/**
 * OKX's documented request limits, per endpoint: "Rate Limit: N requests per 2 seconds" with its "Rate limit
 * rule" (IP, User ID, or User ID + Instrument ID) from www.okx.com/docs-v5/en/ for each endpoint we call.
 * Private endpoints are limited per account (User ID), not per IP: one IP-wide ceiling for every account's
 * private calls (what ccxt's 100 ms `rateLimit` amounts to when shared) would make 50 accounts queue behind
 * each other for nothing. The simulator transcribes the same pages independently
 * (packages/exchange-sim/src/rate-limit-rules.ts); okx-rate-rules.test.ts checks the two agree.
 */
import { RequestBudget, type Priority } from './budget.ts';

export type OkxScope = 'ip' | 'user' | 'user+inst';
export interface OkxLimit {
  limit: number;
  windowMs: number;
  scope: OkxScope;
}

const r = (limit: number, scope: OkxScope, windowMs = 2_000): OkxLimit => ({ limit, windowMs, scope });

/** `METHOD /api/v5/path` → limit, for the endpoints the adapter and the live state use. */
export const OKX_LIMITS: Record<string, OkxLimit> = {
  'GET /api/v5/public/time': r(10, 'ip'),
  'GET /api/v5/public/instruments': r(20, 'ip'),
  'GET /api/v5/market/ticker': r(20, 'ip'),
  'GET /api/v5/market/candles': r(40, 'ip'),
  'GET /api/v5/account/balance': r(10, 'user'),
  'GET /api/v5/account/positions': r(10, 'user'),
  'GET /api/v5/account/config': r(5, 'user'),
  'GET /api/v5/account/leverage-info': r(20, 'user'),
  'POST /api/v5/account/set-leverage': r(20, 'user'),
  'GET /api/v5/account/bills': r(5, 'user', 1_000),
  'POST /api/v5/trade/order': r(60, 'user+inst'),
  'POST /api/v5/trade/cancel-order': r(60, 'user+inst'),
  'GET /api/v5/trade/order': r(60, 'user+inst'),
  'GET /api/v5/trade/orders-pending': r(60, 'user'),
  'POST /api/v5/trade/order-algo': r(20, 'user+inst'),
  'POST /api/v5/trade/cancel-algos': r(20, 'user'),
  'GET /api/v5/trade/order-algo': r(20, 'user'),
  'GET /api/v5/trade/orders-algo-pending': r(20, 'user'),
  'GET /api/v5/trade/fills-history': r(10, 'user'),
};

/** Unlisted endpoints: public 20/2 s per IP; private 5/2 s per user, the docs' smallest (the stricter guess). */
export function okxLimit(method: string, path: string): OkxLimit {
  const full = path.startsWith('/') ? path : `/api/v5/${path}`;
  return (
    OKX_LIMITS[`${method.toUpperCase()} ${full}`] ??
    (full.startsWith('/api/v5/public/') || full.startsWith('/api/v5/market/') ? r(20, 'ip') : r(5, 'user'))
  );
}

const budgets = new Map<string, RequestBudget>();

/**
 * The process's budget for one private OKX endpoint of one account (and instrument, where the rule says so),
 * or undefined for an IP-scoped endpoint (those share the venue's IP budget).
 */
export function okxAccountBudget(
  apiKey: string,
  method: string,
  path: string,
  instId: string | undefined,
  scale: number,
): RequestBudget | undefined {
  const rule = okxLimit(method, path);
  if (rule.scope === 'ip') return undefined;
  const key = `${apiKey}|${method.toUpperCase()} ${path}|${rule.scope === 'user+inst' ? (instId ?? '') : ''}`;
  let budget = budgets.get(key);
  if (!budget) {
    budget = new RequestBudget({
      capacity: Math.max(1, Math.floor(rule.limit * scale)),
      windowMs: rule.windowMs,
    });
    budgets.set(key, budget);
  }
  return budget;
}

export type { Priority };
