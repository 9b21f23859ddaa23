import { AsyncLocalStorage } from 'node:async_hooks';
import * as ccxt from 'ccxt';
import type { Exchange } from '@tradehook/contracts';
import { exchangeBudgetFallbacks, exchangeBudgetUsed, exchangeRequests } from '@tradehook/metrics/pipeline';
import { okxAccountBudget } from './okx-rate-rules.ts';
import { RequestBudget, sharedBudget, type BudgetOptions, type Priority } from './budget.ts';
import type { RedisBudgetStore } from './budget-redis.ts';

export interface BudgetConfig {
  /** Host-wide window shared with the other replicas on this egress IP; absent: this process alone. */
  store?: RedisBudgetStore | undefined;
  /** Fraction of the venue's capacity this process uses alone while `store` is unreachable. */
  fallbackShare?: number | undefined;
  /** Multiplies every documented limit (tests against a simulator whose limits were shrunk alike). */
  scale?: number | undefined;
}

const context = new AsyncLocalStorage<Priority>();

/**
 * Runs `fn` with every exchange request it makes (awaited or not) ranked at `priority`: the reads an exit
 * job needs (positions, orders) are on the exit's critical path and must not queue as background reads.
 */
export function withRequestPriority<T>(priority: Priority, fn: () => T): T {
  return context.run(priority, fn);
}

/**
 * The IP budget. Binance USDⓈ-M, in ccxt cost units: ccxt's costs are the documented REQUEST_WEIGHT and the IP
 * limit is 2400/min ("General Info → Limits", exchangeInfo rateLimits). OKX, in requests: its public endpoints
 * are 10–40 per 2 s per IP; 20 per 2 s for all of them together is the stricter reading.
 */
const SIZES: Record<Exchange, BudgetOptions> = {
  binance: { capacity: 2400, windowMs: 60_000 },
  okx: { capacity: 20, windowMs: 2_000 },
};

/** Per-account order-rate limits, Binance USDⓈ-M: ORDERS 300/10 s and 1200/min per account (OKX: okx-rate-rules.ts). */
function orderBudgets(venue: Exchange, scale: number): RequestBudget[] {
  const sized = (capacity: number, windowMs: number) =>
    new RequestBudget({ capacity: Math.max(1, Math.floor(capacity * scale)), windowMs });
  return venue === 'binance' ? [sized(300, 10_000), sized(1200, 60_000)] : [];
}

const RANK: Record<Priority, number> = { exit: 0, order: 1, status: 2, sync: 3 };

/**
 * The class a request is budgeted in. Reads take the class of the work they serve (withRequestPriority): an exit
 * job's reads are exits, a stream snapshot or reconcile is background ('sync') — before, a read could only be
 * raised, so every background read counted as 'status' and left orders a tenth of the IP's minute instead of a
 * quarter. Order placements and cancels are never lowered below their own class (a fill sync's sibling cancel
 * protects a position), only raised (an exit job's orders are exits).
 */
export function effectivePriority(byPath: Priority, inherited: Priority | undefined): Priority {
  if (inherited === undefined) return byPath;
  if (byPath === 'exit' || byPath === 'order') return RANK[inherited] < RANK[byPath] ? inherited : byPath;
  return inherited;
}

type Fetch2 = ccxt.Exchange['fetch2'];

/**
 * Where ccxt 4.5.84's cost table under-counts Binance's documented REQUEST_WEIGHT (its v2/v3 entries say 1;
 * the USDⓈ-M docs for Account Information V2/V3, Balance V2/V3 and Position Information V2/V3 say 5).
 * Under-counting is what gets a 429; over-counting (ccxt's 4 for New Order) wastes the exits' headroom.
 */
const BINANCE_WEIGHT_FIXES: Record<string, number> = {
  'fapiPrivateV2 GET account': 5,
  'fapiPrivateV3 GET account': 5,
  'fapiPrivateV2 GET balance': 5,
  'fapiPrivateV3 GET balance': 5,
  'fapiPrivateV2 GET positionRisk': 5,
  'fapiPrivateV3 GET positionRisk': 5,
  // New Order: "0 on IP rate limit" (it counts on the per-account ORDERS limits, budgeted separately below).
  'fapiPrivate POST order': 0,
};

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
  // History reads (trades, fills, income/funding, bills) are background work: fill and funding sync.
  if (['usertrades', 'fills', 'income', 'bills'].some((h) => p.includes(h))) return 'sync';
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
export function attachSharedBudget(
  ex: ccxt.Exchange,
  venue: Exchange,
  egressIp: string,
  config: BudgetConfig = {},
): void {
  const size = SIZES[venue];
  const scale = config.scale ?? 1;
  const budget = sharedBudget(
    venue,
    egressIp,
    {
      ...size,
      capacity: Math.max(1, Math.floor(size.capacity * scale)),
      shared: config.store?.window(venue, egressIp, size.windowMs),
      fallbackShare: config.fallbackShare,
      onFallback: () => exchangeBudgetFallbacks.inc({ venue }),
    },
    config.store?.scope,
  );
  ex.enableRateLimit = false;
  const orders = orderBudgets(venue, scale);
  const original: Fetch2 = ex.fetch2.bind(ex);
  ex.fetch2 = (async (path, api = 'public', method = 'GET', params = {}, headers, body, config = {}) => {
    const fixed =
      venue === 'binance'
        ? BINANCE_WEIGHT_FIXES[`${String(api)} ${String(method)} ${String(path)}`]
        : undefined;
    const cost = fixed ?? (ex.calculateRateLimiterCost(api, method, path, params, config) as number);
    const byPath = classify(String(path), String(method), params as Record<string, unknown>);
    const priority = effectivePriority(byPath, context.getStore());
    // OKX private endpoints are limited per account (and instrument), each by its own documented rule; only
    // its public endpoints share the IP (okx-rate-rules.ts). Binance: weight per IP, orders per account.
    const perAccount =
      venue === 'okx'
        ? okxAccountBudget(
            ex.apiKey,
            String(method),
            String(path),
            (params as Record<string, unknown>)['instId'] as string | undefined,
            scale,
          )
        : undefined;
    if (perAccount) await perAccount.acquire(1, priority);
    else {
      if (venue === 'binance' && (priority === 'exit' || priority === 'order'))
        for (const o of orders) await o.acquire(1, priority);
      await budget.acquire(venue === 'okx' ? 1 : cost, priority);
    }
    try {
      return await original(path, api, method, params, headers, body, config);
    } catch (err) {
      if (err instanceof ccxt.RateLimitExceeded || err instanceof ccxt.DDoSProtection) {
        const after = Number(header(ex.last_response_headers, 'retry-after'));
        // No Retry-After (OKX sends none): wait out the venue's whole window rather than retrying blind.
        (perAccount ?? budget).pause(Number.isFinite(after) && after > 0 ? after * 1000 : size.windowMs);
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
