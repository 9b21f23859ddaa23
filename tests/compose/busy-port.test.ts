import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, TEST_DB_PREFIX, TEST_PG_ADMIN_URL, TEST_REDIS_URL } from '../support/index.ts';
import { REPO_ROOT } from './compose-file.ts';

/**
 * `pnpm demo` / `pnpm start` with a port already taken (e.g. by a real installation): they say which port
 * and why before starting anything, and exit non-zero — instead of reporting "ready" on someone else's 200.
 */
let busy: Server;
let busyPort: number;
// Never created: the scripts stop before they touch the database.
const dbName = `${TEST_DB_PREFIX}busy_${Date.now().toString(36)}`;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => busy.close(r));
});

function run(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', REDIS_URL: TEST_REDIS_URL, LOG_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await admin.end();
  }
}

describe('a busy port', () => {
  it('pnpm demo names the busy ingress port and exits 1 before starting anything', async () => {
    const { code, output } = await run('scripts/demo.ts', {
      DEMO_PORT: String(busyPort),
      SIM_PORT: '0',
      DEMO_DATABASE_URL: databaseUrl(dbName),
    });
    expect(code).toBe(1);
    expect(output).toContain(
      `port ${busyPort} on 127.0.0.1 is already in use — needed by the demo ingress (DEMO_PORT)`,
    );
    expect(output).not.toContain('exchange simulator at');
    expect(await databaseExists(dbName)).toBe(false);
  }, 60_000);

  it('pnpm demo names a busy simulator port', async () => {
    const { code, output } = await run('scripts/demo.ts', {
      SIM_PORT: String(busyPort),
      DEMO_DATABASE_URL: databaseUrl(dbName),
    });
    expect(code).toBe(1);
    expect(output).toContain(
      `port ${busyPort} on 127.0.0.1 is already in use — needed by the demo exchange simulator`,
    );
  }, 60_000);

  it('pnpm start names the busy ingress port and exits 1 before touching the database', async () => {
    const { code, output } = await run('scripts/start-all.ts', {
      PORT: String(busyPort),
      DATABASE_URL: databaseUrl(dbName),
    });
    expect(code).toBe(1);
    expect(output).toContain(
      `port ${busyPort} on 127.0.0.1 is already in use — needed by the ingress (PORT)`,
    );
    expect(await databaseExists(dbName)).toBe(false);
  }, 60_000);
});
