import { Agent } from 'node:http';
import * as ccxt from 'ccxt';
import type { Exchange } from '@tradehook/contracts';
import { attachRequestMetrics, attachSharedBudget, type BudgetConfig } from './budget-hook.ts';
import { attachSharedClock } from './clock.ts';
import { withSharedEndpointTables } from './endpoint-tables.ts';

export interface ExchangeCredentials {
  apiKey: string;
  apiSecret: string;
  passphrase?: string | undefined;
}

export interface ExchangeClientOptions {
  exchange: Exchange;
  credentials: ExchangeCredentials;
  /** Binance demo trading / OKX simulated trading. */
  testnet: boolean;
  /** Base URL override (simulator, regional host), e.g. http://127.0.0.1:9100. Applied after demo/sandbox. */
  apiUrl?: string | undefined;
  /** ccxt request timeout, ms. */
  timeoutMs?: number | undefined;
  /** Client-side throttle; on for real exchanges, off against the simulator. Shared per (venue, egress IP). */
  enableRateLimit?: boolean | undefined;
  /** Egress IP (or any host id) whose request budget this client shares; default: one per process. */
  egressIp?: string | undefined;
  /** Coordination of that budget with other replicas (Redis) and its sizing. */
  budget?: BudgetConfig | undefined;
  /** Sync the clock with the exchange before signing (live use). */
  adjustForTimeDifference?: boolean | undefined;
  /**
   * How long a signed request stays valid at the exchange, ms (default 5000): Binance `recvWindow`, OKX `expTime`
   * on order placement. After it the exchange refuses the request even if it arrives late, which bounds how long
   * an unanswered order can still land (docs/decisions/0016-uncertain-sends.md).
   */
  recvWindowMs?: number | undefined;
  /**
   * ccxt pro client (REST + WebSocket `watch*`), for the live account state (live/). `apiUrl` then also
   * rebases the WebSocket URLs (ws:// on an http:// base).
   */
  streaming?: boolean | undefined;
  /** Streaming: ccxt's ping interval, which bounds how stale a silent connection can look healthy. */
  keepAliveMs?: number | undefined;
}

/** Binance refuses recvWindow ≥ 60000 (-1131, ccxt's binance error table). */
export const DEFAULT_RECV_WINDOW_MS = 5_000;

/**
 * After its validity window a request cannot land any more: Binance's matching engine refuses a request whose
 * timestamp is older than recvWindow (-5028 "Timestamp for this request is outside of the ME recvWindow", in
 * ccxt's USDⓈ-M error table), OKX refuses order requests past their `expTime` header (OKX API v5 "Place order":
 * "Request effective deadline"). Binance also accepts timestamps up to 1000 ms ahead of its clock, so the window
 * is widened by that on both venues.
 */
export function landingWindowMs(recvWindowMs: number | undefined): number {
  return (recvWindowMs ?? DEFAULT_RECV_WINDOW_MS) + 1_000;
}

/** OKX endpoints that take `expTime` (order placement and amendment). */
const OKX_EXP_TIME_PATHS = new Set([
  'trade/order',
  'trade/batch-orders',
  'trade/order-algo',
  'trade/amend-order',
]);

export type CcxtClient = ccxt.Exchange;

/** Replaces scheme+host of a URL, keeping its path (`https://fapi.binance.com/fapi/v1` → `http://sim/fapi/v1`). */
function rebase(url: string, base: string): string {
  const target = new URL(base);
  const u = new URL(url.replace('{hostname}', 'placeholder.invalid'));
  const basePath = target.pathname.replace(/\/$/, '');
  return `${target.protocol}//${target.host}${basePath}${u.pathname === '/' ? '' : u.pathname}`;
}

function rebaseAll(api: unknown, base: string): unknown {
  if (typeof api === 'string') {
    // ccxt pro's WebSocket URLs: same host and path, ws:// for http:// and wss:// for https://.
    if (/^wss?:/.test(api)) return rebase(api, base).replace(/^http/, 'ws');
    return rebase(api, base);
  }
  if (api && typeof api === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(api)) out[k] = rebaseAll(v, base);
    return out;
  }
  return api;
}

/**
 * One configured ccxt client for one account (docs/decisions/0005-exchange-facts.md): binanceusdm (linear only) or okx
 * (swaps only); no currency/spot loading; demo/sandbox switches first, then the base-URL override.
 */
/** The key of the venue's shared clock (clock.ts) for these options. */
export function clockKey(opts: Pick<ExchangeClientOptions, 'exchange' | 'apiUrl'>): string {
  return `${opts.exchange}|${opts.apiUrl ?? 'live'}`;
}

