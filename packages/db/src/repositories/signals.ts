import type pg from 'pg';
import {
  SIGNAL_STATUSES,
  TERMINAL_SIGNAL_STATUSES,
  type Exchange,
  type NormalisedSignal,
  type SignalStatus,
} from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';

/**
 * The `signals` table: every read and every status change of a signal. The lifecycle
 * (docs/architecture.md, "The flow of one alert"): ingress inserts `queued` → risk records `approved` or
 * `rejected` → the worker marks `executing` → `executed` / `ignored` / `failed` / `rejected`. Each change is
 * one function whose guard names the statuses it may start from and which returns whether it applied, so a
 * late or repeated writer can never overwrite a later status.
 */

const TERMINAL: SignalStatus[] = [...TERMINAL_SIGNAL_STATUSES];
const UNFINISHED: SignalStatus[] = SIGNAL_STATUSES.filter((s) => !TERMINAL.includes(s));

/** The statuses each transition may start from. */
export const SIGNAL_TRANSITIONS = {
  /** ingress: its job could not be enqueued. */
  unqueued: ['queued'],
  /** risk: approved or rejected, once. */
  decided: ['queued'],
  /** risk: a signal it could not decide (bad job, retries exhausted, orphaned). */
  failedUndecided: ['received', 'queued'],
  /** risk: approved, but its account was deleted before the order job was forwarded again. */
  failedApproved: ['approved'],
  /** the worker's ordering gate: a predecessor that never started. */
  failedStuck: ['queued', 'approved'],
  /** the worker takes it on (a re-run after a crash keeps the first start). */
  executing: UNFINISHED,
  /** the worker's outcome, once. */
  completed: UNFINISHED,
} as const satisfies Record<string, readonly SignalStatus[]>;

export function isTerminal(status: string): boolean {
  return (TERMINAL as string[]).includes(status);
}

async function transition(db: Queryable, sql: string, values: unknown[]): Promise<boolean> {
  const { rowCount } = await db.query(sql, values);
  return (rowCount ?? 0) > 0;
}

export interface NewSignal {
  id: string;
  signal: NormalisedSignal;
  dedupKey: string;
  seqKey: string;
  requestId: string;
  sourceIp: string | null;
  receivedAt: Date;
}

/**
 * Inserts an accepted signal with status `queued` and its per-key sequence number in ONE statement
 * (docs/decisions/0003-order-per-account-symbol.md): the CTE bumps signal_sequences and the insert uses the value, so the row lock on
 * the sequence row orders concurrent inserts of one key. Returns the seq, or null when the dedup key
 * already exists (a duplicate; the sequence number it consumed is a harmless gap).
 */
export async function insertQueuedSignal(pool: pg.Pool, s: NewSignal): Promise<number | null> {
  const { rows } = await pool.query<{ seq: string }>(
    `WITH next AS (
       INSERT INTO signal_sequences (key, last_seq) VALUES ($1, 1)
       ON CONFLICT (key) DO UPDATE SET last_seq = signal_sequences.last_seq + 1
       RETURNING last_seq
     )
     INSERT INTO signals (id, exchange, account_id, action, symbol, payload, dedup_key, seq_key, seq, status,
                          request_id, source_ip, received_at, updated_at)
     SELECT $2, $3::"Exchange", $4, $5, $6, $7::jsonb, $8, $1, next.last_seq, 'queued', $9, $10, $11, $11
       FROM next
     ON CONFLICT (dedup_key) DO NOTHING
     RETURNING seq`,
    [
      s.seqKey,
      s.id,
      s.signal.exchange,
      s.signal.account_id,
      s.signal.action,
      s.signal.symbol,
      JSON.stringify(s.signal),
      s.dedupKey,
      s.requestId,
      s.sourceIp,
      s.receivedAt,
    ],
  );
  const row = rows[0];
  return row ? Number(row.seq) : null;
}

/** Reason recorded on a signal whose job could not be enqueued (Redis down); TradingView resends it. */
export const UNQUEUED_REASON = 'queue unavailable';

/**
 * Records that a signal never reached the queue: terminal `failed`, and its dedup key moved aside so the
 * resend TradingView makes after our 503 is accepted as new rather than rejected as a duplicate.
 */
