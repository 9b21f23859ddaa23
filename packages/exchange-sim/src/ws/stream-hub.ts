/**
 * The simulator's WebSocket side: one `ws` server on the HTTP port (upgrade requests), the registry of open
 * stream connections, and the test controls on them (drop, delay, refuse new connections). The venue
 * dialects (binance-*.ts, okx-ws.ts) decide what a connection is and what it receives.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Exchange } from '../engine.ts';

export type StreamScope = 'public' | 'private';

export interface StreamConnection {
  id: number;
  exchange: Exchange;
  /** Private once logged in (OKX) or opened with a listenKey (Binance). */
  scope: StreamScope;
  apiKey: string | undefined;
  /** Path the client connected to, without the host prefix (e.g. /market/ws, /ws/v5/private). */
  path: string;
  ws: WebSocket;
  openedAt: number;
  /** Events sent (after any delay). */
  sent: number;
  /** What the connection is subscribed to (stream names, OKX channels), kept by the dialect. */
  subscriptions: string[];
  /** Events held by a delay, in the order they were sent (see StreamHub.send). */
  held?: Array<{ at: number; text: string }>;
}

/** Where a delay or a drop applies: a venue, optionally one account's private connections. */
export interface StreamTarget {
  exchange?: Exchange | undefined;
  apiKey?: string | undefined;
  scope?: StreamScope | undefined;
}

interface Delay extends StreamTarget {
  ms: number;
}

interface Refusal {
  exchange: Exchange | undefined;
  until: number;
}

/** A dialect's router: undefined when the path is not its own. */
export type UpgradeHandler = (req: IncomingMessage, path: string, url: URL) => UpgradeDecision | undefined;

/** What a dialect answers to an upgrade request: accept (with a callback once open) or refuse with an HTTP status. */
export type UpgradeDecision =
  | { accept: true; exchange: Exchange; onOpen: (conn: StreamConnection) => void }
  | { accept: false; status: number; reason: string };

function matches(t: StreamTarget, conn: Pick<StreamConnection, 'exchange' | 'apiKey' | 'scope'>): boolean {
  return (
    (t.exchange === undefined || t.exchange === conn.exchange) &&
    (t.apiKey === undefined || t.apiKey === conn.apiKey) &&
    (t.scope === undefined || t.scope === conn.scope)
  );
}

export class StreamHub {
  readonly connections = new Set<StreamConnection>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly handlers: UpgradeHandler[] = [];
  private delays: Delay[] = [];
  private refusals: Refusal[] = [];
  private seq = 0;
  private closed = false;

  addHandler(h: UpgradeHandler): void {
    this.handlers.push(h);
  }

  /** `server.on('upgrade', …)`: route, refuse (HTTP status before the handshake), or open the connection. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A client that resets mid-handshake must not take the simulator down with an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://sim');
    let decision: UpgradeDecision = { accept: false, status: 404, reason: `no stream at ${url.pathname}` };
    for (const h of this.handlers) {
      const d = h(req, url.pathname, url);
      if (d) {
        decision = d;
        break;
      }
    }
    if (this.closed) decision = { accept: false, status: 503, reason: 'simulator closing' };
    if (decision.accept && this.refusing(decision.exchange)) {
      decision = { accept: false, status: 503, reason: 'stream connections refused (simulator control)' };
    }
    if (!decision.accept) {
      const body = decision.reason;
      socket.end(
        `HTTP/1.1 ${decision.status} Refused\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const { exchange, onOpen } = decision;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.seq += 1;
      const conn: StreamConnection = {
        id: this.seq,
        exchange,
        scope: 'public',
        apiKey: undefined,
        path: url.pathname,
        ws,
        openedAt: Date.now(),
        sent: 0,
        subscriptions: [],
      };
      this.connections.add(conn);
      ws.on('close', () => this.connections.delete(conn));
      ws.on('error', () => ws.terminate());
      onOpen(conn);
    });
  }

  private refusing(exchange: Exchange): boolean {
    const now = Date.now();
    this.refusals = this.refusals.filter((r) => r.until > now);
    return this.refusals.some((r) => r.exchange === undefined || r.exchange === exchange);
  }

  /** The delay for events to this connection: the largest matching one. */
  delayFor(conn: StreamConnection): number {
    let ms = 0;
    for (const d of this.delays) if (matches(d, conn)) ms = Math.max(ms, d.ms);
    return ms;
  }

  /**
   * Sends one event (JSON unless a string). The payload is serialised by the caller at the moment of the
   * change, so a delay postpones delivery but never changes what is delivered. A connection is one ordered
   * stream (RFC 6455: a WebSocket's messages travel in order over one TCP connection): an event never overtakes
   * one sent before it, even when the delay is lowered or lifted meanwhile — it waits behind the held ones.
   */
  send(conn: StreamConnection, payload: unknown): void {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const ms = this.delayFor(conn);
    const held = (conn.held ??= []);
    if (ms <= 0 && held.length === 0) return deliver(conn, text);
    const at = Math.max(Date.now() + ms, held[held.length - 1]?.at ?? 0);
    held.push({ at, text });
    if (held.length === 1) this.releaseHeld(conn);
  }

  private releaseHeld(conn: StreamConnection): void {
    const held = conn.held ?? [];
    while (held.length > 0 && held[0]!.at <= Date.now()) deliver(conn, held.shift()!.text);
    if (held.length > 0) setTimeout(() => this.releaseHeld(conn), held[0]!.at - Date.now()).unref();
  }

  /** Answers a request at once (subscription acks, login replies, pong): never delayed. */
  reply(conn: StreamConnection, payload: unknown): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  find(t: StreamTarget): StreamConnection[] {
    return [...this.connections].filter((c) => matches(t, c));
  }

  /** Drops matching connections without a closing handshake (like a network cut): clients see code 1006. */
  drop(t: StreamTarget): number {
    const list = this.find(t);
    for (const c of list) c.ws.terminate();
    return list.length;
  }

  setDelay(d: Delay): void {
    this.delays = this.delays.filter(
      (x) => !(x.exchange === d.exchange && x.apiKey === d.apiKey && x.scope === d.scope),
    );
    if (d.ms > 0) this.delays.push(d);
  }

  refuse(exchange: Exchange | undefined, ms: number): void {
    this.refusals.push({ exchange, until: Date.now() + ms });
  }

  describe(): Record<string, unknown> {
    const now = Date.now();
    return {
      connections: [...this.connections].map((c) => ({
        id: c.id,
        exchange: c.exchange,
        scope: c.scope,
        api_key: c.apiKey ?? null,
        path: c.path,
        opened_at: c.openedAt,
        sent: c.sent,
        subscriptions: c.subscriptions,
      })),
      delays: this.delays.map((d) => ({
        exchange: d.exchange ?? null,
        api_key: d.apiKey ?? null,
        scope: d.scope ?? null,
        ms: d.ms,
      })),
      refusals: this.refusals
        .filter((r) => r.until > now)
        .map((r) => ({ exchange: r.exchange ?? null, remaining_ms: r.until - now })),
    };
  }

  /** Clears delays and refusals and drops every connection (`/_sim/reset`). */
  reset(): void {
    this.delays = [];
    this.refusals = [];
    this.drop({});
  }

  close(): void {
    this.closed = true;
    this.drop({});
    this.wss.close();
  }
}

function deliver(conn: StreamConnection, text: string): void {
  if (conn.ws.readyState !== WebSocket.OPEN) return;
  conn.ws.send(text);
  conn.sent += 1;
}
