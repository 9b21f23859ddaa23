import { TERMINAL_SIGNAL_STATUSES, type Exchange } from '@tradehook/contracts';
import type { pg } from '@tradehook/db';

/** The worker's reads and writes of `signals` (its lifecycle from `approved` to a terminal status). */

export interface SignalState {
  id: string;
  exchange: Exchange;
  accountId: string;
  action: string;
  symbol: string;
  seqKey: string;
  seq: number;
  status: string;
  receivedAt: Date;
}

const TERMINAL = [...TERMINAL_SIGNAL_STATUSES];

export function isTerminal(status: string): boolean {
  return (TERMINAL as string[]).includes(status);
}

export async function loadSignalState(pool: pg.Pool, signalId: string): Promise<SignalState | null> {
  const { rows } = await pool.query<{
    id: string;
    exchange: Exchange;
    account_id: string;
    action: string;
    symbol: string;
    seq_key: string;
    seq: string;
    status: string;
    received_at: Date;
  }>(
    `SELECT id, exchange::text AS exchange, account_id, action, symbol, seq_key, seq, status, received_at
       FROM signals WHERE id = $1`,
    [signalId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
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

export interface Blocker {
  id: string;
  seq: number;
  status: string;
  action: string;
  symbol: string;
}

/**
 * The ordering gate (docs/decisions/0003-order-per-account-symbol.md): every unfinished signal that must run before this one, oldest first.
 * - same (account, symbol) key: any lower seq still non-terminal;
 * - across symbols of one account, by arrival: a close_all waits for every earlier signal of the account, and
 *   every signal waits for an earlier close_all (it touches all symbols).
 * Within one key only seq decides, so the two rules cannot wait on each other through that key.
 */
export async function findBlockingPredecessors(
  pool: pg.Pool,
  s: SignalState,
  limit = 20,
): Promise<Blocker[]> {
  const { rows } = await pool.query<{
    id: string;
    seq: string;
    status: string;
    action: string;
    symbol: string;
  }>(
    `SELECT id, seq, status, action, symbol FROM signals
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND id <> $3
        AND status <> ALL($7::text[])
        AND (
          (seq_key = $4 AND seq < $5)
          OR (seq_key <> $4 AND ($8 OR action = 'close_all') AND (received_at, id) < ($6, $3::uuid))
        )
      ORDER BY received_at
      LIMIT $9`,
    [s.exchange, s.accountId, s.id, s.seqKey, s.seq, s.receivedAt, TERMINAL, s.action === 'close_all', limit],
  );
  return rows.map((r) => ({
    id: r.id,
    seq: Number(r.seq),
    status: r.status,
    action: r.action,
    symbol: r.symbol,
  }));
}

/**
 * Last resort of the gate: fails a predecessor that never started (`queued`/`approved`), so its successor can
 * run in order and the stuck one can never run late, after it. Returns false when it started meanwhile.
 */
export async function failStuckPredecessor(
  pool: pg.Pool,
  blockerId: string,
  reason: string,
): Promise<boolean> {
  const res = await pool.query(
    `UPDATE signals SET status = 'failed', reason = $2, completed_at = now(), updated_at = now()
      WHERE id = $1 AND status IN ('queued', 'approved')`,
    [blockerId, reason],
  );
  return (res.rowCount ?? 0) > 0;
}

/** approved → executing (first start only keeps its timestamp). */
export async function markExecuting(pool: pg.Pool, signalId: string): Promise<void> {
  await pool.query(
    `UPDATE signals SET status = 'executing', exec_started_at = COALESCE(exec_started_at, now()), updated_at = now()
      WHERE id = $1 AND status <> ALL($2::text[])`,
    [signalId, TERMINAL],
  );
}

/** `rejected`: an entry refused by the risk re-check right before it would have been sent. */
export type FinalStatus = 'executed' | 'ignored' | 'failed' | 'rejected';

/** Records the outcome once; returns false when the signal already had a terminal status. */
export async function completeSignal(
  pool: pg.Pool,
  signalId: string,
  status: FinalStatus,
  reason: string | null,
  result: unknown,
): Promise<boolean> {
  const res = await pool.query(
    `UPDATE signals SET status = $2, reason = $3, result = $4::jsonb, completed_at = now(), updated_at = now()
      WHERE id = $1 AND status <> ALL($5::text[])`,
    [signalId, status, reason, result === undefined ? null : JSON.stringify(result), TERMINAL],
  );
  return (res.rowCount ?? 0) > 0;
}

/**
 * Signals that were waiting at the gate for this one (the next of its key; for a close_all, the next of each
 * key of the account): their delayed jobs can be woken at once instead of at their next backoff tick.
 */
export async function findWaitingSuccessors(pool: pg.Pool, s: SignalState): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT DISTINCT ON (seq_key) id FROM signals
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND status = 'approved'
        AND ((seq_key = $3 AND seq > $4) OR ($5 AND received_at > $6))
      ORDER BY seq_key, seq
      LIMIT 20`,
    [s.exchange, s.accountId, s.seqKey, s.seq, s.action === 'close_all', s.receivedAt],
  );
  return rows.map((r) => r.id);
}
