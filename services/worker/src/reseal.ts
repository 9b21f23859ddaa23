import type { Exchange } from '@tradehook/contracts';
import { credentialsAad, CredentialsOpener, CredentialsSealer, needsReseal } from '@tradehook/credentials';
import { findAccountsWithLegacyCredentials, replaceCredentials, type pg } from '@tradehook/db';

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
  const rows = await findAccountsWithLegacyCredentials(pool, exchange, opener.keyId);
  const sealer = new CredentialsSealer(opener.publicKey);
  let resealed = 0;
  for (const row of rows) {
    if (!needsReseal(row.credentials)) continue;
    const aad = credentialsAad(exchange, row.accountId);
    const box = sealer.seal(opener.open(row.credentials, aad), aad);
    if (await replaceCredentials(pool, exchange, row.accountId, row.credentials, box)) resealed++;
  }
  return resealed;
}
