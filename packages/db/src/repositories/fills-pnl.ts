import type { Exchange } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';

export interface RealisedPnl {
  /** Sum of fills.realized_pnl. */
  realizedPnl: number;
  /** Fees in the quote currency (positive = paid; a rebate counts negative, i.e. as income). */
  fees: number;
  /** Funding payments (positive = received, negative = paid). */
  funding: number;
  /** realizedPnl − fees + funding: the figure the daily-loss cap compares against. */
  netPnl: number;
  fillCount: number;
}

/**
 * A fill's fee in the quote currency: fee_quote when the sync converted it (BNB fees), the fee itself when
 * it was paid in the quote currency. The quote is USDT for every market we trade (linear USDT swaps).
 */
const FEE_IN_QUOTE_SQL = `COALESCE(fee_quote, CASE WHEN fee_asset IS NULL OR fee_asset = 'USDT' THEN fee END)`;

/** Realised PnL of the account's recorded fills and funding payments with `from <= time < to`. */
export async function sumRealisedPnl(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  from: Date,
  to: Date,
): Promise<RealisedPnl> {
  const { rows } = await db.query<{ pnl: string; fees: string; funding: string; n: number }>(
    `WITH f AS (
       SELECT realized_pnl, ${FEE_IN_QUOTE_SQL} AS fee_quote FROM fills
        WHERE exchange = $1::"Exchange" AND account_id = $2 AND time >= $3 AND time < $4)
     SELECT (SELECT COALESCE(SUM(realized_pnl), 0) FROM f)::text AS pnl,
            (SELECT COALESCE(SUM(fee_quote), 0) FROM f)::text AS fees,
            (SELECT COUNT(*) FROM f)::int AS n,
            (SELECT COALESCE(SUM(amount), 0) FROM funding_payments
              WHERE exchange = $1::"Exchange" AND account_id = $2 AND time >= $3 AND time < $4)::text AS funding`,
    [exchange, accountId, from, to],
  );
  const row = rows[0] ?? { pnl: '0', fees: '0', funding: '0', n: 0 };
  const realizedPnl = Number(row.pnl);
  const fees = Number(row.fees);
  const funding = Number(row.funding);
  return { realizedPnl, fees, funding, netPnl: realizedPnl - fees + funding, fillCount: row.n };
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
 * Realised PnL, fees (in the quote currency) and funding per account per calendar day (in `timeZone`) of the
 * fills and funding payments with `time >= from`, oldest day first: the same figures as `sumRealisedPnl`.
 */
export async function dailyRealisedPnl(db: Queryable, from: Date, timeZone: string): Promise<DailyPnl[]> {
  const { rows } = await db.query<{
    exchange: Exchange;
    account_id: string;
    day: string;
    pnl: string;
    fees: string;
    funding: string;
    n: number;
  }>(
    `WITH days AS (
       SELECT exchange, account_id, to_char(time AT TIME ZONE $2::text, 'YYYY-MM-DD') AS day,
              realized_pnl AS pnl, ${FEE_IN_QUOTE_SQL} AS fee, 0::numeric AS funding, 1 AS n
         FROM fills WHERE time >= $1
       UNION ALL
       SELECT exchange, account_id, to_char(time AT TIME ZONE $2::text, 'YYYY-MM-DD'), 0, 0, amount, 0
         FROM funding_payments WHERE time >= $1)
     SELECT exchange::text AS exchange, account_id, day, SUM(pnl)::text AS pnl,
            COALESCE(SUM(fee), 0)::text AS fees, SUM(funding)::text AS funding, SUM(n)::int AS n
       FROM days GROUP BY 1, 2, 3 ORDER BY 3, 1, 2`,
    [from, timeZone],
  );
  return rows.map((r) => {
    const realizedPnl = Number(r.pnl);
    const fees = Number(r.fees);
    const funding = Number(r.funding);
    return {
      exchange: r.exchange,
      accountId: r.account_id,
      day: r.day,
      realizedPnl,
      fees,
      funding,
      netPnl: realizedPnl - fees + funding,
      fillCount: r.n,
    };
  });
}