export async function markSignalUnqueued(db: Queryable, signalId: string): Promise<boolean> {
  return transition(
    db,
    `UPDATE signals
        SET status = 'failed', reason = $2, completed_at = now(), updated_at = now(),
            dedup_key = dedup_key || ':unqueued:' || id::text
      WHERE id = $1 AND status = ANY($3::text[])`,
    [signalId, UNQUEUED_REASON, SIGNAL_TRANSITIONS.unqueued],
  );
}

export interface SignalStatusRow {
  id: string;
  exchange: Exchange;
  account_id: string;
  action: string;
  symbol: string;
  status: string;
  reason: string | null;
  result: unknown;
  dedup_key: string;
}

export async function findSignalStatus(pool: pg.Pool, signalId: string): Promise<SignalStatusRow | null> {
  const { rows } = await pool.query<SignalStatusRow>(
    `SELECT id, exchange::text AS exchange, account_id, action, symbol, status, reason, result, dedup_key
       FROM signals WHERE id = $1`,
    [signalId],
  );
  return rows[0] ?? null;
}

export async function findSignalIdByDedupKey(pool: pg.Pool, dedupKey: string): Promise<string | null> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM signals WHERE dedup_key = $1', [
    dedupKey,
  ]);
  return rows[0]?.id ?? null;
}

/** A signal's row as risk and the worker read it (the row, not the job, is the truth). */
export interface SignalState {
  id: string;
  requestId: string;
  exchange: Exchange;
  accountId: string;
  action: string;
  symbol: string;
  seqKey: string;
  seq: number;
  status: string;
  receivedAt: Date;
}

interface SignalStateRow {
  id: string;
  request_id: string;
  exchange: Exchange;
  account_id: string;
  action: string;
  symbol: string;
  seq_key: string;
  seq: string;
  status: string;
  received_at: Date;
}

const SIGNAL_STATE_COLUMNS = `id, request_id, exchange::text AS exchange, account_id, action, symbol, seq_key, seq, status,
       received_at`;

function toSignalState(r: SignalStateRow): SignalState {
  return {
    id: r.id,
    requestId: r.request_id,
    exchange: r.exchange,
    accountId: r.account_id,
    action: r.action,
    symbol: r.symbol,
    seqKey: r.seq_key,
    seq: Number(r.seq),
    status: r.status,
    receivedAt: r.received_at,
  };
}

export async function loadSignalState(db: Queryable, signalId: string): Promise<SignalState | null> {
  const { rows } = await db.query<SignalStateRow>(
    `SELECT ${SIGNAL_STATE_COLUMNS} FROM signals WHERE id = $1`,
    [signalId],
  );
  return rows[0] ? toSignalState(rows[0]) : null;
}

/**
 * Signals not final whose row has not changed for a while, oldest first, with the payload a `signals` job
 * can be rebuilt from (risk's orphan sweep, docs/decisions/0014-postgres-is-the-truth.md).
 */
export async function findStaleUnfinishedSignals(
  db: Queryable,
  unchangedSince: Date,
  limit: number,
): Promise<Array<SignalState & { payload: unknown }>> {
  const { rows } = await db.query<SignalStateRow & { payload: unknown }>(
    `SELECT ${SIGNAL_STATE_COLUMNS}, payload FROM signals
      WHERE status <> ALL($3::text[]) AND COALESCE(updated_at, received_at) < $1
      ORDER BY received_at LIMIT $2`,
    [unchangedSince, limit, TERMINAL],
  );
  return rows.map((r) => ({ ...toSignalState(r), payload: r.payload }));
}

/** queued → approved | rejected: risk's decision, recorded once (a redelivered job changes nothing). */
export async function recordDecision(
  db: Queryable,
  signalId: string,
  decision: { status: 'approved' | 'rejected'; reason: string | null },
  decidedAt: Date,
): Promise<boolean> {
  return transition(
    db,
    `UPDATE signals
        SET status = $2, reason = $3, risk_decided_at = $4,
            completed_at = CASE WHEN $2 = 'rejected' THEN $4 ELSE completed_at END,
            updated_at = now()
      WHERE id = $1 AND status = ANY($5::text[])`,
    [signalId, decision.status, decision.reason, decidedAt, SIGNAL_TRANSITIONS.decided],
  );
}

