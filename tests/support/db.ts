import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrl, RUN_ENV, templateName, TEST_DB_PREFIX, TEST_PG_ADMIN_URL } from './env.ts';

/** The current run's id: provided by global-setup inside vitest, or inherited through the environment. */
function currentRun(): string {
  const fromEnv = process.env[RUN_ENV];
  if (fromEnv) return fromEnv;
  const provided = inject('tradehookTestRun');
  if (!provided) throw new Error('no test run: createTestDatabase() needs tests/support/global-setup.ts');
  return provided;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database cloned from the template made by global-setup. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const run = currentRun();
  const name = `${TEST_DB_PREFIX}${run}_${randomBytes(5).toString('hex')}`;
  await admin(async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${templateName(run)}"`);
        return;
      } catch (err) {
        // Two clones of one template at the same instant: "source database is being accessed".
        if (attempt >= 20 || !/being accessed/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () =>
      admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * A name for a database a test creates itself (e.g. `pnpm start` creating its own): it carries the run's id,
 * so a concurrent run's global setup leaves it alone and this run's teardown drops it.
 */
export function testDatabaseName(label: string): string {
  return `${TEST_DB_PREFIX}${currentRun()}_${label}_${randomBytes(3).toString('hex')}`;
}

/** An empty database (no migrations), for the migration applier's own tests. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DB_PREFIX}${currentRun()}_${randomBytes(5).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: databaseUrl(name),
    drop: () =>
      admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
