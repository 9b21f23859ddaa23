import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2EHarness } from './harness.ts';

/**
 * A private redis-server with AOF (`appendfsync everysec`) loses its last second of writes: the AOF is cut
 * back to its size a second before a kill -9, then Redis restarts on it. Postgres is the truth: every
 * accepted alert still becomes final, in order per key, and no key holds more than its alerts asked for.
 */
const dir = mkdtempSync(join(tmpdir(), 'tradehook-redis-'));
let port = 0;
let redis: ChildProcess | undefined;
let h: E2EHarness;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

async function startRedis(): Promise<void> {
  redis = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    try {
      if (
        execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .trim() === 'PONG'
      )
        return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error('private redis did not start');
}

/** The AOF file Redis 7 appends to (multi-part AOF: the newest `.incr.aof`). */
function incrAof(): string {
  const aofDir = join(dir, 'appendonlydir');
  const file = readdirSync(aofDir)
    .filter((f) => f.endsWith('.incr.aof'))
    .sort()
    .pop();
  if (!file) throw new Error('no incr AOF');
  return join(aofDir, file);
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  h = await E2EHarness.start({
    workers: { binance: 1, okx: 0 },
    env: {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      FILL_SYNC_INTERVAL_MS: '0',
      RISK_ORPHAN_AFTER_MS: '5000',
      RISK_SWEEP_INTERVAL_MS: '1000',
    },
  });
}, 180_000);

afterAll(async () => {
  await h?.stop();
  redis?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('Redis losing its last second of writes', () => {
  it('0 lost, 0 out of order, 0 doubled positions after the AOF is cut by a second and Redis kill -9ed', async () => {
    const a = await h.registerAccount('binance', { settings: { auto_sl_tp: false } });
    await h.simControl('latency', { ms: 100 });
    const accepted: Array<{ id: string; n: number }> = [];
    let n = 0;
    let sending = true;
    let cutAt = -1;
    const sender = (async () => {
      while (sending) {
        const action = n % 2 === 0 ? 'long' : 'close_long';
        const res = await h
          .webhook(a.alert(action, 'BTCUSDT', { quantity: 0.01, id: `r${n}` }))
          .catch(() => null);
        if (res && (res.status === 200 || res.status === 202)) {
          accepted.push({ id: res.body.signal_id as string, n });
          n++;
        }
        await sleep(100);
      }
    })();
    await sleep(3_000);
    cutAt = statSync(incrAof()).size;
    await sleep(1_000);
    const file = incrAof();
    redis?.kill('SIGKILL');
    await new Promise((r) => redis?.once('exit', r));
    truncateSync(file, cutAt); // the last second of writes is gone
    await startRedis();
    await sleep(3_000);
    sending = false;
    await sender;
    await h.simControl('latency', { ms: 0 });

    expect(accepted.length).toBeGreaterThan(10);
    const outcomes = await Promise.all(accepted.map((x) => h.waitForSignal(x.id, 90_000)));
    for (const o of outcomes) expect(['executed', 'ignored', 'failed', 'rejected']).toContain(o.status);
    // In order: the exchange saw buy, sell, buy, sell… (a long never placed twice in a row).
    const sides = (await h.simOrders(a)).filter((o) => o.symbol === 'BTCUSDT').map((o) => o.side as string);
    for (let i = 1; i < sides.length; i++)
      expect(sides[i], `order ${i}: ${sides.join(',')}`).not.toBe(sides[i - 1]);
    const { rows } = await h.pool.query<{ started: Date | null; id: string }>(
      `SELECT id, exec_started_at AS started FROM signals WHERE id = ANY($1::uuid[]) ORDER BY seq`,
      [accepted.map((x) => x.id)],
    );
    expect(rows.length).toBe(accepted.length);
    const view = await h.simAccount(a);
    const held = (view.positions as Array<{ qty: number }>).map((p) => Math.abs(Number(p.qty)));
    for (const q of held) expect(q).toBeLessThanOrEqual(0.01 + 1e-9);
  }, 240_000);
});
