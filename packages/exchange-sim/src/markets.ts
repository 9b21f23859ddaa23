/** Instruments the simulator lists, with realistic filters for both dialects. */
import { decimalsOf } from './num.ts';

export interface MarketSpec {
  /** Internal id = Binance id, e.g. BTCUSDT. */
  id: string;
  base: string;
  quote: 'USDT';
  /** OKX instrument id, e.g. BTC-USDT-SWAP. */
  okxId: string;
  /** Unified ccxt symbol, e.g. BTC/USDT:USDT. */
  symbol: string;
  defaultPrice: number;
  /** Price tick (both exchanges use the same here). */
  tickSize: number;
  // Binance
  stepSize: number;
  minQty: number;
  maxQty: number;
  marketMaxQty: number;
  minNotional: number;
  maxLeverage: number;
  pricePrecision: number;
  quantityPrecision: number;
  // OKX
  ctVal: number;
  lotSz: number;
  minSz: number;
  okxMaxLever: number;
  /** Per-candle volatility at 1h, used by klines and walks. */
  hourlyVol: number;
}

function spec(
  s: Omit<MarketSpec, 'okxId' | 'symbol' | 'quote' | 'pricePrecision' | 'quantityPrecision' | 'id'>,
): MarketSpec {
  return {
    ...s,
    id: `${s.base}USDT`,
    quote: 'USDT',
    okxId: `${s.base}-USDT-SWAP`,
    symbol: `${s.base}/USDT:USDT`,
    pricePrecision: decimalsOf(s.tickSize),
    quantityPrecision: decimalsOf(s.stepSize),
  };
}

export const MARKETS: readonly MarketSpec[] = [
  spec({
    base: 'BTC',
    defaultPrice: 60000,
    tickSize: 0.1,
    stepSize: 0.001,
    minQty: 0.001,
    maxQty: 1000,
    marketMaxQty: 120,
    minNotional: 100,
    maxLeverage: 125,
    ctVal: 0.01,
    lotSz: 0.01,
    minSz: 0.01,
    okxMaxLever: 100,
    hourlyVol: 0.006,
  }),
  spec({
    base: 'ETH',
    defaultPrice: 3000,
    tickSize: 0.01,
    stepSize: 0.001,
    minQty: 0.001,
    maxQty: 10000,
    marketMaxQty: 2000,
    minNotional: 20,
    maxLeverage: 100,
    ctVal: 0.1,
    lotSz: 0.01,
    minSz: 0.01,
    okxMaxLever: 100,
    hourlyVol: 0.008,
  }),
  spec({
    base: 'SOL',
    defaultPrice: 150,
    tickSize: 0.01,
    stepSize: 1,
    minQty: 1,
    maxQty: 1000000,
    marketMaxQty: 5000,
    minNotional: 5,
    maxLeverage: 75,
    ctVal: 1,
    lotSz: 0.01,
    minSz: 0.01,
    okxMaxLever: 50,
    hourlyVol: 0.011,
  }),
  spec({
    base: 'XRP',
    defaultPrice: 0.6,
    tickSize: 0.0001,
    stepSize: 0.1,
    minQty: 0.1,
    maxQty: 10000000,
    marketMaxQty: 2000000,
    minNotional: 5,
    maxLeverage: 75,
    ctVal: 100,
    lotSz: 0.01,
    minSz: 0.01,
    okxMaxLever: 75,
    hourlyVol: 0.01,
  }),
  spec({
    base: 'DOGE',
    defaultPrice: 0.15,
    tickSize: 0.00001,
    stepSize: 1,
    minQty: 1,
    maxQty: 50000000,
    marketMaxQty: 30000000,
    minNotional: 5,
    maxLeverage: 75,
    ctVal: 1000,
    lotSz: 0.01,
    minSz: 0.01,
    okxMaxLever: 75,
    hourlyVol: 0.012,
  }),
  // BNB: the asset Binance fees are paid in when the account has BNB fee burn on (binance-fees.ts).
  spec({
    base: 'BNB',
    defaultPrice: 600,
    tickSize: 0.01,
    stepSize: 0.01,
    minQty: 0.01,
    maxQty: 100000,
    marketMaxQty: 2000,
    minNotional: 5,
    maxLeverage: 75,
    ctVal: 0.01,
    lotSz: 1,
    minSz: 1,
    okxMaxLever: 50,
    hourlyVol: 0.008,
  }),
];

const byAnyId = new Map<string, MarketSpec>();
for (const m of MARKETS) {
  for (const k of [m.id, m.okxId, m.symbol, `${m.base}/USDT`, `${m.id}.P`]) byAnyId.set(k.toUpperCase(), m);
}

/** Accepts BTCUSDT, BTCUSDT.P, BINANCE:BTCUSDT.P, BTC/USDT:USDT, BTC/USDT, BTC-USDT-SWAP (case-insensitive). */
export function findMarket(anyId: string | undefined | null): MarketSpec | undefined {
  if (!anyId) return undefined;
  let k = anyId.trim().toUpperCase();
  const colon = k.indexOf(':');
  if (colon >= 0 && !k.includes('/')) k = k.slice(colon + 1);
  return byAnyId.get(k);
}

export function marketById(id: string): MarketSpec | undefined {
  return MARKETS.find((m) => m.id === id);
}
