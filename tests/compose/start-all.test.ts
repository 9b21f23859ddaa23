import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvFile } from '../../deploy/secrets.ts';
import {
  databaseUrl,
  deleteRedisPrefix,
  testQueuePrefix,
  testDatabaseName,
  TEST_PG_ADMIN_URL,
  TEST_REDIS_URL,
} from '../support/index.ts';
import { REPO_ROOT } from './compose-file.ts';

/**
 * `pnpm start` (scripts/start-all.ts), the documented no-Docker path: on a database that does not exist yet
 * it creates it, generates the secrets file, migrates, starts the services with prefixed output, and stops
 * them all cleanly on SIGTERM.
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

describe('pnpm start', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'th-start-'));
  const prefix = testQueuePrefix();
  // Named like the suite's databases (with the run's id), so only this run's teardown drops it.
  const dbName = testDatabaseName('start');

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => admin.end());
    await deleteRedisPrefix(prefix);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('creates the database and secrets, starts every service, and stops them on SIGTERM', async () => {
    const port = await freePort();
    const secretsFile = join(tmp, 'secrets.env');
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-all.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: tmp,
        DATABASE_URL: databaseUrl(dbName),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        PORT: String(port),
        LOG_DIR: '',
        TRADEHOOK_SECRETS_FILE: secretsFile,
        BINANCE_WORKERS: '1',
        OKX_WORKERS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes('[start] ready:')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`start-all exited ${code} before ready:\n${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await ready;
      const health = await fetch(`http://127.0.0.1:${port}/api/v1/webhook/health`);
      expect(health.status).toBe(200);
      expect(output).toContain(`[start] created database ${dbName}`);
      expect(output).toMatch(/\[migrate\] +migrations: \d+ applied/);
      expect(output).toMatch(/^\[ingress\] /m);
      expect(output).toMatch(/^\[risk\] /m);

      const secrets = readEnvFile(secretsFile);
      expect(Object.keys(secrets).sort()).toEqual([
        'ADMIN_TOKEN',
        'CREDENTIALS_PRIVATE_KEY',
        'CREDENTIALS_PUBLIC_KEY',
        'WEBHOOK_SECRET',
      ]);
      expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
      expect(output).toContain(`generated WEBHOOK_SECRET, ADMIN_TOKEN`);
      // The worker's start line, then SIGTERM: everything stops cleanly.
      while (!/^\[worker-binance\] .*worker started/m.test(output))
        await new Promise((r) => setTimeout(r, 200));

      // A crashed service is restarted with backoff; the others keep running.
      const ps = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)]).toString();
      const workerPid = Number(/^\s*(\d+) .*services\/worker\/src\/main\.ts/m.exec(ps)?.[1]);
      expect(workerPid).toBeGreaterThan(0);
      process.kill(workerPid, 'SIGKILL');
      const started = () => output.match(/^\[worker-binance\] .*worker started/gm)?.length ?? 0;
      while (started() < 2) await new Promise((r) => setTimeout(r, 200));
      expect(output).toMatch(
        /\[start\] worker-binance exited unexpectedly \(code 1\); restarting in 1000 ms/,
      );
      expect(output).not.toContain('[start] stopping');
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/webhook/health`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('[start] stopping (SIGTERM)');
    for (const value of Object.values(readEnvFile(secretsFile))) expect(output).not.toContain(value);
  }, 180_000);
});
