import type { Exchange } from '@tradehook/contracts';
import { credentialsAad, CredentialsOpener, CredentialsSealer, needsReseal } from '@tradehook/credentials';
import type pg from 'pg';

/**
 * Upgrade path of the stored credentials format: boxes in an older version (v1) are opened and sealed again
 * as v2. Only workers can do this (they hold the private key). Compare-and-set on the old box, so a
 * re-registration racing this run wins. Returns how many rows were re-sealed.
 */
export async function resealLegacyCredentials(
  pool: pg.Pool,
  exchange: Exchange,
  opener: CredentialsOpener,
): Promise<number> {
  const { rows } = await pool.query<{ account_id: string; credentials: Buffer }>(
    `SELECT account_id, credentials FROM accounts
      WHERE exchange = $1::"Exchange" AND credentials_key_id = $2 AND get_byte(credentials, 0) <> 2`,
    [exchange, opener.keyId],
  );
  const sealer = new CredentialsSealer(opener.publicKey);
  let resealed = 0;
  for (const row of rows) {
    if (!needsReseal(row.credentials)) continue;
    const aad = credentialsAad(exchange, row.account_id);
    const box = sealer.seal(opener.open(row.credentials, aad), aad);
    const res = await pool.query(
      `UPDATE accounts SET credentials = $3
        WHERE exchange = $1::"Exchange" AND account_id = $2 AND credentials = $4`,
      [exchange, row.account_id, box, row.credentials],
    );
    resealed += res.rowCount ?? 0;
  }
  return resealed;
}
