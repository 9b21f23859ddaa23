/**
 * How much a close_long / close_short closes: the whole position, or the part its `quantity` / `close_pct`
 * names (packages/contracts/src/close-fields.ts), in the market's precision.
 */
import type { ClosePart } from '@tradehook/contracts';
import { OrderSizeError, type ExchangeAdapter, type PositionInfo } from '@tradehook/exchange';
import { round } from './views.ts';

export type ClosePlan =
  | {
      /** Base amount of the reduce-only market order. */
      amount: number;
      /** Exchange units (OKX contracts) of a part; undefined for the whole position (sent as read). */
      exchangeAmount?: number;
      /** The whole position: its protection is cancelled, not resized. */
      whole: boolean;
      note?: string;
    }
  | { refused: string };

export function planClose(adapter: ExchangeAdapter, pos: PositionInfo, part: ClosePart): ClosePlan {
  if (part.kind === 'all') return { amount: pos.amount, whole: true };
  const held = pos.amount;
  const requested = part.kind === 'quantity' ? part.amount : (held * part.pct) / 100;
  const asked = part.kind === 'quantity' ? `quantity ${part.amount}` : `close_pct ${part.pct} %`;
  if (requested >= held) {
    return {
      amount: held,
      whole: true,
      ...(requested > held
        ? { note: `${asked} is more than the ${pos.side} position of ${held}: closed all of it` }
        : {}),
    };
  }
  const { amount, exchangeAmount } = atPrecision(adapter, pos.symbol, requested);
  const min = adapter.market(pos.symbol).minAmount;
  if (!(amount > 0) || amount < min) {
    // Stricter than closing the minimum: nothing larger than the alert asked for leaves.
    return {
      refused: `${asked} of the ${pos.side} position of ${held} is ${round(requested)}, below the market's minimum amount ${min}; nothing was closed`,
    };
  }
  const rest = round(held - amount, 12);
  if (rest < min) {
    // A remainder the exchange would not let us close on its own (nor protect): take it with this close.
    return {
      amount: held,
      whole: true,
      note: `${asked} would leave ${rest}, below the market's minimum amount ${min}: closed all ${held}`,
    };
  }
  return { amount, exchangeAmount, whole: false };
}

/** The amount in the market's precision; 0 where it rounds to nothing (the caller says why). */
export function atPrecision(
  adapter: ExchangeAdapter,
  symbol: string,
  amount: number,
): { amount: number; exchangeAmount: number } {
  try {
    return adapter.amountToPrecision(symbol, amount);
  } catch (err) {
    if (err instanceof OrderSizeError) return { amount: 0, exchangeAmount: 0 };
    throw err;
  }
}
