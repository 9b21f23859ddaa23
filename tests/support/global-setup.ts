import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../packages/db/src/migrations.ts';
import {
  databaseUrl,
  RUN_ENV,
  runStartedAt,
  TEMPLATE_PREFIX,
  templateName,
  TEST_DB_PREFIX,
  TEST_PG_ADMIN_URL,
} from './env.ts';

/**
 * Once per `pnpm test`: a migrated template database (through the project's own applier), which each test
 * file clones into a database of its own (tests/support/db.ts). Databases of runs that died more than
 * three hours ago are dropped; those of a concurrent run are left alone.
 */
const STALE_AFTER_MS = 3 * 3600 * 1000;

declare module 'vitest' {
  export interface ProvidedContext {
    tradehookTestRun: string;
  }
}

async function dropDatabases(client: pg.Client, filter: (name: string) => boolean): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname LIKE $2`,
    [`${TEST_DB_PREFIX}%`, `${TEMPLATE_PREFIX}%`],
  );
  for (const { datname } of rows.filter((r) => filter(r.datname))) {
    await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}

let run = '';

export async function setup(project: TestProject): Promise<void> {
  run = `${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await dropDatabases(admin, (name) => {
      const started = runStartedAt(name);
      return started === null || Date.now() - started > STALE_AFTER_MS;
    });
    await admin.query(`CREATE DATABASE "${templateName(run)}"`);
  } finally {
    await admin.end();
  }
  await applyMigrations(databaseUrl(templateName(run)));
  process.env[RUN_ENV] = run;
  project.provide('tradehookTestRun', run);
}

export async function teardown(): Promise<void> {
  if (process.env.KEEP_TEST_DATABASES || !run) return;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await dropDatabases(admin, (name) => name.includes(run));
  } finally {
    await admin.end();
  }
}
