import type { Queryable } from '@tradehook/db';

/** The signals row as risk needs it (the row, not the job, is the truth). */
export interface SignalRow {
  id: string;
  exchange: string;
  accountId: string;
  action: string;
  symbol: string;
  status: string;
}

export async function loadSignal(db: Queryable, signalId: string): Promise<SignalRow | null> {
  const { rows } = await db.query<{
    id: string;
    exchange: string;
    account_id: string;
    action: string;
    symbol: string;
    status: string;
  }>(`SELECT id, exchange, account_id, action, symbol, status FROM signals WHERE id = $1`, [signalId]);
  const r = rows[0];
  return r
    ? {
        id: r.id,
        exchange: r.exchange,
        accountId: r.account_id,
        action: r.action,
        symbol: r.symbol,
        status: r.status,
      }
    : null;
}

/**
 * Records risk's decision, once: only a signal still `queued` changes, so a redelivered job cannot
 * overwrite a decision (or a worker's later status). Returns false when the row was not `queued`.
 */
export async function recordDecision(
  db: Queryable,
  signalId: string,
  decision: { status: 'approved' | 'rejected'; reason: string | null },
  decidedAt: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE signals
        SET status = $2, reason = $3, risk_decided_at = $4,
            completed_at = CASE WHEN $2 = 'rejected' THEN $4 ELSE completed_at END,
            updated_at = now()
      WHERE id = $1 AND status = 'queued'`,
    [signalId, decision.status, decision.reason, decidedAt],
  );
  return rowCount === 1;
}

/**
 * Marks a signal that risk could not decide (bad job, exhausted retries) as failed — only while it has
 * not been decided yet, so a worker's later status is never overwritten.
 */
export async function failUndecidedSignal(
  db: Queryable,
  signalId: string,
  reason: string,
  at: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE signals
        SET status = 'failed', reason = $2, risk_decided_at = COALESCE(risk_decided_at, $3), completed_at = $3,
            updated_at = now()
      WHERE id = $1 AND status IN ('received', 'queued')`,
    [signalId, reason, at],
  );
  return rowCount === 1;
}
