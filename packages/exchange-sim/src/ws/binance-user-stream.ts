/**
 * Binance USDⓈ-M user data stream (developers.binance.com, derivatives/usds-margined-futures/user-data-streams):
 * `POST/PUT/DELETE /fapi/v1/listenKey` (USER_STREAM: API key header, no signature), a key valid 60 minutes,
 * extended by PUT or by a POST while active; expiry pushes `listenKeyExpired` and nothing more is sent on
 * that key. Connections at `/private/ws?listenKey=…[&events=A/B]` ("Important WebSocket Change Notice":
 * the legacy `/ws/<listenKey>` URL is retired) receive the account's ORDER_TRADE_UPDATE, ACCOUNT_UPDATE,
 * ALGO_UPDATE and ACCOUNT_CONFIG_UPDATE (leverage) events as the engine changes.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Engine, EngineChange } from '../engine.ts';
import { reply, type Reply } from '../http.ts';
import {
  accountConfigUpdate,
  accountUpdate,
  algoUpdate,
  listenKeyExpired,
  orderTradeUpdate,
} from './binance-events.ts';
import type { StreamConnection, StreamHub, UpgradeDecision } from './stream-hub.ts';

/** "A User Data Stream listenKey is valid for 60 minutes after creation." */
export const LISTEN_KEY_VALIDITY_MS = 60 * 60_000;

interface ListenKey {
  key: string;
  apiKey: string;
  expiresAt: number;
  timer: NodeJS.Timeout | undefined;
}

interface UserConnection {
  conn: StreamConnection;
  listenKey: string;
  /** `events=` filter; undefined = every event. */
  events: Set<string> | undefined;
  expired: boolean;
  /** Stream mode (`/private/stream`): events wrapped as {stream, data}. */
  wrap: boolean;
}