export function createCcxtClient(opts: ExchangeClientOptions): CcxtClient {
  const ex = createRaw(opts);
  attachRequestMetrics(ex, opts.exchange);
  if (opts.enableRateLimit ?? true)
    attachSharedBudget(ex, opts.exchange, opts.egressIp ?? 'default', opts.budget);
  if (opts.adjustForTimeDifference) attachSharedClock(ex, clockKey(opts));
  return ex;
}

function createRaw(opts: ExchangeClientOptions): CcxtClient {
  const common = {
    apiKey: opts.credentials.apiKey,
    secret: opts.credentials.apiSecret,
    timeout: opts.timeoutMs ?? 10_000,
    enableRateLimit: opts.enableRateLimit ?? true,
    ...(opts.streaming ? { streaming: { keepAlive: opts.keepAliveMs ?? 10_000 } } : {}),
  };
  const recvWindow = opts.recvWindowMs ?? DEFAULT_RECV_WINDOW_MS;
  const streaming = opts.streaming === true;
  if (opts.exchange === 'binance') {
    const Binance = withSharedEndpointTables(streaming ? ccxt.pro.binanceusdm : ccxt.binanceusdm);
    const ex = new Binance({
      ...common,
      options: {
        recvWindow,
        fetchCurrencies: false,
        warnOnFetchOpenOrdersWithoutSymbol: false,
        adjustForTimeDifference: opts.adjustForTimeDifference ?? false,
        defaultType: 'swap',
        // The live state reconciles positions by REST itself; ccxt's own snapshot leaves a future that a
        // dropped connection rejects with nobody listening.
        watchPositions: { fetchPositionsSnapshot: false },
      },
    });
    if (opts.testnet) ex.enableDemoTrading(true);
    if (streaming) useHttpAgentForPlainWs(ex, opts.apiUrl);
    if (opts.apiUrl) {
      ex.urls['api'] = rebaseAll(ex.urls['api'], opts.apiUrl) as typeof ex.urls.api;
      // The linear-futures error table is chosen by host name; against another host merge it in (§3 bite 1).
      const exceptions = ex.exceptions as Record<string, Record<string, unknown>>;
      const linear = (exceptions['linear'] ?? {}) as Record<string, Record<string, unknown>>;
      exceptions['exact'] = { ...exceptions['exact'], ...linear['exact'] };
      exceptions['broad'] = { ...exceptions['broad'], ...linear['broad'] };
    }
    return ex;
  }
  const Okx = withSharedEndpointTables(streaming ? ccxt.pro.okx : ccxt.okx);
  const ex = new Okx({
    ...common,
    password: opts.credentials.passphrase,
    options: {
      fetchMarkets: { types: ['swap'] },
      adjustForTimeDifference: opts.adjustForTimeDifference ?? false,
      defaultType: 'swap',
    },
  });
  ex.has['fetchCurrencies'] = false;
  attachOkxExpTime(ex, recvWindow);
  if (opts.testnet) ex.setSandboxMode(true);
  if (opts.apiUrl) {
    const api = ex.urls['api'] as Record<string, string>;
    api['rest'] = opts.apiUrl.replace(/\/$/, '');
    const ws = api['ws'];
    if (ws) {
      // The venue host stays as a path prefix: the simulator tells demo (wspap…) from live by it.
      const host = /^wss?:\/\/([^/]+)/.exec(ws)?.[1] ?? 'ws.okx.com';
      api['ws'] = `${opts.apiUrl.replace(/\/$/, '').replace(/^http/, 'ws')}/${host}/ws/v5`;
    }
  }
  if (streaming) useHttpAgentForPlainWs(ex, opts.apiUrl);
  return ex;
}

/** ccxt pro refuses ws:// URLs until an http agent is loaded (its `loadHttpProxyAgent()` is async). */
function useHttpAgentForPlainWs(ex: CcxtClient, apiUrl: string | undefined): void {
  const holder = ex as unknown as { httpAgent?: unknown };
  if (apiUrl?.startsWith('http://') && holder.httpAgent === undefined) holder.httpAgent = new Agent();
}

/**
 * ccxt's okx `sign` builds the headers itself and has no `expTime`; add it to order placement so a request that
 * reaches the matching engine late is refused instead of landing after we gave up on it.
 */
function attachOkxExpTime(ex: ccxt.okx, windowMs: number): void {
  const sign = ex.sign.bind(ex);
  ex.sign = (path, api = 'public', method = 'GET', params = {}, headers = undefined, body = undefined) => {
    const signed = sign(path, api, method, params, headers, body) as { headers?: Record<string, string> };
    if (api === 'private' && method === 'POST' && OKX_EXP_TIME_PATHS.has(String(path))) {
      signed.headers = { ...signed.headers, expTime: String(ex.nonce() + windowMs) };
    }
    return signed;
  };
}
