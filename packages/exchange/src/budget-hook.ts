import * as ccxt from 'ccxt';
import type { Exchange } from '@tradehook/contracts';
import { exchangeBudgetUsed, exchangeRequests } from '@tradehook/metrics/pipeline';
import { RequestBudget, sharedBudget, type BudgetOptions, type Priority } from './budget.ts';

/**
 * Budget sizes in ccxt cost units. Binance USDⓈ-M: ccxt's costs are the documented REQUEST_WEIGHT and the IP
 * limit is 2400/min ("General Info → Limits", exchangeInfo rateLimits). OKX limits per endpoint per 2 s; ccxt's
 * okx costs are relative to its 100 ms rateLimit (10 cost/s), which we keep as the shared ceiling.
 */
const SIZES: Record<Exchange, BudgetOptions> = {
  binance: { capacity: 2400, windowMs: 60_000 },
  okx: { capacity: 20, windowMs: 2_000 },
};

/**
 * Per-account order-rate limits: Binance USDⓈ-M ORDERS 300/10 s and 1200/min per account; OKX place/cancel
 * order 60 requests/2 s (per instrument; counted per account here, the stricter choice).
 */
function orderBudgets(venue: Exchange): RequestBudget[] {
  if (venue === 'binance')
    return [
      new RequestBudget({ capacity: 300, windowMs: 10_000 }),
      new RequestBudget({ capacity: 1200, windowMs: 60_000 }),
    ];
  return [new RequestBudget({ capacity: 60, windowMs: 2_000 })];
}

type Fetch2 = ccxt.Exchange['fetch2'];

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === name) return typeof v === 'string' ? v : String(v);
  }
  return undefined;
}

/** Exits first, then other order traffic, then status/key checks, then fill sync. */
export function classify(path: string, method: string, params: Record<string, unknown>): Priority {
  const p = path.toLowerCase();
  if (p.includes('usertrades') || p.includes('fills')) return 'sync';
  if (method !== 'GET' && (p.includes('order') || p.includes('algo'))) {
    const reduce = params['reduceOnly'] ?? params['closePosition'];
    return reduce === true || reduce === 'true' ? 'exit' : 'order';
  }
  return 'status';
}

/**
 * Routes every REST call of this client through the process-wide budget of (venue, egress IP) instead of
 * ccxt's per-instance throttle, feeds the exchange's weight counter back, and pauses the whole IP on 429/418.
 */
export function attachSharedBudget(ex: ccxt.Exchange, venue: Exchange, egressIp: string): void {
  const budget = sharedBudget(venue, egressIp, SIZES[venue]);
  ex.enableRateLimit = false;
  const orders = orderBudgets(venue);
  const original: Fetch2 = ex.fetch2.bind(ex);
  ex.fetch2 = (async (path, api = 'public', method = 'GET', params = {}, headers, body, config = {}) => {
    const cost = ex.calculateRateLimiterCost(api, method, path, params, config) as number;
    const priority = classify(String(path), String(method), params as Record<string, unknown>);
    if (priority === 'exit' || priority === 'order') for (const o of orders) await o.acquire(1, priority);
    await budget.acquire(cost, priority);
    try {
      return await original(path, api, method, params, headers, body, config);
    } catch (err) {
      if (err instanceof ccxt.RateLimitExceeded || err instanceof ccxt.DDoSProtection) {
        const after = Number(header(ex.last_response_headers, 'retry-after'));
        // No Retry-After: assume the stricter minute-long window rather than retrying blind.
        budget.pause(Number.isFinite(after) && after > 0 ? after * 1000 : 60_000);
      }
      throw err;
    } finally {
      const used = Number(header(ex.last_response_headers, 'x-mbx-used-weight-1m'));
      if (venue === 'binance' && Number.isFinite(used)) budget.observeUsed(used);
      exchangeBudgetUsed.set({ venue }, budget.usedWeight() / SIZES[venue].capacity);
    }
  }) as Fetch2;
}

/**
 * Counts every REST request of this client by venue, endpoint and outcome (`tradehook_exchange_requests_total`),
 * whether or not the shared budget is attached; attached first, so it sees each request as actually sent.
 */
export function attachRequestMetrics(ex: ccxt.Exchange, venue: Exchange): void {
  const original: Fetch2 = ex.fetch2.bind(ex);
  ex.fetch2 = (async (path, api = 'public', method = 'GET', params = {}, headers, body, config = {}) => {
    // ccxt's api group + path template (`fapiPrivate/order`, `private/trade/order`): a bounded label set.
    const endpoint = `${Array.isArray(api) ? api.join('/') : String(api)}/${String(path)}`;
    try {
      const result: unknown = await original(path, api, method, params, headers, body, config);
      exchangeRequests.inc({ venue, endpoint, status: 'ok' });
      return result;
    } catch (err) {
      // The ccxt error class says what happened (RateLimitExceeded, InsufficientFunds, RequestTimeout…).
      exchangeRequests.inc({
        venue,
        endpoint,
        status: err instanceof Error ? err.constructor.name : 'unknown',
      });
      throw err;
    }
  }) as Fetch2;
}
