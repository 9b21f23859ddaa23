import type pg from 'pg';
import type { Exchange, NormalisedSignal } from '@tradehook/contracts';

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
export async function markSignalUnqueued(pool: pg.Pool, signalId: string): Promise<void> {
  await pool.query(
    `UPDATE signals
        SET status = 'failed', reason = $2, completed_at = now(), updated_at = now(),
            dedup_key = dedup_key || ':unqueued:' || id::text
      WHERE id = $1 AND status = 'queued'`,
    [signalId, UNQUEUED_REASON],
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
