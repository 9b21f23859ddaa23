/**
 * Quote-asset amounts in answers (PnL, fees, balances) are rounded to this many decimals: the precision
 * Binance and OKX report USDT amounts with. Prices and sizes use the market's own precision instead.
 */
export const MONEY_DECIMALS = 8;

/** `n` rounded to `digits` decimals, without float noise (863.7194660199999 → 863.71946602). */
export function roundDecimals(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}
