import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../packages/db/src/index.ts';
import { E2EHarness } from './harness.ts';

/**
 * A private PostgreSQL (own data dir and port) is stopped mid-flow for ~15 s while alerts keep arriving:
 * every service survives, the webhook answers 503 while the database is away (TradingView resends), and
 * afterwards every accepted alert is final and every order on the exchange has its row.
 */
const PG_BIN = '/usr/lib/postgresql/15/bin';
const dir = mkdtempSync(join(tmpdir(), 'tradehook-pg-'));
const dataDir = join(dir, 'data');
let port = 0;
let h: E2EHarness;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Postgres refuses to run as root: as root, its binaries run as the postgres user. */
const asOwner = (bin: string, args: string[]) =>
  process.getuid?.() === 0
    ? execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/${bin}`, ...args], { stdio: 'ignore' })
    : execFileSync(`${PG_BIN}/${bin}`, args, { stdio: 'ignore' });
const pgCtl = (...args: string[]) => asOwner('pg_ctl', ['-D', dataDir, '-w', '-t', '60', ...args]);
const startPg = () =>
  pgCtl('-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  port = await freePort();
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  asOwner('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  startPg();
  const admin = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE tradehook');
  await admin.end();
  const url = `postgresql://postgres@127.0.0.1:${port}/tradehook`;
  await applyMigrations(url);
  h = await E2EHarness.start({
    workers: { binance: 1, okx: 0 },
    database: { name: 'tradehook', url, drop: async () => undefined },
    env: { FILL_SYNC_INTERVAL_MS: '0', RISK_ORPHAN_AFTER_MS: '5000', RISK_SWEEP_INTERVAL_MS: '1000' },
  });
}, 180_000);

afterAll(async () => {
  await h?.stop();
  try {
    pgCtl('-m', 'immediate', 'stop');
  } catch {
    // already stopped
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('PostgreSQL outage', () => {
  it('every service survives a 15 s outage; afterwards every accepted alert is final and every order recorded', async () => {
    const a = await h.registerAccount('binance', { settings: { auto_sl_tp: false } });
    await h.simControl('latency', { ms: 300 }); // orders are on the wire when the database goes
    const accepted: string[] = [];
    const statuses: number[] = [];
    let n = 0;
    let sending = true;
    const sender = (async () => {
      while (sending) {
        const action = n % 2 === 0 ? 'long' : 'close_long';
        const res = await h.webhook(a.alert(action, 'BTCUSDT', { quantity: 0.01, id: `o${n}` }));
        statuses.push(res.status);
        if (res.status === 200 || res.status === 202) {
          accepted.push(res.body.signal_id as string);
          n++;
        }
        await sleep(250);
      }
    })();
    await sleep(2_000);
    pgCtl('-m', 'fast', 'stop'); // "terminating connection due to administrator command"
    await sleep(15_000);
    startPg();
    await sleep(4_000);
    sending = false;
    await sender;
    await h.simControl('latency', { ms: 0 });

    expect(statuses).toContain(503);
    for (const p of h.processes) expect(p.child.exitCode, `${p.name} exited`).toBeNull();
    const outcomes = await Promise.all(accepted.map((id) => h.waitForSignal(id, 90_000)));
    for (const o of outcomes) expect(['executed', 'ignored', 'failed', 'rejected']).toContain(o.status);
    const exchangeOrders = await h.simOrders(a);
    const { rows } = await h.pool.query<{ client_order_id: string }>(`SELECT client_order_id FROM orders`);
    const recorded = new Set(rows.map((r) => r.client_order_id));
    const missing = exchangeOrders.map((o) => String(o.client_id)).filter((id) => !recorded.has(id));
    expect(missing).toEqual([]);
  }, 240_000);
});
