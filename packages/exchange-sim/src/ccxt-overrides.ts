/**
 * Points an already-constructed ccxt `binanceusdm` / `okx` instance at the simulator (or any other host).
 * Works on the instance structurally, so this package does not depend on ccxt at run time.
 * Call AFTER enableDemoTrading()/setSandboxMode(): those replace urls.api.
 */
import { Agent } from 'node:http';

interface CcxtLike {
  id: string;
  urls: Record<string, unknown>;
  options: Record<string, unknown>;
  has: Record<string, unknown>;
  exceptions: Record<string, unknown>;
  httpAgent?: unknown;
}

function rehost(value: unknown, base: string): unknown {
  if (typeof value === 'string') {
    // WebSocket URLs (ccxt pro's urls.api.ws) go to the same port over ws://.
    if (/^wss?:\/\//.test(value)) return value.replace(/^wss?:\/\/[^/]+/, base.replace(/^http/, 'ws'));
    return value.replace(/^https?:\/\/[^/]+/, base);
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = rehost(v, base);
    return out;
  }
  return value;
}

export function pointCcxtAtSimulator(ex: CcxtLike, url: string): void {
  const base = url.replace(/\/+$/, '');
  if (ex.id === 'okx' || ex.id === 'myokx' || ex.id === 'okxus') {
    const api = (ex.urls['api'] ?? {}) as Record<string, unknown>;
    ex.urls['api'] = { ...api, rest: base };
    // ccxt pro: keep the venue host as a path prefix, so the simulator tells demo (wspap…) from live.
    const ws = api['ws'];
    if (typeof ws === 'string') {
      const host = /^wss?:\/\/([^/]+)/.exec(ws)?.[1] ?? 'ws.okx.com';
      (ex.urls['api'] as Record<string, unknown>)['ws'] = `${base.replace(/^http/, 'ws')}/${host}/ws/v5`;
    }
    ex.options['fetchMarkets'] = {
      ...((ex.options['fetchMarkets'] as object | undefined) ?? {}),
      types: ['swap'],
    };
  } else {
    ex.urls['api'] = rehost(ex.urls['api'], base);
    // ccxt picks the linear-futures error table by host; against another host merge it in.
    const linear = (ex.exceptions['linear'] as { exact?: Record<string, unknown> } | undefined)?.exact ?? {};
    const exact = (ex.exceptions['exact'] as Record<string, unknown> | undefined) ?? {};
    ex.exceptions['exact'] = { ...exact, ...linear };
  }
  // ccxt pro refuses ws:// URLs until an http agent is loaded (`loadHttpProxyAgent()`, which is async).
  if (base.startsWith('http://') && ex.httpAgent === undefined) ex.httpAgent = new Agent();
  ex.options['fetchCurrencies'] = false;
  ex.has['fetchCurrencies'] = false;
}
