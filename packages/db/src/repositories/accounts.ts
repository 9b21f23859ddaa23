import type pg from 'pg';
import type { Exchange } from '@tradehook/contracts';

/** What the webhook hot path needs to know about an account: that it exists, and its own secret if any. */
export interface AccountAuth {
  exchange: Exchange;
  accountId: string;
  webhookSecretHash: string | null;
}

/** One indexed lookup (accounts_exchange_account_id_key) over plain pg. */
export async function findAccountAuth(
  pool: pg.Pool,
  exchange: Exchange,
  accountId: string,
): Promise<AccountAuth | null> {
  const { rows } = await pool.query<{ webhook_secret_hash: string | null }>(
    'SELECT webhook_secret_hash FROM accounts WHERE exchange = $1::"Exchange" AND account_id = $2',
    [exchange, accountId],
  );
  const row = rows[0];
  return row ? { exchange, accountId, webhookSecretHash: row.webhook_secret_hash } : null;
}

/** Registered accounts per exchange (health check). */
export async function countAccountsByExchange(pool: pg.Pool): Promise<Record<Exchange, number>> {
  const { rows } = await pool.query<{ exchange: Exchange; n: string }>(
    'SELECT exchange::text AS exchange, count(*) AS n FROM accounts GROUP BY exchange',
  );
  const counts: Record<Exchange, number> = { binance: 0, okx: 0 };
  for (const row of rows) counts[row.exchange] = Number(row.n);
  return counts;
}
