import type pg from 'pg';
import type { Exchange } from '@tradehook/contracts';
import type { AccountModel } from '../generated/models.ts';
import type { Queryable } from './risk-limits.ts';

/**
 * The `accounts` table. One row shape everywhere: the Prisma model's (camelCase), whether a service reads it
 * through Prisma (ingress admin routes) or with plain pg here (hot paths, workers); narrower reads are
 * `Pick`s of it.
 */
export type AccountRecord = AccountModel;

/** What the webhook hot path needs to know about an account: that it exists, and its own secret if any. */
export type AccountAuth = Pick<AccountRecord, 'exchange' | 'accountId' | 'webhookSecretHash'>;

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

const ACCOUNT_COLUMNS = `id, exchange::text AS exchange, account_id AS "accountId", testnet,
       api_key_masked AS "apiKeyMasked", credentials, credentials_key_id AS "credentialsKeyId",
       webhook_secret_hash AS "webhookSecretHash", margin_mode AS "marginMode",
       default_leverage AS "defaultLeverage", allow_add AS "allowAdd", auto_sl_tp AS "autoSlTp", unprotected_policy AS "unprotectedPolicy",
       key_check AS "keyCheck", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** One account by its key (one indexed lookup). */
export async function findAccount(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
): Promise<AccountRecord | null> {
  const { rows } = await db.query<AccountRecord>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE exchange = $1::"Exchange" AND account_id = $2`,
    [exchange, accountId],
  );
  return rows[0] ?? null;
}

/** Every account of one exchange, by account id. */
export async function listAccounts(db: Queryable, exchange: Exchange): Promise<AccountRecord[]> {
  const { rows } = await db.query<AccountRecord>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE exchange = $1::"Exchange" ORDER BY account_id`,
    [exchange],
  );
  return rows;
}

/** A worker's key check, stored on the account (never a secret). False when the account is gone. */
export async function recordKeyCheck(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  check: unknown,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE accounts SET key_check = $3::jsonb, updated_at = now() WHERE exchange = $1::"Exchange" AND account_id = $2`,
    [exchange, accountId, JSON.stringify(check)],
  );
  return (rowCount ?? 0) > 0;
}

/** Accounts whose credentials box, sealed for `keyId`, is in an older format than v2. */
export async function findAccountsWithLegacyCredentials(
  db: Queryable,
  exchange: Exchange,
  keyId: string,
): Promise<Array<Pick<AccountRecord, 'accountId' | 'credentials'>>> {
  const { rows } = await db.query<Pick<AccountRecord, 'accountId' | 'credentials'>>(
    `SELECT account_id AS "accountId", credentials FROM accounts
      WHERE exchange = $1::"Exchange" AND credentials_key_id = $2 AND get_byte(credentials, 0) <> 2`,
    [exchange, keyId],
  );
  return rows;
}

/**
 * Replaces an account's credentials box only while it is still `previous` (compare-and-set: a
 * re-registration racing this wins). Returns whether it applied.
 */
export async function replaceCredentials(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  previous: Uint8Array,
  box: Uint8Array,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE accounts SET credentials = $3
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND credentials = $4`,
    [exchange, accountId, box, previous],
  );
  return (rowCount ?? 0) > 0;
}
