/**
 * One signal's execution: the job, its account and what every leg needs (pool, config, the shared candle
 * cache). Entries and exits are functions of it; the helpers here are what they share — planning rows,
 * sending a planned market leg, cancelling protection.
 */
import type { LimitEntryJob, OrderJob } from '@tradehook/contracts';
import {
  findOrdersBySignal,
  markOrdersCanceled,
  planSignalOrders,
  type NewOrder,
  type OrderRow,
  type pg,
} from '@tradehook/db';
import type { AttachedProtection, OrderInfo, OrderSide, PositionSide } from '@tradehook/exchange';
import type { Logger } from '@tradehook/logger';
import type { AccountContext } from '../accounts.ts';
import type { WorkerConfig } from '../config.ts';
import type { CandleCache } from './candles.ts';
import { runLeg, type LegResult } from './order-legs.ts';
import { protects, type OrderDetails } from './views.ts';

export type ExecConfig = Pick<
  WorkerConfig,
  | 'ATR_TIMEFRAME'
  | 'ATR_PERIOD'
  | 'ATR_SL_MULTIPLIER'
  | 'ATR_TP_MULTIPLIER'
  | 'DEFAULT_SIZE_FRACTION'
  | 'DEFAULT_LEVERAGE'
  | 'UNPROTECTED_POLICY'
  | 'LIVE_STATE_MAX_AGE_MS'
  | 'LIVE_STATE_OWN_ORDER_GRACE_MS'
  | 'PRICE_MAX_AGE_MS'
  | 'OKX_ATTACHED_PROTECTION'
>;

export interface Execution {
  pool: pg.Pool;
  /**
   * Where planned legs are inserted (the same pool as OrderJobDeps.deferredPool). Its commits may be deferred
   * (synchronous_commit off): a leg is sent only after runLeg's durable markOrderSent, whose commit flushes the
   * WAL up to and including the plan (docs/decisions/0027-deferred-commits.md).
   */
  deferredPool: pg.Pool;
  config: ExecConfig;
  candles: CandleCache;
  job: OrderJob;
  account: AccountContext;
  log: Logger;
  /** Follows resting limit entries (jobs/limit-entry-jobs.ts); absent: a limit entry that may rest is refused. */
  limitEntries?: LimitEntryScheduler | undefined;
  /**
   * The signal's order rows as the job read them at its start (only this job writes them): the entry or
   * exit starts from these instead of reading them again. Absent: read.
   */
  legs?: OrderRow[] | undefined;
  /**
   * The job's `executing` mark, written while the execution decides: a leg's send awaits it (sendMarketLeg,
   * sendLimitLeg), so it commits before the durable sent_at that flushes it (decision 0027). Absent: written.
   */
  executing?: Promise<unknown> | undefined;
  /** When the account's latest market order was sent by any worker (local ms), as the job read it at its start. */
  lastMarketOrderAt?: number | undefined;
}

/** What the job read and started before handing the signal to the executor (see Execution). */
export type JobStart = Pick<Execution, 'legs' | 'executing' | 'lastMarketOrderAt'>;

/** The signal's order rows: as the job read them at its start, else from the database. */
export function signalLegs(x: Execution): Promise<OrderRow[]> {
  return x.legs ? Promise.resolve(x.legs) : findOrdersBySignal(x.pool, x.job.signalId);
}

export interface LimitEntryScheduler {
  /** Records the entry's cancel-after as a delayed job (idempotent per signal). */
  schedule(data: LimitEntryJob): Promise<void>;
}

export function details(x: Execution, results: Record<string, unknown>, success = true): OrderDetails {
  const { signal } = x.job;
  return {
    success,
    exchange: signal.exchange,
    account_id: signal.account_id,
    action: signal.action,
    symbol: signal.symbol,
    results,
  };
}

export function newRow(
  x: Execution,
  fields: Omit<NewOrder, 'signalId' | 'exchange' | 'accountId'>,
): NewOrder {
  return {
    signalId: x.job.signalId,
    exchange: x.job.signal.exchange,
    accountId: x.job.signal.account_id,
    ...fields,
  };
}

/** Inserts the rows not planned by an earlier attempt (by client id) and returns all of the signal's rows. */
export async function planLegs(x: Execution, rows: OrderRow[], planned: NewOrder[]): Promise<OrderRow[]> {
  const missing = planned.filter((p) => !rows.some((r) => r.clientOrderId === p.clientOrderId));
  if (missing.length === 0) return rows;
  return planSignalOrders(x.deferredPool, x.job.signalId, missing);
}

/** Sends one planned market leg exactly once (runLeg adopts what an earlier attempt already placed). */
export function sendMarketLeg(
  x: Execution,
  row: OrderRow,
  attached?: AttachedProtection,
): Promise<LegResult> {
  const { adapter, settings } = x.account;
  return afterExecutingMark(x, () =>
    x.account.ownOrder(
      () =>
        runLeg(x.pool, adapter, row, false, () =>
          adapter.createMarketOrder({
            symbol: row.symbol,
            side: row.side as OrderSide,
            amount: row.amount ?? 0,
            clientOrderId: row.clientOrderId,
            reduceOnly: row.reduceOnly,
            positionSide: (row.positionSide as PositionSide | null) ?? null,
            marginMode: settings.marginMode,
            ...(attached ? { attached } : {}),
          }),
        ),
      true,
    ),
  );
}

/** Runs `send` once the job's `executing` mark is written (Execution.executing). */
export async function afterExecutingMark<T>(x: Execution, send: () => Promise<T>): Promise<T> {
  await x.executing;
  return send();
}

/** Cancels orders; returns the ids cancelled. */
export async function cancelOrders(x: Execution, orders: OrderInfo[]): Promise<string[]> {
  await Promise.all(orders.map((o) => x.account.adapter.cancelOrder(o)));
  const ids = orders.map((o) => o.id);
  await markOrdersCanceled(x.pool, x.job.signal.exchange, x.job.signal.account_id, ids);
  return ids;
}

/**
 * Cancels the open SL/TP orders protecting `side` of `symbol` (the position is gone or being closed). Read
 * from REST, after the order that mattered has left: an order placed a moment ago may not be on the stream.
 */
export async function cancelProtection(
  x: Execution,
  symbol: string,
  side: PositionSide,
  only: (o: OrderInfo) => boolean = () => true,
): Promise<string[]> {
  const open = await x.account.adapter.fetchOpenOrders(symbol);
  return cancelOrders(
    x,
    open.filter((o) => protects(o, symbol, side) && only(o)),
  );
}
