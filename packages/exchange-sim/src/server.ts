/** The HTTP server: one port serves Binance (/fapi, /sapi), OKX (/api/v5) and the control API (/_sim). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { binanceErrorReply, handleBinance } from './binance/routes.ts';
import { type ControlSim, createAccountFromJson, handleControl } from './control.ts';
import { Engine, type EngineOptions, type Exchange } from './engine.ts';
import { Faults, type Fault } from './faults.ts';
import type { Reply, SimRequest } from './http.ts';
import { preciseNow } from './num.ts';
import { handleOkx, okxErrorReply } from './okx/routes.ts';
import { handleRateLimitControl } from './rate-limits-control.ts';
import { clientIp, RateLimits, type RateLimitSettings } from './rate-limits.ts';
import { LISTEN_KEY_PATH, SimStreams } from './ws/streams.ts';

export interface SimulatorOptions extends EngineOptions {
  /** 0 (default) = random free port. */
  port?: number;
  host?: string;
  /** Added to every exchange request (ms). */
  latencyMs?: number;
  /** Accounts to create at start, in the control API's JSON shape. */
  accounts?: Array<Record<string, unknown>>;
  /** Start a random walk every N ms. */
  walkIntervalMs?: number;
  /** Log each exchange request to stdout. */
  log?: boolean;
  /** Take the client IP from X-Forwarded-For (tests playing several hosts); default: the socket's address. */
  trustForwardedFor?: boolean;
  /** Request accounting (rate-limits.ts); default: the real limits. `{ enabled: false }` to turn it off. */
  rateLimits?: Partial<RateLimitSettings>;
}

export interface Simulator {
  url: string;
  port: number;
  state: ControlSim;
  engine: Engine;
  /** Per-IP / per-account request accounting (real limits unless changed via /_sim/rate-limits). */
  rateLimits: RateLimits;
  /** WebSocket streams (ws/): Binance user data + market streams, OKX public/private/business. */
  streams: SimStreams;
  /** The last REST requests to the venues, oldest first (tests: what a client sent, and when). */
  requestLog: RequestLogEntry[];
  close(): Promise<void>;
}

export interface RequestLogEntry {
  /** Arrival, ms since epoch (sub-ms precision). */
  at: number;
  exchange: Exchange;
  method: string;
  path: string;
  /** The API key the request was signed with (Binance X-MBX-APIKEY, OKX OK-ACCESS-KEY); '' when public. */
  apiKey: string;
}

const REQUEST_LOG_SIZE = 20_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function locate(pathname: string): { kind: Exchange | 'control'; path: string } | undefined {
  if (pathname.startsWith('/_sim')) return { kind: 'control', path: pathname };
  for (const [marker, kind] of [
    ['/fapi/', 'binance'],
    ['/sapi/', 'binance'],
    ['/api/v5/', 'okx'],
  ] as const) {
    const i = pathname.indexOf(marker);
    if (i >= 0) return { kind, path: pathname.slice(i) };
  }
  return undefined;
}

function send(res: ServerResponse, r: Reply, extraHeaders: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  const text = r.raw ? String(r.body) : JSON.stringify(r.body);
  res.writeHead(r.status, {
    'content-type': r.raw ? 'text/plain' : 'application/json',
    ...extraHeaders,
    ...(r.headers ?? {}),
  });
  res.end(text);
}

