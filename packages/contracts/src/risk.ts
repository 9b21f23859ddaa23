import { z } from 'zod';
import { symbolSchema } from './symbols.ts';

/** What risk does when a signal asks for more leverage than the account's maximum. */
export const LEVERAGE_POLICIES = ['reject', 'clamp'] as const;
export const leveragePolicySchema = z.enum(LEVERAGE_POLICIES);
export type LeveragePolicy = z.infer<typeof leveragePolicySchema>;

/** True for an IANA zone name the runtime knows (e.g. "UTC", "Asia/Seoul"). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine(isValidTimeZone, { message: 'timezone must be an IANA time zone such as "UTC" or "Asia/Seoul"' });

const allowListSymbol = symbolSchema;

/**
 * Per-account risk limits as the admin API reads and writes them. `null` means "use the global default
 * from the risk service's environment". Unknown keys are refused so a typo never silently leaves a
 * limit unset.
 */
export const riskLimitsFieldsSchema = z
  .object({
    max_leverage: z.number().int('max_leverage must be a whole number').min(1).max(125).nullable(),
    leverage_policy: leveragePolicySchema.nullable(),
    /** Daily realised-loss cap in the quote currency (positive number); null = global default (may be off). */
    daily_loss_cap: z.number().finite().positive('daily_loss_cap must be greater than 0').nullable(),
    max_position_notional: z
      .number()
      .finite()
      .positive('max_position_notional must be greater than 0')
      .nullable(),
    max_open_positions: z
      .number()
      .int()
      .positive('max_open_positions must be at least 1')
      .max(1000)
      .nullable(),
    /** Empty = every symbol allowed; any accepted symbol form, stored normalised (BTC/USDT:USDT). */
    symbol_allow_list: z.array(allowListSymbol).max(1000),
    trading_enabled: z.boolean(),
    /** Day boundary of the daily-loss cap; null = the global default. */
    timezone: timeZoneSchema.nullable(),
  })
  .strict();
export type RiskLimitsFields = z.infer<typeof riskLimitsFieldsSchema>;

/** PUT: the whole set; an omitted field goes back to its default (null / [] / trading enabled). */
export const riskLimitsPutSchema = riskLimitsFieldsSchema.partial().transform((v): RiskLimitsFields => ({
  max_leverage: v.max_leverage ?? null,
  leverage_policy: v.leverage_policy ?? null,
  daily_loss_cap: v.daily_loss_cap ?? null,
  max_position_notional: v.max_position_notional ?? null,
  max_open_positions: v.max_open_positions ?? null,
  symbol_allow_list: v.symbol_allow_list ?? [],
  trading_enabled: v.trading_enabled ?? true,
  timezone: v.timezone ?? null,
}));

/** PATCH: only the fields given change. */
export const riskLimitsPatchSchema = riskLimitsFieldsSchema
  .partial()
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one limit to change' });
export type RiskLimitsPatch = z.infer<typeof riskLimitsPatchSchema>;

/** Body of the halt endpoints (global and per account). */
export const haltRequestSchema = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();

/** system_settings value under key `halt`. */
export const globalHaltSchema = z.object({
  halted: z.boolean(),
  reason: z.string().nullable().optional(),
  since: z.string().nullable().optional(),
});
export type GlobalHalt = z.infer<typeof globalHaltSchema>;
