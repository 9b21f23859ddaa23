import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, type TestDatabase } from '../../../tests/support/index.ts';
import { applyMigrations, DEFAULT_MIGRATIONS_DIR, MigrationError, readMigrations } from './migrations.ts';

describe('migrations applier', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createEmptyDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('applies every migration to an empty database, and a second run is a no-op', async () => {
    const all = await readMigrations();
    const first = await applyMigrations(db.url);
    expect(first.applied).toEqual(all.map((m) => m.name));
    const second = await applyMigrations(db.url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(all.map((m) => m.name));

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const rows = await client.query(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
    );
    await client.end();
    expect(rows.rows.map((r) => r.migration_name)).toEqual(all.map((m) => m.name));
    for (const [i, row] of rows.rows.entries()) {
      expect(row.checksum).toBe(all[i]!.checksum);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('refuses a migration that was edited after being applied', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'th-mig-'));
    await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    const [first] = await readMigrations(dir);
    const file = join(dir, first!.name, 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);
    await expect(applyMigrations(db.url, { dir })).rejects.toThrow(MigrationError);
    await expect(applyMigrations(db.url, { dir })).rejects.toThrow(/edited after it was applied/);
  });

  it('rolls back a failing migration entirely and records nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'th-mig-'));
    await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    const bad = join(dir, '99999999999999_broken');
    await cp(join(DEFAULT_MIGRATIONS_DIR, (await readMigrations())[0]!.name), bad, { recursive: true });
    await writeFile(
      join(bad, 'migration.sql'),
      'CREATE TABLE half_written (id int);\nSELECT * FROM no_such_table;\n',
    );
    await expect(applyMigrations(db.url, { dir })).rejects.toThrow(/99999999999999_broken failed/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const table = await client.query(`SELECT to_regclass('half_written') AS t`);
    const recorded = await client.query(
      `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '99999999999999_broken'`,
    );
    await client.end();
    expect(table.rows[0].t).toBeNull();
    expect(recorded.rowCount).toBe(0);
  });

  it('applies once when several processes start at the same time (advisory lock)', async () => {
    const other = await createEmptyDatabase();
    try {
      const results = await Promise.all([1, 2, 3].map(() => applyMigrations(other.url)));
      const appliedCounts = results.map((r) => r.applied.length).sort();
      const total = (await readMigrations()).length;
      expect(appliedCounts).toEqual([0, 0, total]);
    } finally {
      await other.drop();
    }
  });
});
