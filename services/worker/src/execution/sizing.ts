/**
 * Entry size from the alert's sizing mode (packages/risk sizing.ts: quantity, contracts, notional,
 * balance_pct, risk_pct; default balance_pct = DEFAULT_SIZE_FRACTION), then the exchange's precision, then
 * the limits that need the precise amount (packages/risk checkPostSizingLimits).
 */
import type { OrderJob } from '@tradehook/contracts';
import { OrderSizeError, type Balance, type ExchangeAdapter, type PositionInfo } from '@tradehook/exchange';
import {
  checkPostSizingLimits,
  sizeEntry as sizeByMode,
  sizingFromSignal,
  SizingError,
} from '@tradehook/risk';
import { ExecutionRejected } from './views.ts';

export interface SizingInput {
  job: OrderJob;
  adapter: ExchangeAdapter;
  symbol: string;
  price: number;
  leverage: number;
  sizeFraction: number;
  balance: Balance | undefined;
  same: PositionInfo | undefined;
  /** Open positions that remain after this entry's flip (the opposite side closes first). */
  openPositionsAfterFlip: number;
  /** The stop-loss price the entry would get (risk_pct sizes from it). */
  stopLoss: number | undefined;
  /** Open conditional orders on the symbol that stay, and how many this entry adds (MarketInfo's cap). */
  conditionals?: { open: number; adding: number } | undefined;
}

export function sizeEntry(input: SizingInput): { amount: number; exchangeAmount: number } {
  const { job, adapter, symbol, price, same } = input;
  const { maxPositionNotional, maxOpenPositions } = job.limits;
  const market = adapter.market(symbol);
  const rejected = (err: unknown): never => {
    if (err instanceof SizingError) throw new ExecutionRejected(err.reason);
    throw err;
  };
  const { mode, value } = sizingFromSignal(job.signal, input.sizeFraction);
  let raw = 0;
  try {
    raw = sizeByMode({
      mode,
      value,
      price,
      leverage: input.leverage,
      freeBalance: input.balance?.free,
      equity: input.balance?.total,
      stopLoss: input.stopLoss,
      contractSize: market.contractSize,
      maxPositionNotional,
      sameSideAmount: same?.amount,
    }).amount;
  } catch (err) {
    rejected(err);
  }
  let sized: { amount: number; exchangeAmount: number };
  try {
    sized = adapter.amountToPrecision(symbol, raw);
  } catch (err) {
    if (err instanceof OrderSizeError) {
      throw new ExecutionRejected(`${err.message} (minimum ${market.minAmount})`);
    }
    throw err;
  }
  try {
    checkPostSizingLimits({
      symbol,
      amount: sized.amount,
      price,
      minAmount: market.minAmount,
      minNotional: market.minNotional,
      sameSideAmount: same?.amount,
      openPositions: input.openPositionsAfterFlip,
      maxPositionNotional,
      maxOpenPositions,
      conditionalOrders:
        input.conditionals && market.maxOpenConditionalOrders !== undefined
          ? { ...input.conditionals, max: market.maxOpenConditionalOrders }
          : undefined,
    });
  } catch (err) {
    rejected(err);
  }
  return sized;
}
