import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../tests/support/index.ts';
import {
  DEFAULT_SCHEMA_PATH,
  checkSchemaParity,
  diffShapes,
  shapeFromDatabase,
  shapeFromSchema,
} from './schema-parity.ts';

describe('schema.prisma and the SQL migrations agree', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(); // migrated by the project's applier (tests/support/global-setup.ts)
  });
  afterAll(async () => {
    await db.drop();
  });

  it('has no differences', async () => {
    expect(await checkSchemaParity(db.url)).toEqual([]);
  });

  it('notices a column added to schema.prisma only', async () => {
    const source = (await readFile(DEFAULT_SCHEMA_PATH, 'utf8')).replace(
      'testnet           Boolean  @default(false)',
      'testnet           Boolean  @default(false)\n  nickname String?',
    );
    const diff = diffShapes(shapeFromSchema(source), await shapeFromDatabase(db.url));
    expect(diff).toEqual(['column accounts.nickname is in schema.prisma but no migration creates it']);
  });

  it('notices a column, an index and a nullability change made by SQL only', async () => {
    const other = await createTestDatabase();
    try {
      const client = new pg.Client({ connectionString: other.url });
      await client.connect();
      await client.query('ALTER TABLE fills ADD COLUMN note TEXT');
      await client.query('CREATE INDEX fills_symbol_idx ON fills(symbol)');
      await client.query('ALTER TABLE signals ALTER COLUMN reason SET NOT NULL');
      await client.end();
      expect(await checkSchemaParity(other.url)).toEqual([
        'column fills.note exists in the migrations but not in schema.prisma',
        'column signals.reason: schema nullable, database NOT NULL',
        'index fills(symbol) exists in the migrations but not in schema.prisma',
      ]);
    } finally {
      await other.drop();
    }
  });
});
