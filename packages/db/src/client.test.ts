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

  it("defers commits only on a pool asked to (decision 0027); the default keeps the server's durable commit", async () => {
    const deferred = createPgPool(db.url, { max: 1, commit: 'deferred' });
    const durable = createPgPool(db.url, { max: 1 });
    const plain = new pg.Client({ connectionString: db.url });
    await plain.connect();
    const show = async (q: pg.Pool | pg.Client) =>
      (await q.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit;
    expect(await show(deferred)).toBe('off');
    expect(await show(durable)).toBe(await show(plain));
    expect(await show(plain)).not.toBe('off');
    await Promise.all([deferred.end(), durable.end(), plain.end()]);
  });
});
