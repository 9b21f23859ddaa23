/** Entry size: the signal's quantity, else fraction × free balance × leverage / price; then the limits. */
import type { OrderJob } from '@tradehook/contracts';
import { OrderSizeError, type ExchangeAdapter, type PositionInfo } from '@tradehook/exchange';
import { ExecutionRejected, round } from './views.ts';

export interface SizingInput {
  job: OrderJob;
  adapter: ExchangeAdapter;
  symbol: string;
  price: number;
  leverage: number;
  sizeFraction: number;
  free: number | undefined;
  same: PositionInfo | undefined;
  /** Open positions that remain after this entry's flip (the opposite side closes first). */
  openPositionsAfterFlip: number;
}

export function sizeEntry(input: SizingInput): { amount: number; exchangeAmount: number } {
  const { job, adapter, symbol, price, leverage, free, same } = input;
  const { maxPositionNotional, maxOpenPositions } = job.limits;
  let raw: number;
  if (job.signal.quantity !== undefined) {
    raw = job.signal.quantity;
  } else {
    raw = ((free ?? 0) * input.sizeFraction * leverage) / price;
    // Auto-sized entries shrink to the cap; an explicit quantity over the cap is refused below.
    if (maxPositionNotional !== undefined) {
      raw = Math.min(raw, Math.max(0, maxPositionNotional / price - (same?.amount ?? 0)));
    }
    if (!(raw > 0)) {
      throw new ExecutionRejected(
        `no size: available balance ${free ?? 0} USDT gives nothing to trade at ${price}`,
      );
    }
  }
  let sized: { amount: number; exchangeAmount: number };
  try {
    sized = adapter.amountToPrecision(symbol, raw);
  } catch (err) {
    if (err instanceof OrderSizeError) {
      throw new ExecutionRejected(`${err.message} (minimum ${adapter.market(symbol).minAmount})`);
    }
    throw err;
  }
  const market = adapter.market(symbol);
  if (sized.amount < market.minAmount - 1e-12) {
    throw new ExecutionRejected(
      `order size ${sized.amount} is below the minimum quantity ${market.minAmount} for ${symbol}`,
    );
  }
  const notional = sized.amount * price;
  if (market.minNotional > 0 && notional < market.minNotional) {
    throw new ExecutionRejected(
      `order notional ${round(notional, 4)} USDT is below the minimum notional ${market.minNotional} USDT for ${symbol}`,
    );
  }
  if (maxPositionNotional !== undefined) {
    const total = (sized.amount + (same?.amount ?? 0)) * price;
    if (total > maxPositionNotional * (1 + 1e-9)) {
      throw new ExecutionRejected(
        `position notional ${round(total, 2)} USDT would exceed the limit of ${maxPositionNotional} USDT`,
      );
    }
  }
  if (maxOpenPositions !== undefined && !same) {
    const after = input.openPositionsAfterFlip + 1;
    if (after > maxOpenPositions) {
      throw new ExecutionRejected(
        `opening ${symbol} would make ${after} open positions; the limit is ${maxOpenPositions}`,
      );
    }
  }
  return sized;
}
