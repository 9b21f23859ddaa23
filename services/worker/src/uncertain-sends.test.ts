import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange, OrderJob } from '@tradehook/contracts';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createPgPool, type pg } from '@tradehook/db';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
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
  simControl,
  simOrders,
  waitForSignal,
  type SimAccount,
  startTestWorker,
} from '../test/support.ts';

/**
 * Sends whose outcome the worker cannot know (its request timed out, the answer came late, the exchange shows
 * the order late or unfilled): never a second order (docs/decisions/0016-uncertain-sends.md). Real ccxt
 * against the simulator, whose matching engine refuses requests that reach it after their recvWindow/expTime.
 * The client times out after 500 ms; a signed request is valid for 2 s (landing window 3 s).
 */
const BTC = 'BTC/USDT:USDT';
const ENTRY_PATH: Record<Exchange, string> = {
  binance: '/fapi/v1/order',
  okx: '/api/v5/trade/batch-orders',
};
const ALGO_PATH: Record<Exchange, string> = {
  binance: '/fapi/v1/algoOrder',
  okx: '/api/v5/trade/order-algo',
};

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
  // The worker runs here without its request budget (EXCHANGE_RATE_LIMIT=false), so the simulator does not
  // count weight either; the budget against the real limits is rate-budget.test.ts.
  sim = await startSimulator({ rateLimits: { enabled: false } });
  for (const exchange of ['binance', 'okx'] as const) {
    const service = await startTestWorker({
      exchange,
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      simUrl: sim.url,
      queuePrefix: prefix,
      credentialsPrivateKey: keys.privateKey,
      name: `worker-${exchange}-uncertain`,
      env: { EXCHANGE_TIMEOUT_MS: '500', EXCHANGE_RECV_WINDOW_MS: '2000', ORDER_SETTLE_MS: '1500' },
    });
    services.push(service);
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

async function run(job: OrderJob) {
  await enqueueOrder(queues.get(job.signal.exchange)!, job);
  return waitForSignal(pool, job.signalId, 30_000);
}

const settleUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

async function marketOrders(a: SimAccount) {
  return (await simOrders(sim.url, a)).filter((o) => o['kind'] === 'order');
}

describe.each(['binance', 'okx'] as const)('%s: uncertain sends', (exchange) => {
  afterAll(() => simControl(sim.url, 'faults', {}, 'DELETE'));

  // 900 and 1900 ms: the request lands after the client gave up; 2600 ms: it reaches the matching engine after
  // its validity and is refused there. Either way exactly one entry exists afterwards.
  it.each([900, 1900, 2600])('an entry that reaches the exchange %i ms late is sent once', async (ms) => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const path = ENTRY_PATH[exchange];
    await simControl(sim.url, 'faults', { exchange, method: 'POST', path, kind: 'latency', latency_ms: ms });
    const sentBy = Date.now();
    const out = await run(await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 }));
    expect(out.status, out.reason ?? '').toBe('executed');
    await settleUntil(sentBy + ms + 500); // the late request has landed (or been refused) by now
    const orders = await marketOrders(a);
    expect(orders.map((o) => [o['side'], o['qty'], o['status']])).toEqual([['buy', 0.01, 'filled']]);
  });

  it('an entry executed at once but answered after the timeout is adopted, not resent', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const path = ENTRY_PATH[exchange];
    await simControl(sim.url, 'faults', {
      exchange,
      method: 'POST',
      path,
      kind: 'late_answer',
      latency_ms: 900,
    });
    const out = await run(await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 }));
    expect(out.status, out.reason ?? '').toBe('executed');
    expect(out.result).toMatchObject({ results: { entry: { filled: 0.01, recovered: true } } });
    expect(await marketOrders(a)).toHaveLength(1);
  });

  it('a stop-loss whose answer is lost is placed once', async () => {
    const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
    const prices = (await (await fetch(`${sim.url}/_sim/prices`)).json()) as {
      prices: Record<string, number>;
    };
    const p = prices.prices['BTCUSDT']!;
    const path = ALGO_PATH[exchange];
    await simControl(sim.url, 'faults', { exchange, method: 'POST', path, kind: 'latency', latency_ms: 900 });
    const sentBy = Date.now();
    const out = await run(
      await approvedSignal(pool, a, {
        action: 'long',
        symbol: BTC,
        quantity: 0.01,
        stop_loss: Math.round(p * 0.95),
      }),
    );
    expect(out.status, out.reason ?? '').toBe('executed');
    await settleUntil(sentBy + 1500);
    const algos = (await simOrders(sim.url, a)).filter((o) => o['kind'] === 'algo');
    expect(algos).toHaveLength(1);
  });

  // An order the exchange shows late, or shows unfilled for a while, is still the one order: polled by client
  // id, never recorded as rejected or unfilled, never resent. 3000 ms outlasts ORDER_SETTLE_MS: the job retries.
  it.each([
    { visibility_ms: 800, fill_ms: 1200 },
    { visibility_ms: 0, fill_ms: 3000 },
  ])(
    'a market order reported late ($visibility_ms ms) or unfilled ($fill_ms ms) is recorded filled, once',
    async (lag) => {
      const a = await createSimAccount(sim.url, pool, keys.publicKey, { exchange });
      await simControl(sim.url, `accounts/${exchange}/${a.apiKey}`, { report_lag: lag }, 'PATCH');
      const job = await approvedSignal(pool, a, { action: 'long', symbol: BTC, quantity: 0.01 });
      const out = await run(job);
      expect(out.status, out.reason ?? '').toBe('executed');
      expect(out.result).toMatchObject({ results: { entry: { filled: 0.01, status: 'closed' } } });
      const { rows } = await pool.query<{ status: string; filled_amount: string }>(
        `SELECT status, filled_amount FROM orders WHERE signal_id = $1 AND leg = 'entry'`,
        [job.signalId],
      );
      expect(rows.map((r) => [r.status, Number(r.filled_amount)])).toEqual([['filled', 0.01]]);
      expect(await marketOrders(a)).toHaveLength(1);
    },
  );
});
