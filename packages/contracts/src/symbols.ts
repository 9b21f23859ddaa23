import { z } from 'zod';

/**
 * Symbol normalisation. Every symbol form a user may send (TradingView, ccxt, exchange-native) becomes the
 * ccxt unified linear-perpetual symbol, e.g. `BTC/USDT:USDT`, which both exchange adapters accept.
 */

const QUOTES = ['USDT', 'USDC', 'USD'] as const;

export interface NormalisedSymbol {
  /** ccxt unified symbol, e.g. BTC/USDT:USDT */
  symbol: string;
  base: string;
  quote: string;
}

export class SymbolFormatError extends Error {}

const ASSET = /^[A-Z0-9]{1,20}$/;

function build(base: string, quote: string, settle: string = quote): NormalisedSymbol {
  if (!ASSET.test(base) || !ASSET.test(quote) || !ASSET.test(settle)) {
    throw new SymbolFormatError(`unrecognised symbol parts ${base}/${quote}`);
  }
  if (settle !== quote)
    throw new SymbolFormatError('only linear perpetuals (settled in the quote) are supported');
  return { symbol: `${base}/${quote}:${settle}`, base, quote };
}

/**
 * Accepts `BTCUSDT`, `BTCUSDT.P`, `BINANCE:BTCUSDT.P`, `OKX:BTCUSDT.P`, `BTC/USDT:USDT`, `BTC/USDT`,
 * `BTC-USDT-SWAP`, `BTC-USDT`, `BTCUSDTPERP` (case-insensitive, surrounding spaces ignored).
 */
export function normaliseSymbol(input: string): NormalisedSymbol {
  let s = input.trim().toUpperCase();
  if (s.length === 0 || s.length > 40) throw new SymbolFormatError('symbol is empty or too long');
  // TradingView prefixes the exchange: BINANCE:BTCUSDT.P (but BTC/USDT:USDT has the colon after a slash).
  if (!s.includes('/')) {
    const colon = s.indexOf(':');
    if (colon >= 0) s = s.slice(colon + 1);
  }
  if (s.includes('/')) {
    const m = /^([A-Z0-9]+)\/([A-Z0-9]+)(?::([A-Z0-9]+))?$/.exec(s);
    if (!m) throw new SymbolFormatError(`unrecognised symbol "${input}"`);
    return build(m[1]!, m[2]!, m[3] ?? m[2]!);
  }
  if (s.includes('-')) {
    const m = /^([A-Z0-9]+)-([A-Z0-9]+)(?:-SWAP)?$/.exec(s);
    if (!m) throw new SymbolFormatError(`unrecognised symbol "${input}"`);
    return build(m[1]!, m[2]!);
  }
  s = s.replace(/\.P$/, '').replace(/PERP$/, '');
  for (const quote of QUOTES) {
    if (s.endsWith(quote) && s.length > quote.length) return build(s.slice(0, -quote.length), quote);
  }
  throw new SymbolFormatError(
    `unrecognised symbol "${input}": expected e.g. BTCUSDT, BTCUSDT.P or BTC/USDT:USDT`,
  );
}

/** Binance's id for a unified symbol: BTC/USDT:USDT → BTCUSDT. */
export function binanceSymbolId(unified: string): string {
  const { base, quote } = normaliseSymbol(unified);
  return `${base}${quote}`;
}

/** OKX's instrument id for a unified symbol: BTC/USDT:USDT → BTC-USDT-SWAP. */
export function okxInstrumentId(unified: string): string {
  const { base, quote } = normaliseSymbol(unified);
  return `${base}-${quote}-SWAP`;
}

/** A symbol in any accepted form, parsed to the ccxt unified symbol (the one definition of that rule). */
export const symbolSchema = z.string({ error: 'symbol is required' }).transform((value, ctx) => {
  try {
    return normaliseSymbol(value).symbol;
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: err instanceof SymbolFormatError ? err.message : 'invalid symbol',
    });
    return z.NEVER;
  }
});
