import type { Exchange } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';

/**
 * Runs `sql` — one time aggregate selected `AS t`, filtered by `$1` exchange, `$2` account and `$3` symbol —
 * and returns that time, or null when no row matched.
 */
export async function timeForSymbol(
  db: Queryable,
  sql: string,
  exchange: Exchange,
  accountId: string,
  symbol: string,
): Promise<Date | null> {
  const { rows } = await db.query<{ t: Date | null }>(sql, [exchange, accountId, symbol]);
  return rows[0]?.t ?? null;
}
