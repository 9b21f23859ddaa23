import { TERMINAL_SIGNAL_STATUSES } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';
import type { SignalState } from './signals.ts';

/**
 * The worker's ordering gate over the `signals` table (docs/decisions/0003-order-per-account-symbol.md):
 * read-only queries; the status changes are in signals.ts.
 */

const TERMINAL = [...TERMINAL_SIGNAL_STATUSES];

export interface Blocker {
  id: string;
  seq: number;
  status: string;
  action: string;
  symbol: string;
}

/**
 * Every unfinished signal that must run before this one, oldest first.
 * - same (account, symbol) key: any lower seq still non-terminal;
 * - across symbols of one account, by arrival: a close_all waits for every earlier signal of the account, and
 *   every signal waits for an earlier close_all (it touches all symbols).
 * Within one key only seq decides, so the two rules cannot wait on each other through that key.
 */
export async function findBlockingPredecessors(
  db: Queryable,
  s: SignalState,
  limit = 20,
): Promise<Blocker[]> {
  const { rows } = await db.query<{
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
 * Signals that were waiting at the gate for this one (the next of its key; for a close_all, the next of each
 * key of the account): their delayed jobs can be woken at once instead of at their next backoff tick.
 */
export async function findWaitingSuccessors(db: Queryable, s: SignalState): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT ON (seq_key) id FROM signals
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND status = 'approved'
        AND ((seq_key = $3 AND seq > $4) OR ($5 AND received_at > $6))
      ORDER BY seq_key, seq
      LIMIT 20`,
    [s.exchange, s.accountId, s.seqKey, s.seq, s.action === 'close_all', s.receivedAt],
  );
  return rows.map((r) => r.id);
}
