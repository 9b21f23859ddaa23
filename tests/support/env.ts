/** Where the test suite finds PostgreSQL (an admin connection) and Redis; both are real. */
export const TEST_PG_ADMIN_URL =
  process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Each `pnpm test` run has its own id (epoch seconds + random), so concurrent runs on one machine never
 * drop each other's databases: template `th_tpl_<run>`, per-file databases `th_test_<run>_<random>`.
 */
export const TEMPLATE_PREFIX = 'th_tpl_';
export const TEST_DB_PREFIX = 'th_test_';
export const RUN_ENV = 'TRADEHOOK_TEST_RUN';

export function templateName(run: string): string {
  return `${TEMPLATE_PREFIX}${run}`;
}

/** Epoch seconds encoded at the start of a run id (stale-run cleanup). */
export function runStartedAt(databaseName: string): number | null {
  const m = /^th_(?:tpl|test)_(\d{10})/.exec(databaseName);
  return m ? Number(m[1]) * 1000 : null;
}

export function databaseUrl(name: string): string {
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
