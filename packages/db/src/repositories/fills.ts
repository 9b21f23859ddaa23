import type { Exchange } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';
import { timeForSymbol } from './symbol-time.ts';

/**
 * A trade reported by the exchange; (exchange, account_id, symbol, trade_id) is unique — the exchanges number
 * trades per symbol — so re-syncing is harmless.
 */
export interface NewFill {
  tradeId: string;
  exchangeOrderId: string | null;
  clientOrderId: string | null;
  symbol: string;
  side: string;
  price: number;
  amount: number;
  /** In feeAsset; positive = paid, negative = rebate received. */
  fee: number;
  feeAsset: string | null;
  /** The fee in the quote currency at the fill's time; null when feeAsset is the quote currency. */
  feeQuote?: number | null | undefined;
  realizedPnl: number;
  time: Date;
}

/** Inserts fills, skipping known ones; returns how many were new. */
export async function insertFills(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  fills: NewFill[],
): Promise<number> {
  return (await insertNewFills(db, exchange, accountId, fills)).length;
}

/** Inserts fills, skipping known ones; returns the ones that were new (what is worth telling a trader about). */
export async function insertNewFills(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  fills: NewFill[],
): Promise<NewFill[]> {
  if (fills.length === 0) return [];
  const values: unknown[] = [exchange, accountId];
  const tuples = fills.map((f, i) => {
    const b = 2 + i * 12;
    values.push(
      f.tradeId,
      f.exchangeOrderId,
      f.clientOrderId,
      f.symbol,
      f.side,
      f.price,
      f.amount,
      f.fee,
      f.feeAsset,
      f.feeQuote ?? null,
      f.realizedPnl,
      f.time,
    );
    const p = (n: number) => `$${b + n}`;
    return `(gen_random_uuid(), $1::"Exchange", $2, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)}, ${p(12)})`;
  });
  const res = await db.query<{ trade_id: string }>(
    `INSERT INTO fills (id, exchange, account_id, trade_id, exchange_order_id, client_order_id, symbol, side, price,
       amount, fee, fee_asset, fee_quote, realized_pnl, time)
     VALUES ${tuples.join(',\n')}
     ON CONFLICT (exchange, account_id, symbol, trade_id) DO NOTHING
     RETURNING trade_id`,
    values,
  );
  const added = new Set(res.rows.map((r) => r.trade_id));
  return fills.filter((f) => added.has(f.tradeId));
}

const LAST_FILL_TIME_SQL = `SELECT max(time) AS t FROM fills WHERE exchange = $1::"Exchange" AND account_id = $2 AND symbol = $3`;

/** Time of the newest recorded fill of (account, symbol): the fill sync's cursor. */
export async function lastFillTime(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  symbol: string,
): Promise<Date | null> {
  return timeForSymbol(db, LAST_FILL_TIME_SQL, exchange, accountId, symbol);
}
