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

export interface FillRow extends NewFill {
  id: string;
}

/**
 * The fills of the given orders (a signal's legs), oldest first: matched by the exchange's order id, or by
 * our client order id where the exchange reports it with the trade (Binance's trade list does not).
 */
export async function findFillsOfOrders(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  orders: Array<{ clientOrderId: string; exchangeOrderId: string | null }>,
): Promise<FillRow[]> {
  if (orders.length === 0) return [];
  const exchangeOrderIds = orders.flatMap((o) => (o.exchangeOrderId ? [o.exchangeOrderId] : []));
  const { rows } = await db.query<{
    id: string;
    trade_id: string;
    exchange_order_id: string | null;
    client_order_id: string | null;
    symbol: string;
    side: string;
    price: string;
    amount: string;
    fee: string;
    fee_asset: string | null;
    realized_pnl: string;
    time: Date;
  }>(
    `SELECT id, trade_id, exchange_order_id, client_order_id, symbol, side, price::text, amount::text,
            fee::text, fee_asset, realized_pnl::text, time
       FROM fills
      WHERE exchange = $1::"Exchange" AND account_id = $2
        AND (client_order_id = ANY($3::text[]) OR exchange_order_id = ANY($4::text[]))
      ORDER BY time, trade_id`,
    [exchange, accountId, orders.map((o) => o.clientOrderId), exchangeOrderIds],
  );
  return rows.map((r) => ({
    id: r.id,
    tradeId: r.trade_id,
    exchangeOrderId: r.exchange_order_id,
    clientOrderId: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    price: Number(r.price),
    amount: Number(r.amount),
    fee: Number(r.fee),
    feeAsset: r.fee_asset,
    realizedPnl: Number(r.realized_pnl),
    time: r.time,
  }));
}
