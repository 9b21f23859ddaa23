import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  databaseUrl,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_DB_PREFIX,
  TEST_PG_ADMIN_URL,
  TEST_REDIS_URL,
} from '../support/index.ts';
import { REPO_ROOT } from './compose-file.ts';

/**
 * Ctrl-C on `pnpm start`: the terminal sends SIGINT to the whole foreground group (pnpm, its shell, the
 * supervisor, every service). Every service stops cleanly, so the command ends 0 — no "ELIFECYCLE Command
 * failed" (package.json `exec`s the supervisor: a shell in between would die of the SIGINT itself).
 */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('Ctrl-C on pnpm start', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'th-ctrl-c-'));
  const prefix = testQueuePrefix();
  // Named after this run (th_test_<run>_…), so a concurrent run's clean-up leaves it alone.
  const dbName = `${TEST_DB_PREFIX}${inject('tradehookTestRun')}_ctrlc`;

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => admin.end());
    await deleteRedisPrefix(prefix);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('stops every service and exits 0 when the foreground group gets SIGINT', async () => {
    const port = await freePort();
    const child = spawn('pnpm', ['start'], {
      cwd: REPO_ROOT,
      // Its own process group, as a terminal's foreground job: the signal goes to every process in it.
      detached: true,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: tmp,
        DATABASE_URL: databaseUrl(dbName),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        PORT: String(port),
        LOG_DIR: '',
        TRADEHOOK_SECRETS_FILE: join(tmp, 'secrets.env'),
        BINANCE_WORKERS: '1',
        OKX_WORKERS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; !/^\[worker-binance\] .*worker started/m.test(output); i++) {
        if (child.exitCode !== null || i > 600) throw new Error(`pnpm start did not come up:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/webhook/health`)).status).toBe(200);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    expect(output).toContain('[start] stopping (SIGINT)');
    expect(output).toMatch(/^\[ingress\] .*"ingress stopped".*"clean":true/m);
    expect(output).toMatch(/^\[worker-binance\] .*"worker stopped".*"clean":true/m);
    expect(output).not.toContain('ELIFECYCLE');
  }, 180_000);
});
