import type { Exchange } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';
import { timeForSymbol } from './symbol-time.ts';

/**
 * Order legs (docs/decisions/0001-exactly-once-orders.md). A leg's row is written (status `pending`) BEFORE it is sent, with its
 * deterministic client order id; `sent_at` is stamped right before the request, so a retry knows whether
 * it must look the order up at the exchange first.
 */
export interface OrderRow {
  id: string;
  signalId: string | null;
  clientOrderId: string;
  exchangeOrderId: string | null;
  leg: string;
  symbol: string;
  side: string;
  positionSide: string | null;
  type: string;
  reduceOnly: boolean;
  amount: number | null;
  exchangeAmount: number | null;
  filledAmount: number | null;
  averagePrice: number | null;
  triggerPrice: number | null;
  status: string;
  error: string | null;
  sentAt: Date | null;
}

export interface NewOrder {
  signalId: string;
  exchange: Exchange;
  accountId: string;
  clientOrderId: string;
  /** An ORDER_LEGS value (packages/contracts/src/orders.ts). */
  leg: string;
  symbol: string;
  side: 'buy' | 'sell';
  positionSide: 'long' | 'short' | null;
  /** market | limit (an entry) | stop_market | take_profit_market | trailing_stop_market */
  type: string;
  reduceOnly: boolean;
  amount: number;
  exchangeAmount?: number | null;
  triggerPrice?: number | null;
}

export type OrderStatus = 'pending' | 'open' | 'filled' | 'canceled' | 'rejected' | 'failed' | 'unknown';

const COLUMNS = `id, signal_id, client_order_id, exchange_order_id, leg, symbol, side, position_side, type, reduce_only,
  amount::float8 AS amount, exchange_amount::float8 AS exchange_amount, filled_amount::float8 AS filled_amount,
  average_price::float8 AS average_price, trigger_price::float8 AS trigger_price, status, error, sent_at`;

interface RawOrder {
  id: string;
  signal_id: string | null;
  client_order_id: string;
  exchange_order_id: string | null;
  leg: string;
  symbol: string;
  side: string;
  position_side: string | null;
  type: string;
  reduce_only: boolean;
  amount: number | null;
  exchange_amount: number | null;
  filled_amount: number | null;
  average_price: number | null;
  trigger_price: number | null;
  status: string;
  error: string | null;
  sent_at: Date | null;
}

function toRow(r: RawOrder): OrderRow {
  return {
    id: r.id,
    signalId: r.signal_id,
    clientOrderId: r.client_order_id,
    exchangeOrderId: r.exchange_order_id,
    leg: r.leg,
    symbol: r.symbol,
    side: r.side,
    positionSide: r.position_side,
    type: r.type,
    reduceOnly: r.reduce_only,
    amount: r.amount,
    exchangeAmount: r.exchange_amount,
    filledAmount: r.filled_amount,
    averagePrice: r.average_price,
    triggerPrice: r.trigger_price,
    status: r.status,
    error: r.error,
    sentAt: r.sent_at,
  };
}

/** The VALUES list of planned legs (status `pending`) and its parameters, numbered from $1. */
function plannedValues(orders: NewOrder[]): { tuples: string; values: unknown[] } {
  const values: unknown[] = [];
  const tuples = orders.map((o, i) => {
    const b = i * 14;
    values.push(
      o.signalId,
      o.exchange,
      o.accountId,
      o.clientOrderId,
      o.leg,
      o.symbol,
      o.side,
      o.positionSide,
      o.type,
      o.reduceOnly,
      o.amount,
      o.exchangeAmount ?? null,
      o.triggerPrice ?? null,
      'pending',
    );
    return `(gen_random_uuid(), $${b + 1}::uuid, $${b + 2}::"Exchange", $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7},
      $${b + 8}, $${b + 9}, $${b + 10}, $${b + 11}, $${b + 12}, $${b + 13}, $${b + 14}, now())`;
  });
  return { tuples: tuples.join(',\n'), values };
}

const INSERT_PLANNED = `INSERT INTO orders (id, signal_id, exchange, account_id, client_order_id, leg, symbol, side, position_side, type,
       reduce_only, amount, exchange_amount, trigger_price, status, updated_at)`;

