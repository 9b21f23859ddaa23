/**
 * Last prices from the public streams: one ccxt pro client (one connection) per venue per process, shared
 * by every account. `latest(symbol, maxAgeMs)` answers only a price within the bound both by its receipt and
 * by the exchange's own event time (Binance `E`, OKX `ts`, through ccxt's `timestamp`, on the venue's clock
 * corrected by the shared offset): a lagging stream keeps delivering, so receipts look fresh while the prices
 * are old. Otherwise a decision falls back to REST (or the alert's own price).
 */
import type { Exchange } from '@tradehook/contracts';
import { clockKey, createCcxtClient } from '../client.ts';
import { venueClockOffsetMs } from '../clock.ts';
import { asProClient, type ProClient } from './pro-client.ts';

export interface PriceFeedOptions {
  exchange: Exchange;
  testnet: boolean;
  apiUrl?: string | undefined;
  timeoutMs?: number | undefined;
  keepAliveMs?: number | undefined;
}

export interface LivePrice {
  price: number;
  /** Local receive time (ms since epoch). */
  receivedAt: number;
  /** The exchange's event time (its clock), when the push carries one. */
  exchangeTime?: number | undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class PriceFeed {
  readonly client: ProClient;
  private readonly prices = new Map<string, LivePrice>();
  private readonly tracked = new Set<string>();
  private marketsReady: Promise<unknown> | undefined;
  private stopped = false;
  private readonly clockKey: string;

  constructor(opts: PriceFeedOptions) {
    this.clockKey = clockKey(opts);
    this.client = asProClient(
      createCcxtClient({
        exchange: opts.exchange,
        credentials: { apiKey: '', apiSecret: '' },
        testnet: opts.testnet,
        apiUrl: opts.apiUrl,
        timeoutMs: opts.timeoutMs,
        enableRateLimit: false, // public market data only; the order budget is not spent here
        streaming: true,
        keepAliveMs: opts.keepAliveMs,
        adjustForTimeDifference: true, // the venue's shared offset, for the event-time age
      }),
    );
  }

  /** Starts following a symbol (idempotent) without waiting for its first price. */
  watch(symbol: string): void {
    if (this.tracked.has(symbol) || this.stopped) return;
    this.tracked.add(symbol);
    this.marketsReady ??= this.client.loadMarkets();
    this.marketsReady.then(
      () => void this.follow(symbol),
      () => {
        this.tracked.delete(symbol); // the next watch() tries again
        this.marketsReady = undefined;
      },
    );
  }

  /** Starts following a symbol (idempotent); resolves once its first price arrived. */
  async track(symbol: string): Promise<LivePrice> {
    this.watch(symbol);
    await this.marketsReady;
    for (;;) {
      const p = this.prices.get(symbol);
      if (p) return p;
      if (this.stopped) throw new Error('price feed stopped');
      await sleep(10);
    }
  }

  /** The last price if received, and stamped by the exchange, within `maxAgeMs`; else undefined. */
  latest(symbol: string, maxAgeMs: number, now = Date.now()): LivePrice | undefined {
    const p = this.prices.get(symbol);
    if (!p || now - p.receivedAt > maxAgeMs) return undefined;
    const serverNow = now - venueClockOffsetMs(this.clockKey);
    if (p.exchangeTime !== undefined && serverNow - p.exchangeTime > maxAgeMs) return undefined;
    return p;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client.close();
  }

  private async follow(symbol: string): Promise<void> {
    let wait = 250;
    while (!this.stopped) {
      try {
        const t = await this.client.watchTicker(symbol);
        const price = t.last ?? t.close;
        if (typeof price === 'number' && price > 0)
          this.prices.set(symbol, {
            price,
            receivedAt: Date.now(),
            exchangeTime: typeof t.timestamp === 'number' ? t.timestamp : undefined,
          });
        wait = 250;
      } catch {
        if (this.stopped) return;
        await sleep(wait);
        wait = Math.min(wait * 2, 15_000);
      }
    }
  }
}

const feeds = new Map<string, PriceFeed>();

/** The process's feed for a venue (created on first use). */
export function priceFeedFor(opts: PriceFeedOptions): PriceFeed {
  const key = `${opts.exchange}|${opts.testnet}|${opts.apiUrl ?? ''}`;
  let feed = feeds.get(key);
  if (!feed) {
    feed = new PriceFeed(opts);
    feeds.set(key, feed);
  }
  return feed;
}

/** Stops and forgets every feed (process shutdown, tests). */
export async function stopPriceFeeds(): Promise<void> {
  const all = [...feeds.values()];
  feeds.clear();
  await Promise.all(all.map((f) => f.stop()));
}
