/**
 * Issue 16 items 1–2, end to end on both exchanges (worker ↔ simulator ↔ Postgres): per-alert sizing modes and
 * SL/TP in % or ATR from the fill price.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, type pg } from '@tradehook/db';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
import type { Exchange, NormalisedSignal } from '@tradehook/contracts';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../tests/support/index.ts';
import type { WorkerService } from './service.ts';
import {
  approvedSignal,
  createSimAccount,
  enqueueOrder,
  ordersQueueName,
  simAccount,
  startTestWorker,
  waitForSignal,
  type SimAccount,
} from '../test/support.ts';

const ETH = 'ETH/USDT:USDT';
let db: TestDatabase;
let pool: pg.Pool;
let sim: Simulator;
const prefix = testQueuePrefix();
const keys = generateCredentialsKeyPair();
const services: WorkerService[] = [];
const queues = new Map<Exchange, Queue>();
const redis = createRedis(TEST_REDIS_URL, 'worker');

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 4 });
  sim = await startSimulator({ rateLimits: { enabled: false } });
  for (const exchange of ['binance', 'okx'] as const) {
    services.push(
      await startTestWorker({
        exchange,
        databaseUrl: db.url,
        redisUrl: TEST_REDIS_URL,
        simUrl: sim.url,
        queuePrefix: prefix,
        credentialsPrivateKey: keys.privateKey,
        name: `worker-${exchange}-sizing`,
      }),
    );
    queues.set(exchange, createQueue(ordersQueueName(exchange), redis, prefix));
  }
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  for (const q of queues.values()) await q.close();
  redis.disconnect();
  await sim?.close();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

async function run(a: SimAccount, fields: Omit<NormalisedSignal, 'account_id' | 'exchange'>, lev = 1) {
  const job = await approvedSignal(pool, a, fields, { leverage: lev });
  await enqueueOrder(queues.get(a.exchange)!, job);
  const out = await waitForSignal(pool, job.signalId);
  return { ...out, results: (out.result?.['results'] ?? {}) as Record<string, Record<string, unknown>> };
}

describe.each(['binance', 'okx'] as const)('%s sizing and level forms', (exchange) => {
  let a: SimAccount;
  beforeAll(async () => {
    a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange, balance: 10_000 });
  });

  async function closeAll() {
    await run(a, { action: 'close_long', symbol: ETH });
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
  }

  it('notional: the USDT amount at the price', async () => {
    const out = await run(a, { action: 'long', symbol: ETH, notional: 300 });
    expect(out.status, out.reason ?? '').toBe('executed');
    const entry = out.results['entry']!;
    const notional = Number(entry['amount']) * Number(entry['average_price']);
    expect(notional).toBeGreaterThan(300 * 0.97);
    expect(notional).toBeLessThanOrEqual(300 * 1.01);
    await closeAll();
  });

  it('risk_pct with stop_loss_pct: the stop loses the given share of equity; SL/TP from the fill price', async () => {
    const out = await run(
      a,
      {
        action: 'long',
        symbol: ETH,
        risk_pct: 1,
        stop_loss_pct: 2,
        take_profit_pct: 4,
      },
      5,
    );
    expect(out.status, out.reason ?? '').toBe('executed');
    const entry = out.results['entry']!;
    const fill = Number(entry['average_price']);
    const amount = Number(entry['amount']);
    // 1 % of 10 000 USDT = 100 USDT lost at a stop 2 % below: amount × price × 0.02 ≈ 100 (precision rounds down).
    expect(amount * fill * 0.02).toBeGreaterThan(90);
    expect(amount * fill * 0.02).toBeLessThanOrEqual(101);
    const sl = Number(out.results['stop_loss']!['trigger_price']);
    const tp = Number(out.results['take_profit']!['trigger_price']);
    expect(Math.abs(sl - fill * 0.98)).toBeLessThan(fill * 0.001);
    expect(Math.abs(tp - fill * 1.04)).toBeLessThan(fill * 0.001);
    const view = await simAccount(sim.url, a);
    expect(view.open_algo_orders).toHaveLength(2);
    await closeAll();
  });

  it('balance_pct: that share of the available balance × leverage', async () => {
    const out = await run(a, { action: 'long', symbol: ETH, balance_pct: 5 }, 2);
    expect(out.status, out.reason ?? '').toBe('executed');
    const entry = out.results['entry']!;
    const notional = Number(entry['amount']) * Number(entry['average_price']);
    const available = 10_000; // roughly: earlier trades moved it by fees and small PnL only
    expect(notional).toBeGreaterThan(available * 0.05 * 2 * 0.9);
    expect(notional).toBeLessThan(available * 0.05 * 2 * 1.1);
    await closeAll();
  });

  it('refuses an explicit notional over the position cap with the reason, sending nothing', async () => {
    const job = await approvedSignal(
      pool,
      a,
      { action: 'long', symbol: ETH, notional: 5_000 },
      {
        maxPositionNotional: 1_000,
      },
    );
    await enqueueOrder(queues.get(exchange)!, job);
    const out = await waitForSignal(pool, job.signalId);
    expect(out.status).toBe('failed');
    expect(out.reason).toMatch(/would exceed the limit of 1000 USDT/);
    expect((await simAccount(sim.url, a)).positions).toEqual([]);
  });
});

describe('okx contracts sizing', () => {
  it('contracts × the contract size', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange: 'okx' });
    const out = await run(a, { action: 'long', symbol: ETH, contracts: 3 });
    expect(out.status, out.reason ?? '').toBe('executed');
    const markets = (await (await fetch(`${sim.url}/_sim/markets`)).json()) as {
      markets: Array<{ symbol: string; ctVal: number }>;
    };
    const ctVal = markets.markets.find((m) => m.symbol === ETH)?.ctVal ?? 0.1;
    expect(Number(out.results['entry']!['amount'])).toBeCloseTo(3 * ctVal, 8);
  });
});