/** received | queued → failed: risk could not decide it; a worker's later status is never overwritten. */
export async function failUndecidedSignal(
  db: Queryable,
  signalId: string,
  reason: string,
  at: Date,
): Promise<boolean> {
  return transition(
    db,
    `UPDATE signals
        SET status = 'failed', reason = $2, risk_decided_at = COALESCE(risk_decided_at, $3), completed_at = $3,
            updated_at = now()
      WHERE id = $1 AND status = ANY($4::text[])`,
    [signalId, reason, at, SIGNAL_TRANSITIONS.failedUndecided],
  );
}

/** approved → failed: approved earlier, but nothing can be sent any more (its account is gone). */
export async function failApprovedSignal(db: Queryable, signalId: string, reason: string): Promise<boolean> {
  return transition(
    db,
    `UPDATE signals SET status = 'failed', reason = $2, completed_at = now(), updated_at = now()
      WHERE id = $1 AND status = ANY($3::text[])`,
    [signalId, reason, SIGNAL_TRANSITIONS.failedApproved],
  );
}

/**
 * queued | approved → failed: the ordering gate's last resort for a predecessor that never started, so its
 * successor can run in order and the stuck one can never run late. False when it started meanwhile.
 */
export async function failStuckPredecessor(
  db: Queryable,
  blockerId: string,
  reason: string,
): Promise<boolean> {
  return transition(
    db,
    `UPDATE signals SET status = 'failed', reason = $2, completed_at = now(), updated_at = now()
      WHERE id = $1 AND status = ANY($3::text[])`,
    [blockerId, reason, SIGNAL_TRANSITIONS.failedStuck],
  );
}

/** unfinished → executing (a re-run keeps the first start's timestamp). */
export async function markExecuting(db: Queryable, signalId: string): Promise<boolean> {
  return transition(
    db,
    `UPDATE signals SET status = 'executing', exec_started_at = COALESCE(exec_started_at, now()), updated_at = now()
      WHERE id = $1 AND status = ANY($2::text[])`,
    [signalId, SIGNAL_TRANSITIONS.executing],
  );
}

/** The worker's outcome; `rejected` is an entry refused by the risk re-check right before it was sent. */
export type FinalStatus = 'executed' | 'ignored' | 'failed' | 'rejected';

/** unfinished → a final status, once: false when the signal already had one. */
export async function completeSignal(
  db: Queryable,
  signalId: string,
  status: FinalStatus,
  reason: string | null,
  result: unknown,
): Promise<boolean> {
  return transition(
    db,
    `UPDATE signals SET status = $2, reason = $3, result = $4::jsonb, completed_at = now(), updated_at = now()
      WHERE id = $1 AND status = ANY($5::text[])`,
    [
      signalId,
      status,
      reason,
      result === undefined ? null : JSON.stringify(result),
      SIGNAL_TRANSITIONS.completed,
    ],
  );
}

/**
 * A finished signal's later facts (a resting limit entry's fills and its cancel-after) written into its
 * result under `results.<key>`. Not a status change: only an `executed` signal's trace is extended.
 */
export async function recordSignalFollowUp(
  db: Queryable,
  signalId: string,
  key: string,
  value: unknown,
): Promise<boolean> {
  return transition(
    db,
    `UPDATE signals
        SET result = jsonb_set(COALESCE(result, '{}'::jsonb), '{results}',
              COALESCE(result->'results', '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb)),
            updated_at = now()
      WHERE id = $1 AND status = 'executed'`,
    [signalId, key, JSON.stringify(value)],
  );
}

/** The normalised payload a signal was accepted with (what a later follow-up of its orders reads). */
export async function findSignalPayload(db: Queryable, signalId: string): Promise<unknown> {
  const { rows } = await db.query<{ payload: unknown }>(`SELECT payload FROM signals WHERE id = $1`, [
    signalId,
  ]);
  return rows[0]?.payload ?? null;
}
