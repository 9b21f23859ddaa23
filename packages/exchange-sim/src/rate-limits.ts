/**
 * Request accounting in front of the dialects, as the exchanges do it (costs in rate-limit-rules.ts).
 *
 * Binance USDⓈ-M ("General Info → Limits"): REQUEST_WEIGHT 2400 per minute per IP (exchangeInfo `rateLimits`),
 * every answer carries `X-MBX-USED-WEIGHT-1M`; ORDERS 300 per 10 s and 1200 per minute per account, answered
 * with `X-MBX-ORDER-COUNT-10S`/`-1M`. Over the limit: HTTP 429, code -1003 (orders: -1015) and `Retry-After`
 * ("the number of seconds required to wait, in the case of a 429, to prevent a ban"). Failing to back off after
 * a 429 gets an IP ban, HTTP 418 with `Retry-After` until the ban ends; "IP bans are tracked and scale in
 * duration for repeat offenders, from 2 minutes to 3 days". The scaling steps are not documented: we double.
 * Any request inside a 429's Retry-After counts as not backing off (the stricter reading).
 * SAPI endpoints have their own IP weight (12000/min, `X-SAPI-USED-IP-WEIGHT-1M`, Binance wallet docs "Limits").
 * OKX ("REST API → Rate limit"): per endpoint, per IP or per user ID (trading: per user ID + instrument ID);
 * over the limit: HTTP 429 with code 50011 "Too Many Requests". OKX documents no Retry-After and no ban.
 *
 * Windows are rolling (stricter than Binance's calendar minute) and run on the wall clock: a client waits in
 * real time, whatever the engine's simulated clock says.
 */
import type { IncomingMessage } from 'node:http';
import type { Engine, Exchange } from './engine.ts';
import type { Reply, SimRequest } from './http.ts';
import { binanceOrderCount, binanceWeight, okxRule } from './rate-limit-rules.ts';

export interface RateLimitSettings {
  enabled: boolean;
  binanceWeightPerMinute: number;
  binanceSapiWeightPerMinute: number;
  binanceOrdersPer10s: number;
  binanceOrdersPerMinute: number;
  /** Every OKX endpoint limit is multiplied by this (≤ 1 to shrink for tests), at least 1 request. */
  okxScale: number;
  /** First ban; each repeat doubles it, up to `maxBanMs`. */
  firstBanMs: number;
  maxBanMs: number;
}

export const REAL_LIMITS: RateLimitSettings = {
  enabled: true,
  binanceWeightPerMinute: 2400,
  binanceSapiWeightPerMinute: 12_000,
  binanceOrdersPer10s: 300,
  binanceOrdersPerMinute: 1200,
  okxScale: 1,
  firstBanMs: 120_000,
  maxBanMs: 3 * 86_400_000,
};

export interface RateLimitStats {
  binance429: number;
  binance418: number;
  binanceOrder429: number;
  okx429: number;
}

/** Sum of `n` over the last `windowMs`; entries are appended in time order. */
class RollingCounter {
  private readonly entries: Array<{ at: number; n: number }> = [];
  constructor(private readonly windowMs: number) {}
  used(now: number): number {
    const cutoff = now - this.windowMs;
    while (this.entries.length > 0 && this.entries[0]!.at <= cutoff) this.entries.shift();
    return this.entries.reduce((s, e) => s + e.n, 0);
  }
  add(now: number, n: number): void {
    if (n > 0) this.entries.push({ at: now, n });
  }
  /** Ms until at least `need` of the window has expired. */
  msUntilFree(now: number, need: number): number {
    let freed = 0;
    for (const e of this.entries) {
      freed += e.n;
      if (freed >= need) return Math.max(1, e.at + this.windowMs - now);
    }
    return this.windowMs;
  }
}

export type LimitDecision = { reply: Reply } | { headers: Record<string, string> };

