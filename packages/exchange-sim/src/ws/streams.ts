/**
 * The simulator's streams, wired together: the hub, Binance user data and market streams, OKX WebSocket,
 * the Binance listenKey REST endpoint, and the stream control API under `/_sim/streams`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Exchange } from '../engine.ts';
import { reply, type Reply, type Sim, type SimRequest } from '../http.ts';
import { BinanceMarketStreams } from './binance-market-streams.ts';
import { BinanceUserStream } from './binance-user-stream.ts';
import { OkxWebSocket } from './okx-ws.ts';
import { StreamHub, type StreamScope, type StreamTarget } from './stream-hub.ts';

export const LISTEN_KEY_PATH = '/fapi/v1/listenKey';

function badRequest(msg: string): Reply {
  return reply({ error: msg }, 400);
}

function parseBody(body: string): Record<string, unknown> | undefined {
  if (!body.trim()) return {};
  try {
    const v = JSON.parse(body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `{exchange?, api_key?, scope?}` → a target, or an error message. */
function targetOf(b: Record<string, unknown>): StreamTarget | string {
  const exchange = b['exchange'];
  if (exchange !== undefined && exchange !== 'binance' && exchange !== 'okx')
    return 'exchange must be binance or okx';
  const apiKey = b['api_key'];
  if (apiKey !== undefined && typeof apiKey !== 'string') return 'api_key must be a string';
  const scope = b['scope'];
  if (scope !== undefined && scope !== 'public' && scope !== 'private')
    return 'scope must be public or private';
  return {
    exchange: exchange as Exchange | undefined,
    apiKey: apiKey as string | undefined,
    scope: scope as StreamScope | undefined,
  };
}

function msOf(b: Record<string, unknown>, name: string, max: number): number | string {
  const v = b[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)
    return `${name} must be a number of milliseconds from 0 to ${max}`;
  return v;
}

export class SimStreams {
  readonly hub = new StreamHub();
  readonly binanceUser: BinanceUserStream;
  private readonly binanceMarket: BinanceMarketStreams;
  private readonly okx: OkxWebSocket;

  constructor(sim: Sim) {
    this.binanceUser = new BinanceUserStream(this.hub, sim.engine);
    this.binanceMarket = new BinanceMarketStreams(this.hub, sim.engine);
    this.okx = new OkxWebSocket(this.hub, sim);
    // OKX first: its paths (/ws/v5/…) may carry any host prefix.
    this.hub.addHandler((_req, path) => this.okx.route(path));
    this.hub.addHandler((_req, path, url) => this.binanceUser.route(path, url));
    this.hub.addHandler((_req, path, url) => this.binanceMarket.route(path, url));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.hub.handleUpgrade(req, socket, head);
  }

  /** `POST|PUT|DELETE /fapi/v1/listenKey`. */
  handleListenKey(req: SimRequest): Reply {
    return this.binanceUser.handleRest(req.method, req.headers);
  }

  /**
   * `/_sim/streams` control API:
   * GET → connections, delays, refusals; POST /drop {exchange?, api_key?, scope?} → closes matching
   * connections abruptly; POST /delay {ms, exchange?, api_key?, scope?} → events to matching connections
   * arrive ms later (0 clears); POST /refuse {ms, exchange?} → new connections get HTTP 503 for ms;
   * POST /listen-key-validity {ms} → validity of Binance listenKeys created or extended from now on.
   */
  handleControl(req: SimRequest): Reply {
    const sub = req.path.replace(/^\/_sim\/streams/, '') || '/';
    if (req.method === 'GET' && sub === '/') return reply(this.hub.describe());
    if (req.method !== 'POST') return reply({ error: `no route ${req.method} ${req.path}` }, 404);
    const b = parseBody(req.body);
    if (!b) return badRequest('body must be a JSON object');
    const target = targetOf(b);
    if (typeof target === 'string') return badRequest(target);
    switch (sub) {
      case '/drop':
        return reply({ dropped: this.hub.drop(target) });
      case '/delay': {
        const ms = msOf(b, 'ms', 600_000);
        if (typeof ms === 'string') return badRequest(ms);
        this.hub.setDelay({ ...target, ms });
        return reply({ ok: true, ...this.hub.describe() });
      }
      case '/refuse': {
        const ms = msOf(b, 'ms', 3_600_000);
        if (typeof ms === 'string') return badRequest(ms);
        if (target.apiKey !== undefined || target.scope !== undefined)
          return badRequest(
            'refuse takes only exchange and ms (the account is unknown before the handshake)',
          );
        this.hub.refuse(target.exchange, ms);
        return reply({ ok: true });
      }
      case '/listen-key-validity': {
        const ms = msOf(b, 'ms', 24 * 3_600_000);
        if (typeof ms === 'string') return badRequest(ms);
        if (ms < 1) return badRequest('ms must be at least 1');
        this.binanceUser.validityMs = ms;
        return reply({ ok: true });
      }
      default:
        return reply({ error: `no route POST ${req.path}` }, 404);
    }
  }

  reset(): void {
    this.hub.reset();
    this.binanceUser.reset();
  }

  close(): void {
    this.binanceMarket.close();
    this.hub.close();
  }
}
