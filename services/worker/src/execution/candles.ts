import type { Candle, ExchangeAdapter } from '@tradehook/exchange';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** How long candles stay cached: at most a minute, never longer than one candle of the timeframe. */
export function candleTtlMs(timeframe: string, maxMs = 60_000): number {
  const m = /^(\d+)([mhdw])$/.exec(timeframe);
  const candleMs = m ? Number(m[1]) * UNIT_MS[m[2]!]! : 0;
  return candleMs > 0 ? Math.min(maxMs, candleMs) : 0;
}

interface Entry {
  candles: Promise<Candle[]>;
  expiresAt: number;
  /** The candles once read, and when. */
  value?: Candle[];
  readAt?: number;
}

/**
 * Candles for ATR levels, shared by every account of the process: market data is public and identical for all
 * accounts of one venue, so an entry within the TTL reuses the last read (one in-flight read per key). The
 * price an entry is sized with is never cached; only the ATR's candle history is.
 */
export class CandleCache {
  private readonly entries = new Map<string, Entry>();
  /** Candle reads sent to an exchange (observability, tests). */
  requests = 0;

  constructor(private readonly maxTtlMs = 60_000) {}

  get(
    adapter: ExchangeAdapter,
    venue: { testnet: boolean },
    symbol: string,
    timeframe: string,
    limit: number,
  ): Promise<Candle[]> {
    const ttl = candleTtlMs(timeframe, this.maxTtlMs);
    if (ttl === 0) {
      this.requests++;
      return adapter.fetchCandles(symbol, timeframe, limit);
    }
    const key = `${adapter.exchange}|${venue.testnet ? 'demo' : 'live'}|${symbol}|${timeframe}|${limit}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.candles;
    // Expired: read again, but keep answering recent() from the last read meanwhile.
    const last = hit?.value ? { value: hit.value, readAt: hit.readAt } : undefined;
    if (this.entries.size > 1_000) {
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    }
    this.requests++;
    const candles = adapter.fetchCandles(symbol, timeframe, limit);
    const entry: Entry = { candles, expiresAt: now + ttl };
    this.entries.set(key, entry);
    candles.then(
      (value) => Object.assign(entry, { value, readAt: Date.now() }),
      () => undefined,
    );
    // A failed read is not cached: the next entry asks again.
    if (last) Object.assign(entry, last);
    candles.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return candles;
  }

  /**
   * The candles already read for this key if read within one candle of the timeframe (an ATR over 14 candles
   * barely moves within one), without waiting; a refresh starts when the cached read expired.
   */
  recent(
    adapter: ExchangeAdapter,
    venue: { testnet: boolean },
    symbol: string,
    timeframe: string,
    limit: number,
  ): Candle[] | undefined {
    const key = `${adapter.exchange}|${venue.testnet ? 'demo' : 'live'}|${symbol}|${timeframe}|${limit}`;
    const m = /^(\d+)([mhdw])$/.exec(timeframe);
    const candleMs = m ? Number(m[1]) * UNIT_MS[m[2]!]! : 0;
    void this.get(adapter, venue, symbol, timeframe, limit).catch(() => undefined); // refresh when expired
    const hit = this.entries.get(key);
    return hit?.value && hit.readAt !== undefined && Date.now() - hit.readAt <= candleMs
      ? hit.value
      : undefined;
  }
}
