import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES, sequenceKey, type NormalisedSignal, type SignalJob } from '@tradehook/contracts';
import { createPgPool, insertQueuedSignal, type pg } from '@tradehook/db';
import { createQueue, createRedis, type Queue, type Redis } from '@tradehook/queue';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../tests/support/index.ts';

/** `pnpm start:risk` as a process: config errors, a decision, and a clean exit on SIGTERM. */

let db: TestDatabase;
let pool: pg.Pool;
let prefix: string;
let redis: Redis;
let signals: Queue<SignalJob>;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 2 });
  prefix = testQueuePrefix();
  redis = createRedis(TEST_REDIS_URL, 'worker');
  signals = createQueue<SignalJob>(QUEUES.signals, redis, prefix);
});

afterAll(async () => {
  await signals?.close();
  redis?.disconnect();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

function startRisk(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/risk/src/main.ts'], {
    cwd: new URL('../../../', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', LOG_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  tries = 600,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('risk main', () => {
  it('refuses a bad configuration with a readable message', async () => {
    const risk = startRisk({
      DATABASE_URL: db.url,
      DEFAULT_MAX_LEVERAGE: '500',
      RISK_TIMEZONE: 'Nowhere/Land',
    });
    expect(await risk.exit).toBe(1);
    expect(risk.output()).toMatch(/DEFAULT_MAX_LEVERAGE/);
    expect(risk.output()).toMatch(/RISK_TIMEZONE: timezone must be an IANA time zone/);
  });

  it('decides signals and stops cleanly on SIGTERM', async () => {
    const risk = startRisk({
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info',
    });
    try {
      await until('start-up', () => (risk.output().includes('risk service started') ? true : undefined));
      const signal: NormalisedSignal = {
        account_id: 'ghost',
        exchange: 'okx',
        action: 'long',
        symbol: 'ETH/USDT:USDT',
      };
      const id = randomUUID();
      const seqKey = sequenceKey('okx', 'ghost', signal.symbol);
      await insertQueuedSignal(pool, {
        id,
        signal,
        dedupKey: `test:${id}`,
        seqKey,
        requestId: 'req-process',
        sourceIp: null,
        receivedAt: new Date(),
      });
      await signals.add(
        'signal',
        { signalId: id, requestId: 'req-process', receivedAt: Date.now(), signal },
        { jobId: id },
      );
      const row = await until('a decision', async () => {
        const { rows } = await pool.query(`SELECT status, reason FROM signals WHERE id = $1`, [id]);
        return rows[0]?.status === 'queued' ? undefined : rows[0];
      });
      expect(row).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/^account_not_found/) });
      await until('the decision log line', () =>
        /"message":"signal rejected".*"requestId":"req-process"|"requestId":"req-process".*"message":"signal rejected"/.test(
          risk.output(),
        )
          ? true
          : undefined,
      );
    } finally {
      risk.child.kill('SIGTERM');
    }
    expect(await risk.exit).toBe(0);
    expect(risk.output()).toMatch(/"message":"risk service stopped"/);
    expect(risk.output()).toMatch(/"clean":true/);
  });
});
