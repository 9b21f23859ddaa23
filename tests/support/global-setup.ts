import pg from 'pg';
import { applyMigrations } from '../../packages/db/src/migrations.ts';
import { databaseUrl, TEMPLATE_DB, TEST_DB_PREFIX, TEST_PG_ADMIN_URL } from './env.ts';

/**
 * Once per `pnpm test`: a migrated template database (through the project's own applier), which each
 * test file clones into a database of its own (tests/support/db.ts).
 */
async function dropTestDatabases(client: pg.Client, includeTemplate: boolean): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE $1 ${includeTemplate ? 'OR datname = $2' : ''}`,
    includeTemplate ? [`${TEST_DB_PREFIX}%`, TEMPLATE_DB] : [`${TEST_DB_PREFIX}%`],
  );
  for (const { datname } of rows) {
    await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}

export async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await dropTestDatabases(admin, true);
    await admin.query(`CREATE DATABASE "${TEMPLATE_DB}"`);
  } finally {
    await admin.end();
  }
  await applyMigrations(databaseUrl(TEMPLATE_DB));
}

export async function teardown(): Promise<void> {
  if (process.env.KEEP_TEST_DATABASES) return;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await dropTestDatabases(admin, false);
  } finally {
    await admin.end();
  }
}
