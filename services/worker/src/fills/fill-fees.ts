import type { NewFill } from '@tradehook/db';
import type { TradeInfo } from '@tradehook/exchange';
import type { AccountContext } from '../accounts.ts';

/** The quote currency of every market we trade (linear USDT swaps). */
const QUOTE = 'USDT';

/**
 * Trades as fills, with a fee paid in another asset (BNB fee burn on Binance) valued in the quote currency at
 * the fill's time. A conversion that fails throws, so the cursor is not saved and the next round retries:
 * a fill is never stored with an unknown fee.
 */
export async function toFills(account: AccountContext, trades: TradeInfo[]): Promise<NewFill[]> {
  const prices = new Map<string, number>();
  const out: NewFill[] = [];
  for (const t of trades) {
    let feeQuote: number | null = null;
    if (t.feeAsset && t.feeAsset !== QUOTE && t.fee !== 0) {
      const key = `${t.feeAsset}|${Math.floor(t.timestamp / 60_000)}`;
      let px = prices.get(key);
      if (px === undefined) {
        px = await account.adapter.usdtPriceAt(t.feeAsset, t.timestamp);
        prices.set(key, px);
      }
      feeQuote = Number((t.fee * px).toPrecision(12));
    }
    out.push({
      tradeId: t.id,
      exchangeOrderId: t.orderId,
      clientOrderId: t.clientOrderId,
      symbol: t.symbol,
      side: t.side,
      price: t.price,
      amount: t.amount,
      fee: t.fee,
      feeAsset: t.feeAsset,
      feeQuote,
      realizedPnl: t.realizedPnl,
      time: new Date(t.timestamp),
    });
  }
  return out;
}
