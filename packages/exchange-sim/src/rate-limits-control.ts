/**
 * Control API for request accounting (rate-limits.ts): `GET /_sim/rate-limits` (settings, how many 429/418
 * were served, weight used per IP), `POST /_sim/rate-limits` (shrink or restore limits; defaults are the real
 * ones), `DELETE /_sim/rate-limits/state` (forget counters, bans and stats).
 */
import { reply, type Reply, type SimRequest } from './http.ts';
import { REAL_LIMITS, type RateLimits, type RateLimitSettings } from './rate-limits.ts';

const FIELDS: Record<string, keyof RateLimitSettings> = {
  binance_weight_per_minute: 'binanceWeightPerMinute',
  binance_sapi_weight_per_minute: 'binanceSapiWeightPerMinute',
  binance_orders_per_10s: 'binanceOrdersPer10s',
  binance_orders_per_minute: 'binanceOrdersPerMinute',
  okx_scale: 'okxScale',
  first_ban_ms: 'firstBanMs',
  max_ban_ms: 'maxBanMs',
};

function bad(error: string): Reply {
  return reply({ ok: false, error }, 400);
}

function view(limits: RateLimits): Record<string, unknown> {
  const settings: Record<string, unknown> = { enabled: limits.settings.enabled };
  for (const [wire, field] of Object.entries(FIELDS)) settings[wire] = limits.settings[field];
  const s = limits.stats;
  return {
    ok: true,
    settings,
    served: {
      binance_429: s.binance429,
      binance_418: s.binance418,
      binance_order_429: s.binanceOrder429,
      okx_429: s.okx429,
    },
  };
}

/** Validates the whole body first: bad input changes nothing. */
function update(limits: RateLimits, body: string): Reply {
  let input: unknown;
  try {
    input = body ? JSON.parse(body) : {};
  } catch {
    return bad('body must be JSON');
  }
  if (!input || typeof input !== 'object' || Array.isArray(input)) return bad('body must be a JSON object');
  const next: RateLimitSettings = { ...limits.settings };
  for (const [k, v] of Object.entries(input)) {
    if (k === 'real') {
      if (v !== true) return bad('real must be true');
      Object.assign(next, REAL_LIMITS);
      continue;
    }
    if (k === 'enabled') {
      if (typeof v !== 'boolean') return bad('enabled must be a boolean');
      next.enabled = v;
      continue;
    }
    const field = FIELDS[k];
    if (!field) return bad(`unknown field ${k}; known: enabled, real, ${Object.keys(FIELDS).join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return bad(`${k} must be a positive number`);
    if (field !== 'okxScale' && !Number.isInteger(v)) return bad(`${k} must be an integer`);
    (next[field] as number) = v;
  }
  limits.settings = next;
  return reply(view(limits));
}

export function handleRateLimitControl(limits: RateLimits, req: SimRequest): Reply | undefined {
  if (req.path === '/_sim/rate-limits') {
    if (req.method === 'GET') return reply(view(limits));
    if (req.method === 'POST') return update(limits, req.body);
  }
  if (req.path === '/_sim/rate-limits/state' && req.method === 'DELETE') {
    limits.clear();
    return reply(view(limits));
  }
  return undefined;
}