/** The order legs of one signal are listed in: created_at, then exit, entry, stop, the rest, then client id. */
const SIGNAL_LEG_ORDER = `ORDER BY created_at,
       CASE leg WHEN 'exit' THEN 0 WHEN 'entry' THEN 1 WHEN 'stop_loss' THEN 2 ELSE 3 END, client_order_id`;

/** Inserts planned legs (status `pending`); legs that already exist (a retry) are left as they are. */
export async function insertPlannedOrders(db: Queryable, orders: NewOrder[]): Promise<void> {
  if (orders.length === 0) return;
  const { tuples, values } = plannedValues(orders);
  await db.query(`${INSERT_PLANNED} VALUES ${tuples} ON CONFLICT (client_order_id) DO NOTHING`, values);
}

/**
 * Inserts one signal's planned legs as insertPlannedOrders does and returns all of that signal's legs, in one
 * statement (one round trip): the CTE's RETURNING rows beside the rows that were there before it.
 */
export async function planSignalOrders(
  db: Queryable,
  signalId: string,
  orders: NewOrder[],
): Promise<OrderRow[]> {
  if (orders.some((o) => o.signalId !== signalId))
    throw new Error('planSignalOrders: legs of another signal');
  if (orders.length === 0) return findOrdersBySignal(db, signalId);
  const { tuples, values } = plannedValues(orders);
  const { rows } = await db.query<RawOrder>(
    `WITH planned AS (${INSERT_PLANNED} VALUES ${tuples} ON CONFLICT (client_order_id) DO NOTHING RETURNING *),
          legs AS (SELECT * FROM orders WHERE signal_id = $${values.length + 1}::uuid UNION ALL SELECT * FROM planned)
     SELECT ${COLUMNS} FROM legs ${SIGNAL_LEG_ORDER}`,
    [...values, signalId],
  );
  return rows.map(toRow);
}

/** A signal's legs in the order they were planned. */
export async function findOrdersBySignal(db: Queryable, signalId: string): Promise<OrderRow[]> {
  const { rows } = await db.query<RawOrder>(
    `SELECT ${COLUMNS} FROM orders WHERE signal_id = $1 ${SIGNAL_LEG_ORDER}`,
    [signalId],
  );
  return rows.map(toRow);
}

/**
 * Our SL/TP legs still `open` protecting one position: (account, symbol), the side that closes it and, in hedge
 * mode, its leg. Oldest first. Rows only: whether each is still open at the exchange is the caller's question.
 */
export async function findOpenProtection(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  symbol: string,
  side: 'buy' | 'sell',
  positionSide: 'long' | 'short' | null,
): Promise<OrderRow[]> {
  const { rows } = await db.query<RawOrder>(
    `SELECT ${COLUMNS} FROM orders
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND symbol = $3 AND side = $4
        AND position_side IS NOT DISTINCT FROM $5 AND leg IN ('stop_loss', 'take_profit') AND status = 'open'
      ORDER BY created_at, client_order_id`,
    [exchange, accountId, symbol, side, positionSide],
  );
  return rows.map(toRow);
}

/** Committed before each request leaves: sent_at is the latest send that may land (its look-up window). */
export async function markOrderSent(db: Queryable, clientOrderId: string): Promise<void> {
  await db.query(`UPDATE orders SET sent_at = now(), updated_at = now() WHERE client_order_id = $1`, [
    clientOrderId,
  ]);
}

/**
 * A signal's legs (as findOrdersBySignal), and in the same query how long ago (ms, by the database's clock) the
 * account's latest market order was sent by any worker — null when none in the last `withinMs`: a replica's
 * stream state must show that order before deciding from it.
 */
