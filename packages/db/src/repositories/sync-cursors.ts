import type { Exchange } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';

/** Which history a cursor belongs to. */
export type SyncStream = 'trades' | 'funding';

/**
 * Where the sync of one (exchange, account, symbol, stream) has read up to, in its venue's terms (e.g. a
 * Binance trade id or window start, an OKX billId). Opaque JSON here; the exchange adapter defines it.
 */
export async function getSyncCursor<T>(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  symbol: string,
  stream: SyncStream,
): Promise<T | null> {
  const { rows } = await db.query<{ cursor: T }>(
    `SELECT cursor FROM sync_cursors
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND symbol = $3 AND stream = $4`,
    [exchange, accountId, symbol, stream],
  );
  return rows[0]?.cursor ?? null;
}

export async function saveSyncCursor(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  symbol: string,
  stream: SyncStream,
  cursor: unknown,
): Promise<void> {
  await db.query(
    `INSERT INTO sync_cursors (exchange, account_id, symbol, stream, cursor, updated_at)
     VALUES ($1::"Exchange", $2, $3, $4, $5::jsonb, now())
     ON CONFLICT (exchange, account_id, symbol, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
    [exchange, accountId, symbol, stream, JSON.stringify(cursor)],
  );
}
