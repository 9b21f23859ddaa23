import { randomUUID } from 'node:crypto';
import {
  credentialsAad,
  CredentialsOpener,
  CredentialsSealer,
  keyId,
  needsReseal,
} from '@tradehook/credentials';
import { createPgPool } from '@tradehook/db';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../tests/support/index.ts';
import { resealLegacyCredentials } from './reseal.ts';

/** A v1 box (X25519 + HKDF + AES-GCM) as the previous release stored it. */
const LEGACY = {
  publicKey: '5DVZkn1K7mtdgvtyYtvu3R7ZD6WGgkIJ8DhAwmKGvTM=',
  privateKey: 'yIi39JXQFrsekiGYXFPto1JTL8JJmBkfQpjGdLcHkHM=',
  box: 'ASyAylttZzkxDyOuBejbdRcHzHzV/f8y+yDZndMW/EkHe54T3uXM4BOEXKg0oW+7pT4xIZJUKXhmjpJ2iHDFWMiMMhkCMIKLQ1XBvblcOkRq2dnRTP8FFDWN59Sw6TUhZ/teMXF+H+jYtQSKJcHeJQSf+UwcMfnPG5kVftAmtnxJriRkdSA=',
  credentials: { apiKey: 'legacy-key-0123456789', apiSecret: 'legacy-secret-0123456789' },
};

let db: TestDatabase;
let pool: pg.Pool;

async function insert(accountId: string, box: Buffer): Promise<void> {
  await pool.query(
    `INSERT INTO accounts (id, exchange, account_id, api_key_masked, credentials, credentials_key_id)
     VALUES ($1, 'binance'::"Exchange", $2, 'lega…6789', $3, $4)`,
    [randomUUID(), accountId, box, keyId(LEGACY.publicKey)],
  );
}

async function boxOf(accountId: string): Promise<Buffer> {
  const { rows } = await pool.query<{ credentials: Buffer }>(
    'SELECT credentials FROM accounts WHERE account_id = $1',
    [accountId],
  );
  return rows[0]!.credentials;
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('resealLegacyCredentials', () => {
  it('re-seals v1 rows as v2 sealed boxes that still open to the same keys, once', async () => {
    await insert('legacy_acct', Buffer.from(LEGACY.box, 'base64'));
    const current = new CredentialsSealer(LEGACY.publicKey).seal(
      { apiKey: 'new-key-0123456789', apiSecret: 'new-secret-0123456789' },
      credentialsAad('binance', 'current_acct'),
    );
    await insert('current_acct', current);
    const opener = new CredentialsOpener(LEGACY.privateKey);

    expect(await resealLegacyCredentials(pool, 'binance', opener)).toBe(1);
    const upgraded = await boxOf('legacy_acct');
    expect(upgraded[0]).toBe(2);
    expect(needsReseal(upgraded)).toBe(false);
    expect(opener.open(upgraded, credentialsAad('binance', 'legacy_acct'))).toEqual(LEGACY.credentials);
    // v2 rows are left alone, and a second run has nothing to do.
    expect((await boxOf('current_acct')).equals(current)).toBe(true);
    expect(await resealLegacyCredentials(pool, 'binance', opener)).toBe(0);
  });
});
