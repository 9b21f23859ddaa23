import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../tests/support/index.ts';
import { createPgPool, createPrisma, type pg } from '../client.ts';
import type { PrismaClient } from '../generated/client.ts';
import { findAccount, listAccounts, recordKeyCheck, replaceCredentials } from './accounts.ts';

let db: TestDatabase;
let pool: pg.Pool;
let prisma: PrismaClient;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 2, onError: () => undefined });
  prisma = createPrisma(db.url, { max: 2 });
  await prisma.account.create({
    data: {
      id: randomUUID(),
      exchange: 'okx',
      accountId: 'shape',
      apiKeyMasked: 'abcd…wxyz',
      credentials: Buffer.from([2, 1, 2, 3]),
      credentialsKeyId: 'key-1',
      defaultLeverage: 3,
    },
  });
});
afterAll(async () => {
  await prisma.$disconnect();
  await pool.end();
  await db.drop();
});

describe('accounts repository', () => {
  it('reads a row over plain pg in the same shape Prisma gives', async () => {
    const viaPrisma = await prisma.account.findUniqueOrThrow({
      where: { exchange_accountId: { exchange: 'okx', accountId: 'shape' } },
    });
    const viaPg = await findAccount(pool, 'okx', 'shape');
    expect(viaPg).toEqual({ ...viaPrisma, credentials: Buffer.from(viaPrisma.credentials) });
    expect(await listAccounts(pool, 'okx')).toHaveLength(1);
    expect(await findAccount(pool, 'binance', 'shape')).toBeNull();
  });

  it('says whether a key check and a credentials swap applied', async () => {
    expect(await recordKeyCheck(pool, 'okx', 'shape', { ok: true })).toBe(true);
    expect(await recordKeyCheck(pool, 'okx', 'nobody', { ok: true })).toBe(false);
    const box = Buffer.from([2, 9, 9]);
    expect(await replaceCredentials(pool, 'okx', 'shape', Buffer.from([0]), box)).toBe(false);
    expect(await replaceCredentials(pool, 'okx', 'shape', Buffer.from([2, 1, 2, 3]), box)).toBe(true);
    expect((await findAccount(pool, 'okx', 'shape'))?.credentials).toEqual(box);
  });
});