function faultReply(exchange: Exchange, f: Fault): Reply {
  switch (f.kind) {
    case 'http5xx': {
      const status = f.status ?? 503;
      return {
        status,
        body:
          status === 502 ? 'Bad Gateway' : status === 500 ? 'Internal Server Error' : 'Service Unavailable',
        raw: true,
      };
    }
    case 'rate_limit':
      return exchange === 'binance'
        ? binanceErrorReply(
            -1003,
            f.msg ??
              'Too many requests; current limit of IP is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.',
            429,
          )
        : okxErrorReply('50011', f.msg ?? 'Too Many Requests', 429);
    case 'error_code':
    default:
      return exchange === 'binance'
        ? binanceErrorReply(Number(f.code), f.msg ?? 'Simulated error.', f.status ?? 400)
        : okxErrorReply(String(f.code), f.msg ?? 'Simulated error.', f.status ?? 200);
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const engine = new Engine(opts);
  const state: ControlSim = { engine, faults: new Faults(), latencyMs: opts.latencyMs ?? 0 };
  for (const a of opts.accounts ?? []) createAccountFromJson(state, a);
  if (opts.walkIntervalMs) {
    let seed = 1;
    state.walkTimer = setInterval(() => engine.walk(1, ++seed), opts.walkIntervalMs);
    state.walkTimer.unref();
  }
  const hanging = new Set<IncomingMessage>();
  const rateLimits = new RateLimits(engine);
  rateLimits.settings = { ...rateLimits.settings, ...opts.rateLimits };
  const streams = new SimStreams(state);
  const requestLog: RequestLogEntry[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse, arrivalMs: number): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const rawUrl = req.url ?? '/';
    const qi = rawUrl.indexOf('?');
    const pathname = qi >= 0 ? rawUrl.slice(0, qi) : rawUrl;
    const rawQuery = qi >= 0 ? rawUrl.slice(qi + 1) : '';
    const loc = locate(pathname);
    if (!loc) return send(res, { status: 404, body: { error: `no route ${pathname}` } });
    const sreq: SimRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: loc.path,
      rawQuery,
      query: new URLSearchParams(rawQuery),
      body,
      headers: req.headers,
      arrivalMs,
    };
    if (loc.kind === 'control') {
      if (loc.path.startsWith('/_sim/streams')) return send(res, streams.handleControl(sreq));
      if (sreq.method === 'POST' && sreq.path === '/_sim/reset') rateLimits.clear();
      const r = handleRateLimitControl(rateLimits, sreq) ?? handleControl(state, sreq);
      if (loc.path === '/_sim/reset' && r.status === 200) streams.reset();
      return send(res, r);
    }
    const exchange = loc.kind;
    const key = req.headers[exchange === 'binance' ? 'x-mbx-apikey' : 'ok-access-key'];
    requestLog.push({
      at: arrivalMs,
      exchange,
      method: sreq.method,
      path: sreq.path,
      apiKey: String(key ?? ''),
    });
    if (requestLog.length > REQUEST_LOG_SIZE) requestLog.splice(0, requestLog.length - REQUEST_LOG_SIZE);
    // Counted on arrival, before faults and handlers, as the exchange's gateway does.
    const limited = rateLimits.check(exchange, clientIp(req, opts.trustForwardedFor ?? false), sreq);
    if ('reply' in limited) return send(res, limited.reply);
    const counted = limited.headers;
    if (state.latencyMs > 0) await sleep(state.latencyMs);
    const fault = state.faults.take(exchange, sreq.method, sreq.path, `${sreq.rawQuery}\n${sreq.body}`);
    if (fault?.kind === 'latency') await sleep(fault.latency_ms ?? 1000);
    if (fault?.kind === 'timeout') {
      // Never answer: the client times out. The socket is destroyed on close() or after 5 minutes.
      hanging.add(req);
      setTimeout(() => {
        hanging.delete(req);
        req.socket.destroy();
      }, 300_000).unref();
      return;
    }
    if (fault && ['http5xx', 'rate_limit', 'error_code'].includes(fault.kind))
      return send(res, faultReply(exchange, fault), counted);
    const r =
      exchange === 'binance'
        ? sreq.path === LISTEN_KEY_PATH
          ? streams.handleListenKey(sreq)
          : await handleBinance(state, sreq)
        : await handleOkx(state, sreq);
    if (opts.log) console.log(`[sim] ${exchange} ${sreq.method} ${sreq.path} → ${r.status}`);
    if (fault?.kind === 'drop_after_accept') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'late_answer') await sleep(fault.latency_ms ?? 1000);
    send(res, r, counted);
  }

  const server: Server = createServer((req, res) => {
    const arrivalMs = preciseNow();
    handle(req, res, arrivalMs).catch((e: unknown) => {
      console.error('[exchange-sim] internal error', e);
      send(res, {
        status: 500,
        body: { error: 'internal simulator error', detail: e instanceof Error ? e.message : String(e) },
      });
    });
  });
  server.on('upgrade', (req, socket, head) => streams.handleUpgrade(req, socket, head));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    port,
    state,
    engine,
    rateLimits,
    streams,
    requestLog,
    close: () =>
      new Promise<void>((resolve) => {
        if (state.walkTimer) clearInterval(state.walkTimer);
        streams.close();
        for (const r of hanging) r.socket.destroy();
        hanging.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
