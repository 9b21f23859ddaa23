/** Deterministic OHLCV history that ends at the current price (so ATR and friends are meaningful). */
import type { MarketSpec } from './markets.ts';
import { gaussian, hash32, prng, round } from './num.ts';

export const INTERVAL_MS: Record<string, number> = {
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
  '3d': 259_200_000,
  '1w': 604_800_000,
  '1M': 2_592_000_000,
};

/** OKX bar names → Binance interval names. */
export const OKX_BARS: Record<string, string> = {
  '1m': '1m',
  '3m': '3m',
  '5m': '5m',
  '15m': '15m',
  '30m': '30m',
  '1H': '1h',
  '2H': '2h',
  '4H': '4h',
  '6H': '6h',
  '12H': '12h',
  '1D': '1d',
  '3D': '3d',
  '1W': '1w',
  '1M': '1M',
  '6Hutc': '6h',
  '12Hutc': '12h',
  '1Dutc': '1d',
  '3Dutc': '3d',
  '1Wutc': '1w',
  '1Mutc': '1M',
};

export interface Candle {
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

const MAX_BACK = 20_000;

export function candles(
  market: MarketSpec,
  price: number,
  intervalMs: number,
  opts: {
    limit: number;
    startTime?: number | undefined;
    endTime?: number | undefined;
    now?: number | undefined;
  },
): Candle[] {
  const now = opts.now ?? Date.now();
  const align = (t: number) => Math.floor(t / intervalMs) * intervalMs;
  const nowOpen = align(now);
  let last = opts.endTime !== undefined ? Math.min(align(opts.endTime), nowOpen) : nowOpen;
  let first: number;
  const limit = Math.max(1, opts.limit);
  if (opts.startTime !== undefined) {
    first = Math.ceil(opts.startTime / intervalMs) * intervalMs;
    if (first > last) return [];
    last = Math.min(last, first + (limit - 1) * intervalMs);
  } else {
    first = last - (limit - 1) * intervalMs;
  }
  first = Math.max(first, nowOpen - MAX_BACK * intervalMs);
  const sigma = market.hourlyVol * Math.sqrt(intervalMs / 3_600_000);
  const dec = market.pricePrecision;
  const out: Candle[] = [];
  let close = price;
  for (let t = nowOpen; t >= first; t -= intervalMs) {
    const rand = prng(hash32(`${market.id}|${intervalMs}|${t}`));
    const r = Math.max(-0.5, sigma * gaussian(rand));
    const open = close / (1 + r);
    if (t <= last) {
      const hi = Math.max(open, close) * (1 + Math.abs(gaussian(rand)) * sigma * 0.5);
      const lo = Math.min(open, close) * (1 - Math.abs(gaussian(rand)) * sigma * 0.5);
      const baseVol = 2_000_000 / market.defaultPrice;
      out.push({
        openTime: t,
        closeTime: t + intervalMs - 1,
        open: round(open, dec),
        high: round(hi, dec),
        low: round(lo, dec),
        close: round(close, dec),
        volume: round(baseVol * (0.5 + rand()) * (intervalMs / 3_600_000), market.quantityPrecision),
      });
    }
    close = open;
  }
  return out.reverse();
}