export async function findOrdersBySignalAndLastMarketSend(
  db: Queryable,
  signal: { signalId: string; exchange: Exchange; accountId: string },
  withinMs: number,
): Promise<{ legs: OrderRow[]; lastMarketOrderAgeMs: number | null }> {
  const { rows } = await db.query<Partial<RawOrder> & { last_market_age: number | null }>(
    `WITH last AS (
       SELECT (extract(epoch FROM now() - max(sent_at)) * 1000)::float8 AS last_market_age FROM orders
        WHERE exchange = $2::"Exchange" AND account_id = $3 AND type = 'market'
          AND sent_at > now() - $4 * interval '1 millisecond'),
     legs AS (SELECT ${COLUMNS}, created_at FROM orders WHERE signal_id = $1)
     SELECT last.last_market_age, legs.* FROM last LEFT JOIN legs ON true ${SIGNAL_LEG_ORDER}`,
    [signal.signalId, signal.exchange, signal.accountId, withinMs],
  );
  return {
    legs: rows.filter((r) => r.id != null).map((r) => toRow(r as RawOrder)),
    lastMarketOrderAgeMs: rows[0]?.last_market_age ?? null,
  };
}

/** The exchange refused the send before executing it: the previous send (if any) is the one that may land. */
export async function restoreOrderSentAt(
  db: Queryable,
  clientOrderId: string,
  previous: Date | null,
): Promise<void> {
  await db.query(`UPDATE orders SET sent_at = $2, updated_at = now() WHERE client_order_id = $1`, [
    clientOrderId,
    previous,
  ]);
}

export interface OrderOutcome {
  status: OrderStatus;
  exchangeOrderId?: string | null;
  filledAmount?: number | null;
  averagePrice?: number | null;
  triggerPrice?: number | null;
  exchangeAmount?: number | null;
  error?: string | null;
}

export async function updateOrderOutcome(
  db: Queryable,
  clientOrderId: string,
  o: OrderOutcome,
): Promise<void> {
  await db.query(
    `UPDATE orders
        SET status = $2,
            exchange_order_id = COALESCE($3, exchange_order_id),
            filled_amount = COALESCE($4, filled_amount),
            average_price = COALESCE($5, average_price),
            trigger_price = COALESCE($6, trigger_price),
            exchange_amount = COALESCE($7, exchange_amount),
            error = $8,
            updated_at = now()
      WHERE client_order_id = $1`,
    [
      clientOrderId,
      o.status,
      o.exchangeOrderId ?? null,
      o.filledAmount ?? null,
      o.averagePrice ?? null,
      o.triggerPrice ?? null,
      o.exchangeAmount ?? null,
      o.error ?? null,
    ],
  );
}

/** Marks our open conditional orders as cancelled after they were cancelled at the exchange. */
export async function markOrdersCanceled(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  exchangeOrderIds: string[],
): Promise<void> {
  if (exchangeOrderIds.length === 0) return;
  await db.query(
    `UPDATE orders SET status = 'canceled', updated_at = now()
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND exchange_order_id = ANY($3::text[])
        AND status IN ('open', 'pending', 'unknown')`,
    [exchange, accountId, exchangeOrderIds],
  );
}

/** Rows by client order id (any order). */
export async function findOrdersByClientIds(db: Queryable, clientOrderIds: string[]): Promise<OrderRow[]> {
  if (clientOrderIds.length === 0) return [];
  const { rows } = await db.query<RawOrder>(
    `SELECT ${COLUMNS} FROM orders WHERE client_order_id = ANY($1::text[]) ORDER BY created_at, client_order_id`,
    [clientOrderIds],
  );
  return rows.map(toRow);
}

export interface BreakEvenCandidate {
  accountId: string;
  stop: OrderRow;
  /** The alert's break_even_pct. */
  pct: number;
  /** The entry's average fill price. */
  entryPrice: number;
}

/**
 * Open stops of executed entries that asked for `break_even_pct` and have not moved to break-even yet (their
 * signal's trace has no `results.break_even`), with the entry's fill price.
 */
