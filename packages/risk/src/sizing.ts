import { roundDecimals, type NormalisedSignal } from '@tradehook/contracts';

/** Pure sizing of an entry (issue 16): the alert's mode → a base amount, then the post-precision limits. */

export const SIZING_MODES = ['quantity', 'contracts', 'notional', 'balance_pct', 'risk_pct'] as const;
export type SizingMode = (typeof SIZING_MODES)[number];

/** A refusal decided before anything was sent; `reason` is the text for the signal's outcome. */
export class SizingError extends Error {
  override readonly name = 'SizingError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The alert's sizing mode; without one, `balance_pct` at the global default (DEFAULT_SIZE_FRACTION × 100). */
export function sizingFromSignal(
  signal: Pick<NormalisedSignal, 'quantity' | 'contracts' | 'notional' | 'balance_pct' | 'risk_pct'>,
  defaultFraction: number,
): { mode: SizingMode; value: number } {
  for (const mode of SIZING_MODES) {
    const value = signal[mode];
    if (value !== undefined) return { mode, value };
  }
  return { mode: 'balance_pct', value: defaultFraction * 100 };
}

/** Modes sized by the worker (not a size the alert asked for): they shrink to the position cap. */
export function isAutoSized(mode: SizingMode): boolean {
  return mode === 'balance_pct' || mode === 'risk_pct';
}

export interface SizeEntryInput {
  mode: SizingMode;
  /** quantity: base; contracts: exchange contracts; notional: USDT; balance_pct / risk_pct: percent. */
  value: number;
  /** Reference (expected fill) price. */
  price: number;
  leverage: number;
  /** Available balance in USDT (balance_pct). */
  freeBalance?: number | undefined;
  /** Account equity in USDT (risk_pct). */
  equity?: number | undefined;
  /** Stop-loss price (risk_pct). */
  stopLoss?: number | undefined;
  /** Base units per contract (OKX ctVal); 1 on Binance. */
  contractSize?: number | undefined;
  /** Taker fee rate per side (0.0005 = 0.05 %), counted on entry and exit for risk_pct; default 0. */
  feeRate?: number | undefined;
  /** Auto-sized modes shrink so that the same-side position stays within this notional. */
  maxPositionNotional?: number | undefined;
  sameSideAmount?: number | undefined;
}

export interface SizedEntry {
  /** Base amount, before the exchange's precision. */
  amount: number;
  mode: SizingMode;
  autoSized: boolean;
  /** True when the amount was shrunk to maxPositionNotional. */
  capped: boolean;
}

/** Base amount for an entry; throws SizingError with a readable reason when nothing can be sized. */
export function sizeEntry(input: SizeEntryInput): SizedEntry {
  const { mode, value, price } = input;
  if (!(price > 0)) throw new SizingError(`no size: no price to size the entry at (${price})`);
  if (!(value > 0)) throw new SizingError(`no size: ${mode} must be greater than 0 (got ${value})`);
  let raw: number;
  switch (mode) {
    case 'quantity':
      raw = value;
      break;
    case 'contracts': {
      const cs = input.contractSize ?? 1;
      if (!(cs > 0)) throw new SizingError(`no size: the market has no contract size (${cs})`);
      raw = value * cs;
      break;
    }
    case 'notional':
      raw = value / price;
      break;
    case 'balance_pct': {
      const free = input.freeBalance ?? 0;
      raw = (free * (value / 100) * input.leverage) / price;
      break;
    }
    case 'risk_pct': {
      const stop = input.stopLoss;
      if (stop === undefined) {
        throw new SizingError('risk_pct needs a stop-loss: give stop_loss, stop_loss_pct or stop_loss_atr');
      }
      const distance = Math.abs(price - stop);
      if (!(distance > 0)) {
        throw new SizingError(
          `risk_pct: the stop-loss ${stop} is at the entry price ${price}; nothing to size from`,
        );
      }
      const equity = input.equity ?? 0;
      if (!(equity > 0)) throw new SizingError(`no size: equity ${equity} USDT gives nothing to risk`);
      const fees = (input.feeRate ?? 0) * (price + stop);
      raw = (equity * (value / 100)) / (distance + fees);
      break;
    }
  }
  const autoSized = isAutoSized(mode);
  let capped = false;
  if (autoSized && input.maxPositionNotional !== undefined) {
    const room = Math.max(0, input.maxPositionNotional / price - (input.sameSideAmount ?? 0));
    if (room < raw) {
      raw = room;
      capped = true;
    }
  }
  if (!(raw > 0)) {
    throw new SizingError(
      mode === 'risk_pct'
        ? `no size: risking ${value} % of equity ${input.equity ?? 0} USDT gives nothing to trade at ${price}`
        : `no size: available balance ${input.freeBalance ?? 0} USDT gives nothing to trade at ${price}`,
    );
  }
  return { amount: raw, mode, autoSized, capped };
}

export interface PostSizingInput {
  symbol: string;
  /** The amount after the exchange's precision (base units). */
  amount: number;
  price: number;
  minAmount: number;
  minNotional: number;
  /** The open position on the entry's side (base units); undefined or 0 when there is none. */
  sameSideAmount?: number | undefined;
  /** Open positions of the account, not counting one this entry closes (a flip). */
  openPositions: number;
  maxPositionNotional?: number | undefined;
  maxOpenPositions?: number | undefined;
  /**
   * The symbol's open conditional orders (not counting those a flip cancels), how many this entry's
   * protection adds, and the exchange's cap per symbol; absent when the venue has no cap or the count is unknown.
   */
  conditionalOrders?: { open: number; adding: number; max: number } | undefined;
}

/** The limits checked once the amount has the exchange's precision; throws SizingError (the worker's messages). */
export function checkPostSizingLimits(input: PostSizingInput): void {
  const { symbol, amount, price, minAmount, minNotional, maxPositionNotional, maxOpenPositions } = input;
  const same = input.sameSideAmount ?? 0;
  if (amount < minAmount - 1e-12) {
    throw new SizingError(`order size ${amount} is below the minimum quantity ${minAmount} for ${symbol}`);
  }
  const notional = amount * price;
  if (minNotional > 0 && notional < minNotional) {
    throw new SizingError(
      `order notional ${roundDecimals(notional, 4)} USDT is below the minimum notional ${minNotional} USDT for ${symbol}`,
    );
  }
  if (maxPositionNotional !== undefined) {
    const total = (amount + same) * price;
    if (total > maxPositionNotional * (1 + 1e-9)) {
      throw new SizingError(
        `position notional ${roundDecimals(total, 2)} USDT would exceed the limit of ${maxPositionNotional} USDT`,
      );
    }
  }
  // Refused before the entry is sent: past the cap the exchange refuses the stop after the fill (Binance
  // -4045), and protected-or-flat would pay to open and close the entry at once.
  const c = input.conditionalOrders;
  if (c && c.adding > 0 && c.open + c.adding > c.max) {
    throw new SizingError(
      `${symbol} has ${c.open} open stop/take-profit orders and this entry's protection needs ${c.adding} more; the exchange holds at most ${c.max} per symbol`,
    );
  }
  if (maxOpenPositions !== undefined && !(same > 0)) {
    const after = input.openPositions + 1;
    if (after > maxOpenPositions) {
      throw new SizingError(
        `opening ${symbol} would make ${after} open positions; the limit is ${maxOpenPositions}`,
      );
    }
  }
}
