import type { Exchange } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';

export interface RealisedPnl {
  /** Sum of fills.realized_pnl. */
  realizedPnl: number;
  /** Sum of fills.fee (positive = paid). */
  fees: number;
  /** realizedPnl − fees: the figure the daily-loss cap compares against. */
  netPnl: number;
  fillCount: number;
}

/** Realised PnL of the account's recorded fills with `from <= time < to`. */
export async function sumRealisedPnl(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  from: Date,
  to: Date,
): Promise<RealisedPnl> {
  const { rows } = await db.query<{ pnl: string; fees: string; n: number }>(
    `SELECT COALESCE(SUM(realized_pnl), 0)::text AS pnl, COALESCE(SUM(fee), 0)::text AS fees, COUNT(*)::int AS n
       FROM fills
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND time >= $3 AND time < $4`,
    [exchange, accountId, from, to],
  );
  const row = rows[0] ?? { pnl: '0', fees: '0', n: 0 };
  const realizedPnl = Number(row.pnl);
  const fees = Number(row.fees);
  return { realizedPnl, fees, netPnl: realizedPnl - fees, fillCount: row.n };
}

/**
 * Symbols where the recorded fills do not net to zero (buys − sells): positions the database believes are
 * open. A hint only — a hedge-mode long and short on one symbol net out, and fills not yet synced are
 * missing — the worker checks the exchange itself.
 */
export async function openPositionSymbolsFromFills(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
): Promise<string[]> {
  const { rows } = await db.query<{ symbol: string }>(
    `SELECT symbol FROM fills
      WHERE exchange = $1::"Exchange" AND account_id = $2
      GROUP BY symbol
     HAVING SUM(CASE WHEN lower(side) = 'buy' THEN amount ELSE -amount END) <> 0
      ORDER BY symbol`,
    [exchange, accountId],
  );
  return rows.map((r) => r.symbol);
}

export interface DailyPnl extends RealisedPnl {
  exchange: Exchange;
  accountId: string;
  /** YYYY-MM-DD in the requested time zone. */
  day: string;
}

/**
 * Realised PnL and fees per account per calendar day (in `timeZone`) of the fills with `time >= from`,
 * oldest day first. Funding is not recorded in fills, so it is not part of these figures.
 */
export async function dailyRealisedPnl(db: Queryable, from: Date, timeZone: string): Promise<DailyPnl[]> {
  const { rows } = await db.query<{
    exchange: Exchange;
    account_id: string;
    day: string;
    pnl: string;
    fees: string;
    n: number;
  }>(
    `SELECT exchange::text AS exchange, account_id, to_char(time AT TIME ZONE $2::text, 'YYYY-MM-DD') AS day,
            SUM(realized_pnl)::text AS pnl, SUM(fee)::text AS fees, COUNT(*)::int AS n
       FROM fills
      WHERE time >= $1
      GROUP BY 1, 2, 3
      ORDER BY 3, 1, 2`,
    [from, timeZone],
  );
  return rows.map((r) => {
    const realizedPnl = Number(r.pnl);
    const fees = Number(r.fees);
    return {
      exchange: r.exchange,
      accountId: r.account_id,
      day: r.day,
      realizedPnl,
      fees,
      netPnl: realizedPnl - fees,
      fillCount: r.n,
    };
  });
}