export async function findBreakEvenCandidates(
  db: Queryable,
  exchange: Exchange,
): Promise<BreakEvenCandidate[]> {
  const cols = COLUMNS.split(',')
    .map((c) => `o.${c.trim()}`)
    .join(', ');
  const { rows } = await db.query<RawOrder & { account_id: string; pct: number; entry_price: number }>(
    `SELECT ${cols}, o.account_id, (s.payload->>'break_even_pct')::float8 AS pct,
            e.average_price::float8 AS entry_price
       FROM orders o
       JOIN signals s ON s.id = o.signal_id
       JOIN orders e ON e.signal_id = s.id AND e.leg = 'entry' AND e.average_price IS NOT NULL
      WHERE o.exchange = $1::"Exchange" AND o.leg = 'stop_loss' AND o.status = 'open'
        AND o.exchange_order_id IS NOT NULL AND s.status = 'executed' AND s.payload ? 'break_even_pct'
        AND NOT (COALESCE(s.result->'results', '{}'::jsonb) ? 'break_even')
      ORDER BY o.created_at`,
    [exchange],
  );
  return rows.map((r) => ({
    accountId: r.account_id,
    stop: toRow(r),
    pct: r.pct,
    entryPrice: r.entry_price,
  }));
}

/**
 * A protective leg the exchange reports executed: marks its row `filled` once and returns it; null when the row
 * was already settled (by the reconciler or another event), so what follows a fill runs exactly once.
 */
