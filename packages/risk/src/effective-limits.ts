import {
  normaliseSymbol,
  type LeveragePolicy,
  type OrderLimits,
  type RiskLimitsFields,
} from '@tradehook/contracts';
import type { RiskDefaults } from './defaults.ts';

/** An account's limits after falling back to the global defaults for every unset field. */
export interface EffectiveLimits {
  maxLeverage: number;
  leveragePolicy: LeveragePolicy;
  /** Quote currency; null = no daily loss cap. */
  dailyLossCap: number | null;
  maxPositionNotional: number | null;
  maxOpenPositions: number | null;
  /** Empty = every symbol. */
  symbolAllowList: string[];
  tradingEnabled: boolean;
  timezone: string;
}

export function effectiveLimits(stored: RiskLimitsFields | null, defaults: RiskDefaults): EffectiveLimits {
  return {
    maxLeverage: stored?.max_leverage ?? defaults.maxLeverage,
    leveragePolicy: stored?.leverage_policy ?? defaults.leveragePolicy,
    dailyLossCap: stored?.daily_loss_cap ?? defaults.dailyLossCap,
    maxPositionNotional: stored?.max_position_notional ?? defaults.maxPositionNotional,
    maxOpenPositions: stored?.max_open_positions ?? defaults.maxOpenPositions,
    symbolAllowList: (stored?.symbol_allow_list ?? []).map(normalisedOrRaw),
    tradingEnabled: stored?.trading_enabled ?? true,
    timezone: stored?.timezone ?? defaults.timezone,
  };
}

/** The limits handed to the worker in OrderJob.limits (it enforces them after sizing). */
export function orderLimits(limits: EffectiveLimits, leverage: number | undefined): OrderLimits {
  const out: OrderLimits = { maxLeverage: limits.maxLeverage };
  if (leverage !== undefined) out.leverage = leverage;
  if (limits.maxPositionNotional !== null) out.maxPositionNotional = limits.maxPositionNotional;
  if (limits.maxOpenPositions !== null) out.maxOpenPositions = limits.maxOpenPositions;
  return out;
}

/** The stored (nullable) fields for the admin API when an account has no limits row yet. */
export const EMPTY_RISK_LIMITS: RiskLimitsFields = {
  max_leverage: null,
  leverage_policy: null,
  daily_loss_cap: null,
  max_position_notional: null,
  max_open_positions: null,
  symbol_allow_list: [],
  trading_enabled: true,
  timezone: null,
};

/** Rows written by hand (not through the admin API) may hold `BTCUSDT`: compare in the unified form. */
function normalisedOrRaw(symbol: string): string {
  try {
    return normaliseSymbol(symbol).symbol;
  } catch {
    return symbol;
  }
}
