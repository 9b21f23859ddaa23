import { parseEnv } from '@tradehook/config';
import { z } from 'zod';
import { leveragePolicySchema, timeZoneSchema, type LeveragePolicy } from '@tradehook/contracts';

/** "" (an empty compose variable) means "not set". */
const optional = <T extends z.ZodType>(inner: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), inner.optional());

/**
 * Global risk defaults from the environment; a null column in risk_limits falls back to these. Shared by
 * the risk service and the ingress admin routes (which show effective limits and today's loss budget).
 */
export const riskDefaultsEnvSchema = z.object({
  /** The guide's upper bound for experts. */
  DEFAULT_MAX_LEVERAGE: z.coerce.number().int().min(1).max(125).default(20),
  DEFAULT_LEVERAGE_POLICY: leveragePolicySchema.default('reject'),
  /** Daily realised-loss cap in the quote currency; unset = off. */
  DEFAULT_DAILY_LOSS_CAP: optional(z.coerce.number().finite().positive()),
  DEFAULT_MAX_POSITION_NOTIONAL: optional(z.coerce.number().finite().positive()),
  DEFAULT_MAX_OPEN_POSITIONS: optional(z.coerce.number().int().positive()),
  /** Day boundary of the daily-loss cap. */
  RISK_TIMEZONE: timeZoneSchema.default('UTC'),
});

export interface RiskDefaults {
  maxLeverage: number;
  leveragePolicy: LeveragePolicy;
  dailyLossCap: number | null;
  maxPositionNotional: number | null;
  maxOpenPositions: number | null;
  timezone: string;
}

export function riskDefaultsFromEnv(env: z.infer<typeof riskDefaultsEnvSchema>): RiskDefaults {
  return {
    maxLeverage: env.DEFAULT_MAX_LEVERAGE,
    leveragePolicy: env.DEFAULT_LEVERAGE_POLICY,
    dailyLossCap: env.DEFAULT_DAILY_LOSS_CAP ?? null,
    maxPositionNotional: env.DEFAULT_MAX_POSITION_NOTIONAL ?? null,
    maxOpenPositions: env.DEFAULT_MAX_OPEN_POSITIONS ?? null,
    timezone: env.RISK_TIMEZONE,
  };
}

/**
 * Parses only the risk defaults out of a whole environment (for a service whose own schema lacks them);
 * throws ConfigError with a readable list.
 */
export function parseRiskDefaults(env: Record<string, string | undefined>): RiskDefaults {
  return riskDefaultsFromEnv(parseEnv(riskDefaultsEnvSchema, env));
}
