/**
 * OKX v5 WebSocket (okx.com/docs-v5, "WebSocket" overview, "Login", "Subscribe", trading-account and
 * order-book-trading channels): `/ws/v5/public` (tickers, mark-price), `/ws/v5/private` (orders, positions,
 * account; login first), `/ws/v5/business` (orders-algo; login first). Any host prefix before `/ws/v5` is
 * the original host (ccxt-overrides.ts keeps it): `wspap…` is the demo-trading environment.
 * Login: base64 HMAC-SHA256 of timestamp (Unix seconds) + 'GET' + '/users/self/verify', checked like the
 * REST auth (auth.ts). Text `ping` → `pong`; a connection silent for 30 s is closed (doc: "If there's
 * no data return … for 30 seconds, the connection will break").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Account, AlgoOrder, EngineChange } from '../engine.ts';
import type { Sim } from '../http.ts';
import { findMarket } from '../markets.ts';
import { balanceJson, positionsJson } from '../okx/account.ts';
import { algoJson } from '../okx/orders.ts';
import { markPriceRow, orderRow, positionRows, tickerRow } from './okx-events.ts';
import type { StreamConnection, StreamHub, UpgradeDecision } from './stream-hub.ts';

type Access = 'public' | 'private' | 'business';
type Dict = Record<string, unknown>;

/** Which URL serves a channel, and whether it needs a login. */
const CHANNELS: Record<string, Access> = {
  tickers: 'public',
  'mark-price': 'public',
  orders: 'private',
  positions: 'private',
  account: 'private',
  'orders-algo': 'business',
  // "Advance algo orders channel" (iceberg, TWAP, trailing stop: okx/trailing.ts).
  'algo-advance': 'business',
};

/** Trailing stops are pushed on algo-advance; TP/SL (conditional, oco) on orders-algo. */
function algoChannel(a: AlgoOrder): string {
  return a.meta['ordType'] === 'move_order_stop' ? 'algo-advance' : 'orders-algo';
}

const IDLE_MS = 30_000;
const LOGIN_WINDOW_S = 30;