function header(req: SimRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The client's IP: the socket's remote address; `X-Forwarded-For` only when the simulator was started with
 * `trustForwardedFor` (tests that play several hosts from one machine).
 */
export function clientIp(req: IncomingMessage, trustForwardedFor: boolean): string {
  if (trustForwardedFor) {
    const fwd = req.headers['x-forwarded-for'];
    const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

export class RateLimits {
  settings: RateLimitSettings = { ...REAL_LIMITS };
  stats: RateLimitStats = { binance429: 0, binance418: 0, binanceOrder429: 0, okx429: 0 };
  private counters = new Map<string, RollingCounter>();
  /** IP → until when a 429's Retry-After runs; a request before then is "not backing off". */
  private backoffUntil = new Map<string, number>();
  private bans = new Map<string, { until: number; strikes: number }>();

  constructor(
    private readonly engine: Engine,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forget counters, back-offs, bans and stats (settings stay). */
  clear(): void {
    this.counters.clear();
    this.backoffUntil.clear();
    this.bans.clear();
    this.stats = { binance429: 0, binance418: 0, binanceOrder429: 0, okx429: 0 };
  }

  /** Weight used by `ip` in the current minute on fapi (what X-MBX-USED-WEIGHT-1M says). */
  binanceUsedWeight(ip: string): number {
    return this.counter(`b|w|${ip}`, 60_000).used(this.now());
  }

  check(exchange: Exchange, ip: string, req: SimRequest): LimitDecision {
    if (!this.settings.enabled) return { headers: {} };
    return exchange === 'binance' ? this.checkBinance(ip, req) : this.checkOkx(ip, req);
  }

  private counter(key: string, windowMs: number): RollingCounter {
    let c = this.counters.get(key);
    if (!c) {
      c = new RollingCounter(windowMs);
      this.counters.set(key, c);
    }
    return c;
  }

  private checkBinance(ip: string, req: SimRequest): LimitDecision {
    const now = this.now();
    const s = this.settings;
    const ban = this.bans.get(ip);
    if (ban && ban.until > now) return this.banned(ip, ban.until, now);
    if ((this.backoffUntil.get(ip) ?? 0) > now) {
      const strikes = (ban?.strikes ?? 0) + 1;
      const until = now + Math.min(s.maxBanMs, s.firstBanMs * 2 ** (strikes - 1));
      this.bans.set(ip, { until, strikes });
      this.backoffUntil.delete(ip);
      return this.banned(ip, until, now);
    }
    const sapi = req.path.startsWith('/sapi/');
    const params = new URLSearchParams(
      req.rawQuery && req.body ? `${req.rawQuery}&${req.body}` : req.rawQuery || req.body,
    );
    const weight = sapi ? 1 : binanceWeight(req.method, req.path, params);
    const limit = sapi ? s.binanceSapiWeightPerMinute : s.binanceWeightPerMinute;
    const c = this.counter(`b|${sapi ? 's' : 'w'}|${ip}`, 60_000);
    const weightHeader = sapi ? 'X-SAPI-USED-IP-WEIGHT-1M' : 'X-MBX-USED-WEIGHT-1M';
    const used = c.used(now);
    if (used + weight > limit) {
      const retryS = Math.ceil(c.msUntilFree(now, used + weight - limit) / 1000);
      this.backoffUntil.set(ip, now + retryS * 1000);
      this.stats.binance429++;
      const msg = `Too many requests; current limit of IP(${ip}) is ${limit} requests per minute. Please use the websocket for live updates to avoid polling the API.`;
      return {
        reply: {
          status: 429,
          body: { code: -1003, msg },
          headers: { [weightHeader]: String(used), 'Retry-After': String(retryS) },
        },
      };
    }
    c.add(now, weight);
    const headers: Record<string, string> = { [weightHeader]: String(used + weight) };
    const orders = binanceOrderCount(req.method, req.path, params);
    const apiKey = header(req, 'x-mbx-apikey');
    const account = apiKey ? this.engine.account('binance', apiKey) : undefined;
    if (orders === 0 || !account) return { headers };
    const c10 = this.counter(`b|o10|${apiKey}`, 10_000);
    const c60 = this.counter(`b|o60|${apiKey}`, 60_000);
    const [u10, u60] = [c10.used(now), c60.used(now)];
    const over =
      u10 + orders > s.binanceOrdersPer10s
        ? { c: c10, used: u10, limit: s.binanceOrdersPer10s, name: 'TEN_SECONDS' }
        : u60 + orders > s.binanceOrdersPerMinute
          ? { c: c60, used: u60, limit: s.binanceOrdersPerMinute, name: 'MINUTE' }
          : undefined;
    headers['X-MBX-ORDER-COUNT-10S'] = String(over ? u10 : u10 + orders);
    headers['X-MBX-ORDER-COUNT-1M'] = String(over ? u60 : u60 + orders);
    if (over) {
      this.stats.binanceOrder429++;
      const retryS = Math.ceil(over.c.msUntilFree(now, over.used + orders - over.limit) / 1000);
      return {
        reply: {
          status: 429,
          body: {
            code: -1015,
            msg: `Too many new orders; current limit is ${over.limit} orders per ${over.name}.`,
          },
          headers: { ...headers, 'Retry-After': String(retryS) },
        },
      };
    }
    c10.add(now, orders);
    c60.add(now, orders);
    return { headers };
  }

  private banned(ip: string, until: number, now: number): LimitDecision {
    this.stats.binance418++;
    const msg = `Way too many requests; IP(${ip}) banned until ${until}. Please use the websocket for live updates to avoid bans.`;
    return {
      reply: {
        status: 418,
        body: { code: -1003, msg },
        headers: { 'Retry-After': String(Math.ceil((until - now) / 1000)) },
      },
    };
  }

  private checkOkx(ip: string, req: SimRequest): LimitDecision {
    const now = this.now();
    const batch = OKX_BATCH_SINGLE[req.path];
    const items = batch ? okxBatchInstIds(req) : [okxInstId(req)];
    // Batch endpoints count orders, and "if there is only one order in the request, it will consume the
    // rate limit of" the single-order endpoint (OKX docs, Place multiple orders / Cancel multiple orders).
    const path = batch && items.length === 1 ? batch : req.path;
    const rule = okxRule(req.method, path);
    let key = `o|${path}|`;
    if (rule.scope === 'ip') key += ip;
    else {
      const apiKey = header(req, 'ok-access-key');
      // Unknown key: authentication answers it; nothing to count against a user.
      if (!apiKey || !this.engine.account('okx', apiKey)) return { headers: {} };
      key += apiKey;
    }
    const perInst = new Map<string, number>();
    for (const inst of rule.scope === 'user+inst' ? items : [''])
      perInst.set(inst, (perInst.get(inst) ?? 0) + 1);
    const limit = Math.max(1, Math.floor(rule.limit * this.settings.okxScale + 1e-9));
    const counters = [...perInst].map(([inst, n]) => ({
      c: this.counter(`${key}|${inst}`, rule.windowMs),
      n,
    }));
    if (counters.some(({ c, n }) => c.used(now) + n > limit)) {
      this.stats.okx429++;
      return { reply: { status: 429, body: { code: '50011', msg: 'Too Many Requests', data: [] } } };
    }
    for (const { c, n } of counters) c.add(now, n);
    return { headers: {} };
  }
}

const OKX_BATCH_SINGLE: Record<string, string> = {
  '/api/v5/trade/batch-orders': '/api/v5/trade/order',
  '/api/v5/trade/cancel-batch-orders': '/api/v5/trade/cancel-order',
};

function okxBatchInstIds(req: SimRequest): string[] {
  try {
    const b: unknown = req.body ? JSON.parse(req.body) : [];
    const list: unknown[] = Array.isArray(b) ? b : [b];
    const ids = list.map((o) => (o && typeof o === 'object' && 'instId' in o ? String(o.instId) : ''));
    return ids.length > 0 ? ids : [''];
  } catch {
    return [''];
  }
}

/** The instrument a trading request is about: `instId` in the query or the JSON body (first of a batch). */
function okxInstId(req: SimRequest): string {
  const fromQuery = req.query.get('instId');
  if (fromQuery) return fromQuery;
  try {
    const b: unknown = req.body ? JSON.parse(req.body) : undefined;
    const first: unknown = Array.isArray(b) ? b[0] : b;
    if (first && typeof first === 'object' && 'instId' in first) return String(first.instId);
  } catch {
    // Malformed body: the dialect answers it; count it under no instrument.
  }
  return '';
}
