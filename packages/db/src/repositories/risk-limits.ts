import type pg from 'pg';
import type { Exchange, GlobalHalt, RiskLimitsFields, RiskLimitsPatch } from '@tradehook/contracts';

/** A pg Pool or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/** An account as risk sees it: its row id, default leverage and stored limits (null = no limits row). */
export interface AccountRisk {
  accountRowId: string;
  exchange: Exchange;
  accountId: string;
  defaultLeverage: number | null;
  limits: RiskLimitsFields | null;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

interface AccountRiskDbRow extends pg.QueryResultRow {
  id: string;
  exchange: Exchange;
  account_id: string;
  default_leverage: number | null;
  has_limits: boolean;
  max_leverage: number | null;
  leverage_policy: string | null;
  daily_loss_cap: string | null;
  max_position_notional: string | null;
  max_open_positions: number | null;
  symbol_allow_list: string[] | null;
  trading_enabled: boolean | null;
  timezone: string | null;
}

export async function findAccountRisk(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
): Promise<AccountRisk | null> {
  const { rows } = await db.query<AccountRiskDbRow>(
    `SELECT a.id, a.exchange, a.account_id, a.default_leverage, l.account_row_id IS NOT NULL AS has_limits,
            l.max_leverage, l.leverage_policy, l.daily_loss_cap, l.max_position_notional, l.max_open_positions,
            l.symbol_allow_list, l.trading_enabled, l.timezone
       FROM accounts a LEFT JOIN risk_limits l ON l.account_row_id = a.id
      WHERE a.exchange = $1::"Exchange" AND a.account_id = $2`,
    [exchange, accountId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    accountRowId: row.id,
    exchange: row.exchange,
    accountId: row.account_id,
    defaultLeverage: row.default_leverage,
    limits: row.has_limits
      ? {
          max_leverage: row.max_leverage,
          leverage_policy:
            row.leverage_policy === 'clamp' || row.leverage_policy === 'reject' ? row.leverage_policy : null,
          daily_loss_cap: num(row.daily_loss_cap),
          max_position_notional: num(row.max_position_notional),
          max_open_positions: row.max_open_positions,
          symbol_allow_list: row.symbol_allow_list ?? [],
          trading_enabled: row.trading_enabled ?? true,
          timezone: row.timezone,
        }
      : null,
  };
}

/** Column of each admin-API field (the only names that ever reach the SQL text). */
const COLUMNS: Record<keyof RiskLimitsFields, string> = {
  max_leverage: 'max_leverage',
  leverage_policy: 'leverage_policy',
  daily_loss_cap: 'daily_loss_cap',
  max_position_notional: 'max_position_notional',
  max_open_positions: 'max_open_positions',
  symbol_allow_list: 'symbol_allow_list',
  trading_enabled: 'trading_enabled',
  timezone: 'timezone',
};

/**
 * Creates the account's limits row or changes only the given fields of it, in one statement (two
 * concurrent PATCHes of different fields both survive).
 */
export async function patchRiskLimits(
  db: Queryable,
  accountRowId: string,
  patch: RiskLimitsPatch,
): Promise<void> {
  const entries = (Object.keys(COLUMNS) as Array<keyof RiskLimitsFields>)
    .filter((k) => patch[k] !== undefined)
    .map((k) => [COLUMNS[k], patch[k]] as const);
  if (entries.length === 0) return;
  const columns = entries.map(([c]) => c);
  const values = entries.map(([, v]) => v);
  const placeholders = values.map((_, i) => `$${i + 2}`);
  await db.query(
    `INSERT INTO risk_limits (account_row_id, ${columns.join(', ')}, updated_at)
     VALUES ($1, ${placeholders.join(', ')}, now())
     ON CONFLICT (account_row_id) DO UPDATE
        SET ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = now()`,
    [accountRowId, ...values],
  );
}

/** Replaces every limit of the account (PUT). */
export function replaceRiskLimits(
  db: Queryable,
  accountRowId: string,
  fields: RiskLimitsFields,
): Promise<void> {
  return patchRiskLimits(db, accountRowId, fields);
}

/** Per-account kill switch (keeps every other limit as it is). */
export function setAccountTradingEnabled(
  db: Queryable,
  accountRowId: string,
  enabled: boolean,
): Promise<void> {
  return patchRiskLimits(db, accountRowId, { trading_enabled: enabled });
}

export const GLOBAL_HALT_KEY = 'halt';

export async function getGlobalHalt(db: Queryable): Promise<GlobalHalt> {
  const { rows } = await db.query<{ value: unknown }>(`SELECT value FROM system_settings WHERE key = $1`, [
    GLOBAL_HALT_KEY,
  ]);
  return parseGlobalHalt(rows[0]?.value);
}

/** Tolerates hand-written values (`true`, `{"halted":true}`); anything else counts as not halted. */
export function parseGlobalHalt(value: unknown): GlobalHalt {
  if (value === true) return { halted: true, reason: null, since: null };
  if (value && typeof value === 'object' && (value as { halted?: unknown }).halted === true) {
    const v = value as { reason?: unknown; since?: unknown };
    return {
      halted: true,
      reason: typeof v.reason === 'string' ? v.reason : null,
      since: typeof v.since === 'string' ? v.since : null,
    };
  }
  return { halted: false, reason: null, since: null };
}

export async function setGlobalHalt(db: Queryable, halt: GlobalHalt): Promise<void> {
  await db.query(
    `INSERT INTO system_settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [GLOBAL_HALT_KEY, JSON.stringify(halt)],
  );
}