interface OkxConnection {
  conn: StreamConnection;
  access: Access;
  demo: boolean;
  account: Account | undefined;
  subs: Dict[];
  idle: NodeJS.Timeout | undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class OkxWebSocket {
  private readonly conns = new Set<OkxConnection>();

  constructor(
    private readonly hub: StreamHub,
    private readonly sim: Sim,
  ) {
    sim.engine.onChange((c) => this.onChange(c));
    sim.engine.onPrice((symbol) => this.onPrice(symbol));
  }

  route(path: string): UpgradeDecision | undefined {
    const m = /^(.*)\/ws\/v5\/(public|private|business)$/.exec(path);
    if (!m) return undefined;
    const demo = (m[1] ?? '').includes('wspap');
    const access = m[2] as Access;
    return {
      accept: true,
      exchange: 'okx',
      onOpen: (conn) => {
        const c: OkxConnection = { conn, access, demo, account: undefined, subs: [], idle: undefined };
        this.conns.add(c);
        this.touch(c);
        conn.ws.on('close', () => {
          if (c.idle) clearTimeout(c.idle);
          this.conns.delete(c);
        });
        conn.ws.on('message', (data) => {
          this.touch(c);
          this.onMessage(c, String(data));
        });
      },
    };
  }

  private touch(c: OkxConnection): void {
    if (c.idle) clearTimeout(c.idle);
    c.idle = setTimeout(() => c.conn.ws.close(4004, 'No data received in 30s.'), IDLE_MS);
    c.idle.unref();
  }

  private error(c: OkxConnection, code: string, msg: string, id?: unknown): void {
    this.hub.reply(c.conn, { event: 'error', code, msg, connId: String(c.conn.id), ...(id ? { id } : {}) });
  }

  private onMessage(c: OkxConnection, text: string): void {
    if (text === 'ping') return this.hub.reply(c.conn, 'pong');
    let msg: { op?: unknown; args?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return this.error(c, '60012', `Illegal request: ${text}`);
    }
    const args = Array.isArray(msg.args) ? (msg.args as unknown[]) : [];
    switch (msg.op) {
      case 'login':
        return this.login(c, args[0] as Dict | undefined, text);
      case 'subscribe':
        for (const a of args) this.subscribe(c, (a ?? {}) as Dict, text);
        return;
      case 'unsubscribe':
        for (const a of args) {
          const arg = (a ?? {}) as Dict;
          c.subs = c.subs.filter((s) => JSON.stringify(s) !== JSON.stringify(arg));
          c.conn.subscriptions = c.subs.map((s) => String(s['channel']));
          this.hub.reply(c.conn, { event: 'unsubscribe', arg, connId: String(c.conn.id) });
        }
        return;
      default:
        return this.error(c, '60019', `Invalid op: op:${String(msg.op)}`, msg.id);
    }
  }

  private login(c: OkxConnection, a: Dict | undefined, text: string): void {
    if (c.access === 'public') return this.error(c, '60008', 'Login is not supported for public channels.');
    const apiKey = String(a?.['apiKey'] ?? '');
    const passphrase = String(a?.['passphrase'] ?? '');
    const ts = String(a?.['timestamp'] ?? '');
    const sign = String(a?.['sign'] ?? '');
    if (!a || !apiKey || !passphrase || !ts || !sign)
      return this.error(c, '60012', `Illegal request: ${text}`);
    const acct = this.sim.engine.account('okx', apiKey);
    if (!acct) return this.error(c, '60005', 'Invalid OK-ACCESS-KEY');
    if (acct.testnet !== c.demo) return this.error(c, '50101', 'APIKey does not match current environment.');
    if (!/^\d+(\.\d+)?$/.test(ts)) return this.error(c, '60004', 'Invalid timestamp');
    if (Math.abs(Date.now() / 1000 - Number(ts)) > LOGIN_WINDOW_S)
      return this.error(c, '60006', 'Timestamp request expired');
    if (passphrase !== acct.passphrase) return this.error(c, '60024', 'Wrong passphrase');
    const expected = createHmac('sha256', acct.apiSecret)
      .update(`${ts}GET/users/self/verify`, 'utf8')
      .digest('base64');
    if (!safeEqual(sign, expected)) return this.error(c, '60007', 'Invalid sign');
    c.account = acct;
    c.conn.scope = 'private';
    c.conn.apiKey = apiKey;
    this.hub.reply(c.conn, { event: 'login', code: '0', msg: '', connId: String(c.conn.id) });
  }

  private subscribe(c: OkxConnection, arg: Dict, text: string): void {
    const channel = String(arg['channel'] ?? '');
    const access = CHANNELS[channel];
    const instId = arg['instId'] === undefined ? undefined : String(arg['instId']);
    if (!access) {
      return this.error(
        c,
        '60018',
        `Wrong URL or channel:${channel},instId:${instId ?? ''} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
      );
    }
    if (access !== c.access) {
      return this.error(
        c,
        '60018',
        `The current WebSocket endpoint does not support subscribing to ${channel} channel. Please check the WebSocket URL.`,
      );
    }
    if (access !== 'public' && !c.account) return this.error(c, '60011', 'Please log in');
    const market = instId === undefined ? undefined : findMarket(instId);
    if (instId !== undefined && (!market || market.okxId !== instId)) {
      return this.error(
        c,
        '60018',
        `Wrong URL or channel:${channel},instId:${instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
      );
    }
    if (access === 'public' && !market) return this.error(c, '60012', `Illegal request: ${text}`);
    const instType = arg['instType'] === undefined ? undefined : String(arg['instType']);
    if (
      (channel === 'orders' ||
        channel === 'orders-algo' ||
        channel === 'algo-advance' ||
        channel === 'positions') &&
      !instType
    )
      return this.error(c, '60012', `Illegal request: ${text}`);
    c.subs.push(arg);
    c.conn.subscriptions = c.subs.map((a) => String(a['channel']));
    this.hub.reply(c.conn, { event: 'subscribe', arg, connId: String(c.conn.id) });
    // First push at once: market data and the positions/account snapshots ("initial snapshot").
    if (market && access === 'public') this.pushPublic(c, arg, market.id);
    if (c.account && channel === 'account') this.sendTo(c, arg, [balanceJson(this.sim, c.account)]);
    if (c.account && channel === 'positions') {
      this.sendTo(c, arg, positionsJson(this.sim, c.account, instId, 'SWAP'));
    }
  }

  private sendTo(c: OkxConnection, arg: Dict, data: Dict[]): void {
    const uid = c.account ? { uid: c.account.apiKey.slice(0, 16) } : {};
    this.hub.send(c.conn, { arg: { ...arg, ...uid }, data });
  }

  private pushPublic(c: OkxConnection, arg: Dict, symbol: string): void {
    const row =
      arg['channel'] === 'tickers'
        ? tickerRow(this.sim.engine, symbol)
        : markPriceRow(this.sim.engine, symbol);
    this.sendTo(c, arg, [row]);
  }

  /** OKX tickers and mark-price push when the price changes. */
  private onPrice(symbol: string): void {
    const m = findMarket(symbol);
    if (!m) return;
    for (const c of this.conns) {
      if (c.access !== 'public') continue;
      for (const arg of c.subs) if (arg['instId'] === m.okxId) this.pushPublic(c, arg, symbol);
    }
  }

  private onChange(ch: EngineChange): void {
    if (ch.acct.exchange !== 'okx') return;
    const symbol = ch.kind === 'order' ? ch.order.symbol : ch.kind === 'algo' ? ch.algo.symbol : ch.symbol;
    const okxId = findMarket(symbol)?.okxId;
    for (const c of this.conns) {
      if (c.account !== ch.acct) continue;
      for (const arg of c.subs) {
        const channel = arg['channel'];
        const instType = arg['instType'];
        if (instType !== undefined && instType !== 'ANY' && instType !== 'SWAP') continue;
        if (arg['instId'] !== undefined && arg['instId'] !== okxId) continue;
        if (ch.kind === 'order' && channel === 'orders')
          this.sendTo(c, arg, [orderRow(this.sim, ch.order, ch.trade)]);
        else if (ch.kind === 'algo' && channel === algoChannel(ch.algo))
          this.sendTo(c, arg, [algoJson(this.sim, ch.algo)]);
        else if (ch.kind === 'account' && channel === 'positions')
          this.sendTo(c, arg, positionRows(this.sim, ch.acct, ch.symbol, ch.posSide));
        else if (ch.kind === 'account' && channel === 'account')
          this.sendTo(c, arg, [balanceJson(this.sim, ch.acct)]);
      }
    }
  }
}
