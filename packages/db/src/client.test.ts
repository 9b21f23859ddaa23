import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, type TestDatabase } from '../../../tests/support/index.ts';
import { createPgPool } from './client.ts';

describe('createPgPool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createEmptyDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('survives the server terminating its idle connections and reconnects on the next query', async () => {
    const errors: string[] = [];
    const pool = createPgPool(db.url, { max: 2, onError: (err) => errors.push(err.message) });
    await pool.query('SELECT 1');
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    // What a Postgres shutdown does to every backend ("terminating connection due to administrator command").
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    await admin.end();
    await expect.poll(() => errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/terminating connection/);
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]?.one).toBe(1);
    await pool.end();
  });
});