export async function claimFiredProtection(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  clientOrderId: string,
): Promise<OrderRow | null> {
  const { rows } = await db.query<RawOrder>(
    `UPDATE orders SET status = 'filled', updated_at = now()
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND client_order_id = $3 AND status = 'open'
        AND leg IN ('stop_loss', 'take_profit', 'trailing_stop')
      RETURNING ${COLUMNS}`,
    [exchange, accountId, clientOrderId],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

/**
 * Symbols the fill sync polls: traded through us since `since`, or with one of our orders still open (an SL/TP
 * on a position older than the look-back can still fire).
 */
export async function tradedSymbols(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  since: Date,
): Promise<string[]> {
  const { rows } = await db.query<{ symbol: string }>(
    `SELECT DISTINCT symbol FROM orders
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND (created_at >= $3 OR status = 'open')
      ORDER BY symbol`,
    [exchange, accountId, since],
  );
  return rows.map((r) => r.symbol);
}

/** tradedSymbols for every account of the exchange at once (the worker's price feed follows them at start). */
export async function tradedSymbolsByAccount(
  db: Queryable,
  exchange: Exchange,
  since: Date,
): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{ account_id: string; symbols: string[] }>(
    `SELECT account_id, array_agg(DISTINCT symbol ORDER BY symbol) AS symbols FROM orders
      WHERE exchange = $1::"Exchange" AND (created_at >= $2 OR status = 'open')
      GROUP BY account_id`,
    [exchange, since],
  );
  return new Map(rows.map((r) => [r.account_id, r.symbols]));
}

/**
 * Symbols with an order of ours that may be on the exchange (open, or sent without a known outcome): where the
 * live state's snapshot reads open orders (packages/exchange/src/live/account-state.ts).
 */
export async function openOrderSymbols(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
): Promise<string[]> {
  const { rows } = await db.query<{ symbol: string }>(
    `SELECT DISTINCT symbol FROM orders
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND status IN ('open', 'pending', 'unknown')
      ORDER BY symbol`,
    [exchange, accountId],
  );
  return rows.map((r) => r.symbol);
}

const FIRST_ORDER_TIME_SQL = `SELECT min(created_at) AS t FROM orders WHERE exchange = $1::"Exchange" AND account_id = $2 AND symbol = $3`;

/** When we first sent an order for (account, symbol): where a fill sync without fills starts. */
export async function firstOrderTime(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  symbol: string,
): Promise<Date | null> {
  return timeForSymbol(db, FIRST_ORDER_TIME_SQL, exchange, accountId, symbol);
}

/**
 * Our SL/TP/trailing-stop rows still `open` for (account, symbol) whose order is no longer open at the exchange and that we
 * did not cancel: the exchange triggered them (a position-reducing fill was just seen). Returns their client ids.
 */
export async function settleTriggeredProtection(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  symbol: string,
  stillOpenExchangeIds: string[],
  /** Only rows last changed before the exchange's open orders were read (a leg placed since is not "gone"). */
  changedBefore: Date,
): Promise<string[]> {
  const { rows } = await db.query<{ client_order_id: string }>(
    `UPDATE orders SET status = 'filled', updated_at = now()
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND symbol = $3 AND status = 'open'
        AND leg IN ('stop_loss', 'take_profit', 'trailing_stop') AND exchange_order_id IS NOT NULL
        AND exchange_order_id <> ALL($4::text[]) AND updated_at < $5
      RETURNING client_order_id`,
    [exchange, accountId, symbol, stillOpenExchangeIds, changedBefore],
  );
  // An OKX OCO (SL+TP attached to the entry) is one exchange order behind two rows: only one half fired, the
  // other went with it. Without the exchange's word (settleFiredOco, from the stream) the fired half is the
  // one whose trigger is nearer the last fill of the symbol (the close it caused); the other is cancelled.
  await db.query(
    `WITH last_fill AS (
       SELECT price FROM fills WHERE exchange = $1::"Exchange" AND account_id = $2 AND symbol = $3
        ORDER BY time DESC LIMIT 1),
     pair AS (
       SELECT o.client_order_id, o.exchange_order_id, abs(o.trigger_price - f.price) AS gap
         FROM orders o, last_fill f
        WHERE o.exchange = $1::"Exchange" AND o.account_id = $2 AND o.client_order_id = ANY($4::text[])
          AND o.trigger_price IS NOT NULL),
     loser AS (
       SELECT p.client_order_id FROM pair p JOIN pair q
           ON q.exchange_order_id = p.exchange_order_id AND q.client_order_id <> p.client_order_id
        WHERE p.gap > q.gap)
     UPDATE orders SET status = 'canceled', updated_at = now()
      WHERE client_order_id IN (SELECT client_order_id FROM loser)`,
    [exchange, accountId, symbol, rows.map((r) => r.client_order_id)],
  );
  return rows.map((r) => r.client_order_id);
}

/**
 * The stream said which half of an OCO fired (OKX `actualSide`): that row is filled, the other half (same
 * exchange order, gone with it) cancelled — also over a REST settle that got there first. No-op for a
 * conditional order behind a single row.
 */
export async function settleFiredOco(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  exchangeOrderId: string,
  firedLeg: 'stop_loss' | 'take_profit',
): Promise<void> {
  await db.query(
    `UPDATE orders SET status = CASE WHEN leg = $4 THEN 'filled' ELSE 'canceled' END, updated_at = now()
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND exchange_order_id = $3
        AND leg IN ('stop_loss', 'take_profit') AND status IN ('open', 'filled')
        AND (SELECT count(*) FROM orders WHERE exchange = $1::"Exchange" AND account_id = $2
              AND exchange_order_id = $3 AND leg IN ('stop_loss', 'take_profit')) > 1`,
    [exchange, accountId, exchangeOrderId, firedLeg],
  );
}

export interface FillLeg {
  exchangeOrderId: string | null;
  clientOrderId: string;
  symbol: string;
  leg: string;
  status: string;
  triggerPrice: number | null;
}

/**
 * For fills just recorded: our legs behind any of their exchange order ids, plus our SL/TP/trailing stops of their symbols still
 * `open` (a fired stop's fill carries the exchange's new order id, not the one we placed).
 */
export async function findFillLegs(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  exchangeOrderIds: string[],
  symbols: string[],
): Promise<FillLeg[]> {
  const { rows } = await db.query<{
    exchange_order_id: string | null;
    client_order_id: string;
    symbol: string;
    leg: string;
    status: string;
    trigger_price: number | null;
  }>(
    `SELECT exchange_order_id, client_order_id, symbol, leg, status, trigger_price::float8 AS trigger_price
       FROM orders
      WHERE exchange = $1::"Exchange" AND account_id = $2
        AND (exchange_order_id = ANY($3::text[])
             OR (symbol = ANY($4::text[]) AND leg IN ('stop_loss', 'take_profit', 'trailing_stop')
                 AND (status = 'open' OR (status = 'filled' AND updated_at > now() - interval '1 hour'))))`,
    [exchange, accountId, exchangeOrderIds, symbols],
  );
  return rows.map((r) => ({
    exchangeOrderId: r.exchange_order_id,
    clientOrderId: r.client_order_id,
    symbol: r.symbol,
    leg: r.leg,
    status: r.status,
    triggerPrice: r.trigger_price,
  }));
}