function binanceError(code: number, msg: string, status = 400): Reply {
  return reply({ code, msg }, status);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class BinanceUserStream {
  /** Validity of new and extended keys; tests shorten it (`POST /_sim/streams/listen-key-validity`). */
  validityMs = LISTEN_KEY_VALIDITY_MS;
  private readonly keys = new Map<string, ListenKey>();
  private readonly byAccount = new Map<string, ListenKey>();
  private readonly users = new Set<UserConnection>();

  constructor(
    private readonly hub: StreamHub,
    private readonly engine: Engine,
  ) {
    engine.onChange((c) => this.onChange(c));
  }

  /** `/fapi/v1/listenKey` (any method). */
  handleRest(method: string, headers: IncomingHttpHeaders): Reply {
    const apiKey = header(headers, 'x-mbx-apikey');
    if (!apiKey) return binanceError(-2014, 'API-key format invalid.', 401);
    if (!this.engine.account('binance', apiKey))
      return binanceError(-2015, 'Invalid API-key, IP, or permissions for action.', 401);
    const active = this.byAccount.get(apiKey);
    switch (method) {
      case 'POST': {
        // "Doing a POST on an account with an active listenKey will return the currently active listenKey
        // and extend its validity for 60 minutes."
        const lk = active ?? this.create(apiKey);
        this.extend(lk);
        return reply({ listenKey: lk.key });
      }
      case 'PUT': {
        if (!active) return binanceError(-1125, 'This listenKey does not exist.');
        this.extend(active);
        return reply({ listenKey: active.key });
      }
      case 'DELETE': {
        // "Doing a DELETE on a listenKey will close the stream and invalidate the listenKey."
        if (active) {
          this.invalidate(active);
          for (const u of this.users)
            if (u.listenKey === active.key) u.conn.ws.close(1000, 'listenKey closed');
        }
        return reply({});
      }
      default:
        return binanceError(-1014, 'Unsupported order combination.');
    }
  }

  /** Upgrade router for `/private/ws` and `/private/stream`; undefined for other paths. */
  route(path: string, url: URL): UpgradeDecision | undefined {
    if (path !== '/private/ws' && path !== '/private/stream') return undefined;
    const key = url.searchParams.get('listenKey') ?? '';
    const lk = this.keys.get(key);
    if (!lk || lk.expiresAt <= Date.now()) {
      return { accept: false, status: 400, reason: 'Invalid listenKey.' };
    }
    const eventsRaw = url.searchParams.get('events');
    const events = eventsRaw ? new Set(eventsRaw.split('/').filter(Boolean)) : undefined;
    const wrap = path === '/private/stream';
    return {
      accept: true,
      exchange: 'binance',
      onOpen: (conn) => {
        conn.scope = 'private';
        conn.apiKey = lk.apiKey;
        const user: UserConnection = { conn, listenKey: key, events, expired: false, wrap };
        this.users.add(user);
        conn.ws.on('close', () => this.users.delete(user));
        // Requests on the private stream (SUBSCRIBE of more listenKeys/events) are not simulated: ack them.
        conn.ws.on('message', (data) => {
          const id = parseId(String(data));
          if (id !== undefined) this.hub.reply(conn, { result: null, id });
        });
      },
    };
  }

  private create(apiKey: string): ListenKey {
    const lk: ListenKey = {
      key: listenKeyString(),
      apiKey,
      expiresAt: 0,
      timer: undefined,
    };
    this.keys.set(lk.key, lk);
    this.byAccount.set(apiKey, lk);
    return lk;
  }

  private extend(lk: ListenKey): void {
    lk.expiresAt = Date.now() + this.validityMs;
    if (lk.timer) clearTimeout(lk.timer);
    lk.timer = setTimeout(() => this.expire(lk), this.validityMs);
    lk.timer.unref();
  }

  private invalidate(lk: ListenKey): void {
    if (lk.timer) clearTimeout(lk.timer);
    this.keys.delete(lk.key);
    if (this.byAccount.get(lk.apiKey) === lk) this.byAccount.delete(lk.apiKey);
  }

  /** "Event: User Data Stream Expired": pushed once; the connection stays open but carries nothing more. */
  private expire(lk: ListenKey): void {
    this.invalidate(lk);
    for (const u of this.users) {
      if (u.listenKey !== lk.key || u.expired) continue;
      this.hub.send(u.conn, this.frame(u, listenKeyExpired(lk.key)));
      u.expired = true;
    }
  }

  private frame(u: UserConnection, event: Record<string, unknown>): unknown {
    return u.wrap ? { stream: u.listenKey, data: event } : event;
  }

  private onChange(c: EngineChange): void {
    if (c.acct.exchange !== 'binance') return;
    const targets = [...this.users].filter((u) => !u.expired && u.conn.apiKey === c.acct.apiKey);
    if (targets.length === 0) return;
    const event =
      c.kind === 'order'
        ? orderTradeUpdate(c.order, c.trade)
        : c.kind === 'algo'
          ? algoUpdate(c.acct, c.algo)
          : c.kind === 'config'
            ? accountConfigUpdate(c.symbol, c.leverage)
            : accountUpdate(this.engine, c.acct, c.symbol, c.posSide);
    const name = String(event['e']);
    for (const u of targets) {
      if (u.events && !u.events.has(name)) continue;
      this.hub.send(u.conn, this.frame(u, event));
    }
  }

  reset(): void {
    for (const lk of this.keys.values()) if (lk.timer) clearTimeout(lk.timer);
    this.keys.clear();
    this.byAccount.clear();
    this.validityMs = LISTEN_KEY_VALIDITY_MS;
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 64 letters and digits, the shape of Binance's listenKeys. */
function listenKeyString(): string {
  return [...randomBytes(64)].map((b) => ALNUM[b % ALNUM.length]).join('');
}

export function parseId(text: string): number | string | undefined {
  try {
    const msg = JSON.parse(text) as { id?: unknown };
    return typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : undefined;
  } catch {
    return undefined;
  }
}
