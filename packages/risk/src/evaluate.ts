import { isExitAction, type Exchange, type NormalisedSignal } from '@tradehook/contracts';
import {
  findAccountRisk,
  getGlobalHalt,
  openPositionSymbolsFromFills,
  sumRealisedPnl,
  type Queryable,
  type RealisedPnl,
} from '@tradehook/db';
import { dayWindow, type DayWindow } from './day-window.ts';
import type { RiskDefaults } from './defaults.ts';
import { decideSignal, type RiskDecision } from './decide.ts';
import { effectiveLimits, type EffectiveLimits } from './effective-limits.ts';

/** Loads what the decision depends on (only what it needs) and decides. */
export async function evaluateSignal(
  db: Queryable,
  signal: NormalisedSignal,
  defaults: RiskDefaults,
  now: number,
): Promise<RiskDecision> {
  const [account, globalHalt] = await Promise.all([
    findAccountRisk(db, signal.exchange, signal.account_id),
    getGlobalHalt(db),
  ]);
  if (!account) return decideSignal({ signal, account: null, globalHalt, now });
  const limits = effectiveLimits(account.limits, defaults);
  const entry = !isExitAction(signal.action);
  const [today, openSymbols] = await Promise.all([
    entry && limits.dailyLossCap !== null
      ? realisedPnlToday(db, signal.exchange, signal.account_id, limits.timezone, now)
      : undefined,
    entry && limits.maxOpenPositions !== null
      ? openPositionSymbolsFromFills(db, signal.exchange, signal.account_id)
      : undefined,
  ]);
  return decideSignal({
    signal,
    account: { defaultLeverage: account.defaultLeverage, limits },
    globalHalt,
    now,
    ...(today ? { today } : {}),
    ...(openSymbols ? { openSymbols } : {}),
  });
}

/** The account's effective limits, or null when the account does not exist. */
export async function loadAccountLimits(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  defaults: RiskDefaults,
): Promise<{ accountRowId: string; defaultLeverage: number | null; limits: EffectiveLimits } | null> {
  const account = await findAccountRisk(db, exchange, accountId);
  if (!account) return null;
  return {
    accountRowId: account.accountRowId,
    defaultLeverage: account.defaultLeverage,
    limits: effectiveLimits(account.limits, defaults),
  };
}

export async function realisedPnlToday(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  timeZone: string,
  now: number,
): Promise<{ window: DayWindow; pnl: RealisedPnl }> {
  const window = dayWindow(now, timeZone);
  const pnl = await sumRealisedPnl(db, exchange, accountId, window.start, window.end);
  return { window, pnl };
}

/** Today's figure and what is left before the daily loss cap blocks entries (admin API). */
export interface LossBudget {
  window: DayWindow;
  pnl: RealisedPnl;
  dailyLossCap: number | null;
  /** cap + netPnl, floored at 0; null when no cap applies. */
  remaining: number | null;
  entriesBlocked: boolean;
}

export async function lossBudgetToday(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  limits: EffectiveLimits,
  now: number,
): Promise<LossBudget> {
  const { window, pnl } = await realisedPnlToday(db, exchange, accountId, limits.timezone, now);
  const cap = limits.dailyLossCap;
  return {
    window,
    pnl,
    dailyLossCap: cap,
    remaining: cap === null ? null : Math.max(0, cap + pnl.netPnl),
    entriesBlocked: cap !== null && pnl.netPnl <= -cap,
  };
}

/**
 * For the worker, right before it sends an entry that risk approved earlier. Risk decides ahead of the
 * worker's ordering gate, so state can change in between: a halt set since, or a loss realised by the close
 * that ran just before this entry. Re-decides with the same rules; returns the refusal reason, or null.
 * Exits never need this (they always pass).
 */
export async function recheckEntry(
  db: Queryable,
  signal: NormalisedSignal,
  defaults: RiskDefaults,
  now: number,
): Promise<string | null> {
  const decision = await evaluateSignal(db, signal, defaults, now);
  return decision.approved ? null : decision.reason;
}
