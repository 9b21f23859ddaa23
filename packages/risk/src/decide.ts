import {
  isExitAction,
  normaliseSymbol,
  type GlobalHalt,
  type NormalisedSignal,
  type OrderLimits,
} from '@tradehook/contracts';
import type { RealisedPnl } from '@tradehook/db';
import type { DayWindow } from './day-window.ts';
import { orderLimits, type EffectiveLimits } from './effective-limits.ts';

/** Why an entry was refused; the code leads the stored reason so people and scripts can both read it. */
export type RejectionCode =
  | 'account_not_found'
  | 'halted'
  | 'account_halted'
  | 'stale'
  | 'symbol_not_allowed'
  | 'leverage_above_max'
  | 'position_notional_above_max'
  | 'daily_loss_cap_reached'
  | 'max_open_positions_reached';

export type RiskDecision =
  | { approved: true; limits: OrderLimits; /** e.g. a leverage clamp worth recording */ note?: string }
  | { approved: false; code: RejectionCode; reason: string };

/** Everything a decision depends on, loaded beforehand so the rule itself is a pure function. */
export interface RiskContext {
  signal: NormalisedSignal;
  /** null = no such account (never registered, or deleted). */
  account: { defaultLeverage: number | null; limits: EffectiveLimits } | null;
  globalHalt: GlobalHalt;
  now: number;
  /** Today's realised PnL; needed only for an entry when a daily loss cap applies. */
  today?: { window: DayWindow; pnl: RealisedPnl };
  /** Symbols the recorded fills show as open; needed only for an entry when max open positions applies. */
  openSymbols?: string[];
}

const reject = (code: RejectionCode, text: string): RiskDecision => ({
  approved: false,
  code,
  reason: `${code}: ${text}`,
});

const money = (n: number) => (Math.round(n * 100) / 100).toFixed(2);

/** The effective leverage, or a rejection (DESIGN: max leverage; reject or clamp per account policy). */
function leverageFor(
  signal: NormalisedSignal,
  defaultLeverage: number | null,
  limits: EffectiveLimits,
): { leverage: number | undefined; note?: string } | RiskDecision {
  const max = limits.maxLeverage;
  if (signal.leverage !== undefined) {
    if (signal.leverage <= max) return { leverage: signal.leverage };
    if (limits.leveragePolicy === 'clamp') {
      return { leverage: max, note: `leverage ${signal.leverage}x clamped to the account maximum ${max}x` };
    }
    return reject(
      'leverage_above_max',
      `leverage ${signal.leverage}x is above the account maximum ${max}x (policy: reject; set leverage_policy to "clamp" to trade at ${max}x instead)`,
    );
  }
  if (defaultLeverage !== null) {
    return defaultLeverage <= max
      ? { leverage: defaultLeverage }
      : { leverage: max, note: `account default leverage ${defaultLeverage}x capped to the maximum ${max}x` };
  }
  return { leverage: undefined };
}

/**
 * Decides one signal. Exits (close_long, close_short, close_all) always pass — halt included
 * (docs/decisions/0004-risk-never-blocks-an-exit.md); an unknown account is the only thing that stops them, since nothing can be sent.
 */
export function decideSignal(ctx: RiskContext): RiskDecision {
  const { signal, account } = ctx;
  if (!account) {
    return reject(
      'account_not_found',
      `account "${signal.account_id}" on ${signal.exchange} is not registered (or was deleted)`,
    );
  }
  const limits = account.limits;
  if (isExitAction(signal.action)) {
    return { approved: true, limits: orderLimits(limits, undefined) };
  }

  if (ctx.globalHalt.halted) {
    return reject(
      'halted',
      `trading is halted for all accounts${ctx.globalHalt.reason ? ` (${ctx.globalHalt.reason})` : ''}; exits still run`,
    );
  }
  if (!limits.tradingEnabled) {
    return reject('account_halted', 'trading is disabled for this account; exits still run');
  }
  if (signal.sent_at !== undefined && signal.max_lag !== undefined) {
    const ageMs = ctx.now - signal.sent_at;
    if (ageMs > signal.max_lag * 1000) {
      return reject(
        'stale',
        `the alert was sent ${Math.round(ageMs / 1000)} s before the risk check, more than its max_lag of ${signal.max_lag} s`,
      );
    }
  }
  if (limits.symbolAllowList.length > 0 && !limits.symbolAllowList.includes(signal.symbol)) {
    return reject(
      'symbol_not_allowed',
      `${signal.symbol} is not in the account's symbol allow-list (${limits.symbolAllowList.join(', ')})`,
    );
  }
  const lev = leverageFor(signal, account.defaultLeverage, limits);
  if ('approved' in lev) return lev;

  if (limits.maxPositionNotional !== null && signal.quantity !== undefined && signal.price !== undefined) {
    const notional = signal.quantity * signal.price;
    if (notional > limits.maxPositionNotional) {
      return reject(
        'position_notional_above_max',
        `order notional ${money(notional)} (quantity ${signal.quantity} × price ${signal.price}) is above the maximum position notional ${money(limits.maxPositionNotional)}`,
      );
    }
  }
  if (
    limits.maxPositionNotional !== null &&
    signal.notional !== undefined &&
    signal.notional > limits.maxPositionNotional
  ) {
    return reject(
      'position_notional_above_max',
      `order notional ${money(signal.notional)} (notional field) is above the maximum position notional ${money(limits.maxPositionNotional)}`,
    );
  }
  if (limits.dailyLossCap !== null) {
    if (!ctx.today) throw new Error("decideSignal: today's PnL is required when a daily loss cap applies");
    const { window, pnl } = ctx.today;
    if (pnl.netPnl <= -limits.dailyLossCap) {
      const quote = quoteOf(signal.symbol);
      return reject(
        'daily_loss_cap_reached',
        `today's realised PnL (${window.day}, ${window.timeZone}) is ${money(pnl.netPnl)} ${quote} including ${money(pnl.fees)} fees and ${money(pnl.funding)} funding, at or below the daily loss cap of -${money(limits.dailyLossCap)}; new entries resume at ${window.end.toISOString()} (start of the next day in ${window.timeZone})`,
      );
    }
  }
  if (limits.maxOpenPositions !== null) {
    if (!ctx.openSymbols)
      throw new Error('decideSignal: open symbols are required when max open positions applies');
    // An entry on a symbol already held adds to (or flips) that position; it opens no new one.
    const others = ctx.openSymbols.filter((s) => s !== signal.symbol);
    if (others.length >= limits.maxOpenPositions) {
      return reject(
        'max_open_positions_reached',
        `${others.length} positions are open per the recorded fills (${others.join(', ')}); the maximum is ${limits.maxOpenPositions}`,
      );
    }
  }
  const decision: RiskDecision = { approved: true, limits: orderLimits(limits, lev.leverage) };
  if (lev.note) decision.note = lev.note;
  return decision;
}

function quoteOf(symbol: string): string {
  try {
    return normaliseSymbol(symbol).quote;
  } catch {
    return 'quote currency';
  }
}

/**
 * Limits for a signal whose approval is already recorded (re-forwarding after a crash between the
 * decision and the enqueue): today's limits, with the leverage clamped rather than re-judged.
 */
export function limitsForApproved(
  signal: NormalisedSignal,
  account: { defaultLeverage: number | null; limits: EffectiveLimits },
): OrderLimits {
  if (isExitAction(signal.action)) return orderLimits(account.limits, undefined);
  const lev = leverageFor(signal, account.defaultLeverage, { ...account.limits, leveragePolicy: 'clamp' });
  return orderLimits(account.limits, 'approved' in lev ? undefined : lev.leverage);
}
