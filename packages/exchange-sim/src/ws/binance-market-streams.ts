/**
 * Binance USDⓈ-M market streams at the split base URLs of the "Important WebSocket Change Notice"
 * (developers.binance.com, derivatives/usds-margined-futures/websocket-market-streams): `/public` serves
 * `<symbol>@bookTicker` (pushed on every price change: "Update Speed: Real-time"), `/market` serves
 * `<symbol>@markPrice` (3 s) / `<symbol>@markPrice@1s`, `<symbol>@ticker` and `@miniTicker` (2 s). Both in ws mode
 * (`/ws`, `/ws/<stream>/<stream>`) and stream mode (`/stream?streams=…`, events wrapped as {stream, data}),
 * with "Live Subscribing/Unsubscribing": {method: SUBSCRIBE|UNSUBSCRIBE|LIST_SUBSCRIPTIONS, params, id}
 * answered {result: null|[…], id}. A stream on the wrong category is refused (legacy URLs are retired).
 */
import type { Engine } from '../engine.ts';
import { marketById } from '../markets.ts';
import { bookTicker, markPriceUpdate, miniTicker24h, ticker24h } from './binance-events.ts';
import type { StreamConnection, StreamHub, UpgradeDecision } from './stream-hub.ts';

type Category = 'public' | 'market';

interface StreamKind {
  category: Category;
  /** Seconds between pushes; 0 = on every price change. */
  everySec: number;
  build: (engine: Engine, symbol: string) => Record<string, unknown>;
}

const KINDS: Record<string, StreamKind> = {
  bookTicker: { category: 'public', everySec: 0, build: bookTicker },
  markPrice: { category: 'market', everySec: 3, build: markPriceUpdate },
  'markPrice@1s': { category: 'market', everySec: 1, build: markPriceUpdate },
  ticker: { category: 'market', everySec: 2, build: ticker24h },
  miniTicker: { category: 'market', everySec: 2, build: miniTicker24h },
};

interface Parsed {
  name: string;
  symbol: string;
  kind: StreamKind;
}

/** `btcusdt@markPrice@1s` → symbol BTCUSDT, kind markPrice@1s; undefined when not a stream we serve. */
function parseStream(name: string): Parsed | undefined {
  const at = name.indexOf('@');
  if (at <= 0) return undefined;
  const symbol = name.slice(0, at).toUpperCase();
  const kind = KINDS[name.slice(at + 1)];
  if (!kind || !marketById(symbol)) return undefined;
  return { name, symbol, kind };
}

interface MarketConnection {
  conn: StreamConnection;
  category: Category;
  wrap: boolean;
  streams: Map<string, Parsed>;
}

export class BinanceMarketStreams {
  private readonly subscribers = new Set<MarketConnection>();
  private tick = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly hub: StreamHub,
    private readonly engine: Engine,
  ) {
    engine.onPrice((symbol) => this.push((p) => p.kind.everySec === 0 && p.symbol === symbol));
    this.timer = setInterval(() => {
      this.tick += 1;
      this.push((p) => p.kind.everySec > 0 && this.tick % p.kind.everySec === 0);
    }, 1000);
    this.timer.unref();
  }

  route(path: string, url: URL): UpgradeDecision | undefined {
    const m = /^\/(public|market)\/(ws|stream)(\/.*)?$/.exec(path);
    if (!m) return undefined;
    const category = m[1] as Category;
    const wrap = m[2] === 'stream';
    const names = wrap
      ? (url.searchParams.get('streams') ?? '').split('/').filter(Boolean)
      : (m[3] ?? '').split('/').filter(Boolean);
    // Path segments that name no stream are ignored, as Binance does: ccxt connects to `/market/ws/<n>`, n
    // being its own connection index, and subscribes by message.
    const initial = new Map<string, Parsed>();
    for (const n of names) {
      const p = parseStream(n);
      if (p && p.kind.category === category) initial.set(n, p);
    }
    return {
      accept: true,
      exchange: 'binance',
      onOpen: (conn) => {
        const sub: MarketConnection = { conn, category, wrap, streams: initial };
        conn.subscriptions = [...initial.keys()];
        this.subscribers.add(sub);
        conn.ws.on('close', () => this.subscribers.delete(sub));
        conn.ws.on('message', (data) => this.onMessage(sub, String(data)));
      },
    };
  }

  private onMessage(sub: MarketConnection, text: string): void {
    let msg: { method?: unknown; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.hub.reply(sub.conn, {
        error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' },
      });
      return;
    }
    const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null;
    const params = Array.isArray(msg.params) ? msg.params.map(String) : [];
    switch (msg.method) {
      case 'SUBSCRIBE': {
        const parsed: Parsed[] = [];
        for (const n of params) {
          const p = parseStream(n);
          if (!p || p.kind.category !== sub.category) {
            this.hub.reply(sub.conn, {
              error: { code: 2, msg: `Invalid request: stream ${n} is not served on /${sub.category}` },
              id,
            });
            return;
          }
          parsed.push(p);
        }
        for (const p of parsed) sub.streams.set(p.name, p);
        sub.conn.subscriptions = [...sub.streams.keys()];
        this.hub.reply(sub.conn, { result: null, id });
        return;
      }
      case 'UNSUBSCRIBE':
        for (const n of params) sub.streams.delete(n);
        sub.conn.subscriptions = [...sub.streams.keys()];
        this.hub.reply(sub.conn, { result: null, id });
        return;
      case 'LIST_SUBSCRIPTIONS':
        this.hub.reply(sub.conn, { result: [...sub.streams.keys()], id });
        return;
      default:
        this.hub.reply(sub.conn, { error: { code: 2, msg: 'Invalid request: unknown method' }, id });
    }
  }

  private push(pick: (p: Parsed) => boolean): void {
    for (const sub of this.subscribers) {
      for (const p of sub.streams.values()) {
        if (!pick(p)) continue;
        const event = p.kind.build(this.engine, p.symbol);
        this.hub.send(sub.conn, sub.wrap ? { stream: p.name, data: event } : event);
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
