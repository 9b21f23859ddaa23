import type { Exchange, OrderJob } from '@tradehook/contracts';
import { findFillLegs, insertNewFills, type NewFill, type pg, type Queryable } from '@tradehook/db';
import { fillSyncLag, observeStage } from '@tradehook/metrics/pipeline';
import {
  eventsFromOrderOutcome,
  protectionHitEvents,
  type NotificationEmitter,
  type OrderOutcome,
} from '@tradehook/notify';

/**
 * The worker's side of notifications and stage metrics, kept out of the order path: each hook is one call from
 * service.ts / fill-sync.ts, never throws and never delays an order (emit is fire-and-forget).
 */

/** A signal reached its terminal status: tell the trader, and time its stages from the recorded rows. */
export function signalFinished(
  pool: pg.Pool,
  notifications: NotificationEmitter,
  job: OrderJob,
  outcome: OrderOutcome,
): void {
  for (const event of eventsFromOrderOutcome(job, outcome)) notifications.emit(event);
  void observeSignalStages(pool, job.signalId).catch(() => undefined);
}

/**
 * received → decided → executing → first order sent → entry filled, and received → terminal. The order row's
 * updated_at is when its fill was recorded (market orders answer filled), close enough to the fill itself.
 */
export async function observeSignalStages(pool: Queryable, signalId: string): Promise<void> {
  const { rows } = await pool.query<{
    received_at: Date;
    risk_decided_at: Date | null;
    exec_started_at: Date | null;
    completed_at: Date | null;
    first_sent_at: Date | null;
    filled_at: Date | null;
  }>(
    `SELECT s.received_at, s.risk_decided_at, s.exec_started_at, s.completed_at,
            (SELECT min(o.sent_at) FROM orders o WHERE o.signal_id = s.id) AS first_sent_at,
            (SELECT min(o.updated_at) FROM orders o
              WHERE o.signal_id = s.id AND o.leg IN ('entry', 'exit') AND o.status = 'filled') AS filled_at
       FROM signals s WHERE s.id = $1`,
    [signalId],
  );
  const r = rows[0];
  if (!r) return;
  observeStage('executing', r.risk_decided_at, r.exec_started_at);
  observeStage('order_sent', r.exec_started_at, r.first_sent_at);
  observeStage('filled', r.first_sent_at, r.filled_at);
  observeStage('completed', r.received_at, r.completed_at);
}

/**
 * insertFills for the fill sync, plus what only new fills tell: an SL/TP that fired on the exchange (notified
 * with its realised PnL) and how long the trade took to reach the database (fill-sync lag).
 */
export function createFillRecorder(notifications: NotificationEmitter) {
  return async function recordFills(
    db: Queryable,
    exchange: Exchange,
    accountId: string,
    fills: NewFill[],
  ): Promise<number> {
    const added = await insertNewFills(db, exchange, accountId, fills);
    const now = Date.now();
    for (const f of added)
      fillSyncLag.observe({ venue: exchange }, Math.max(0, (now - f.time.getTime()) / 1000));
    const reducing = added.filter((f) => f.realizedPnl !== 0);
    if (reducing.length) {
      // Read before fill-sync settles the fired legs (they are still `open` here).
      const ids = reducing.flatMap((f) => (f.exchangeOrderId ? [f.exchangeOrderId] : []));
      const legs = await findFillLegs(db, exchange, accountId, ids, [
        ...new Set(reducing.map((f) => f.symbol)),
      ]);
      for (const event of protectionHitEvents(exchange, accountId, reducing, legs, now))
        notifications.emit(event);
    }
    return added.length;
  };
}
