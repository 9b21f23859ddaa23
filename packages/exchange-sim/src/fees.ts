/** How a fill's fee is charged, and how a large market order is split into fills. */
import type { Account } from './engine.ts';
import { round } from './num.ts';

/**
 * Binance USDⓈ-M "BNB fee discount": with fee burn on (`POST /fapi/v1/feeBurn feeBurn=true`) the fee is paid
 * in BNB at 10 % off, as long as the futures wallet holds enough BNB; otherwise in USDT. Rebates (negative
 * fees) are always credited in USDT. OKX USDT swaps charge in the settlement currency (USDT).
 */
export const BNB_FEE_DISCOUNT = 0.1;

export function chargeFee(
  acct: Account,
  quoteFee: number,
  bnbPrice: number,
): { amount: number; asset: string } {
  if (acct.exchange === 'binance' && acct.feeBurn && quoteFee > 0 && bnbPrice > 0) {
    const bnb = round((quoteFee * (1 - BNB_FEE_DISCOUNT)) / bnbPrice, 8);
    if (bnb > 0 && acct.bnbWallet >= bnb) {
      acct.bnbWallet = round(acct.bnbWallet - bnb, 8);
      return { amount: bnb, asset: 'BNB' };
    }
  }
  return { amount: quoteFee, asset: 'USDT' };
}

/** Parts of at most `maxQty` (the last one takes the remainder); one part when no split is configured. */
export function splitFill(qty: number, maxQty: number | undefined): number[] {
  if (!maxQty || maxQty <= 0 || qty <= maxQty) return [qty];
  const parts: number[] = [];
  let left = qty;
  while (left > 1e-12) {
    const part = round(Math.min(maxQty, left), 10);
    parts.push(part);
    left = round(left - part, 10);
  }
  return parts;
}
