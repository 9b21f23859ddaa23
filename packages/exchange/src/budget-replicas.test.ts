import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MARKETS, startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { deleteRedisPrefix, testQueuePrefix, TEST_REDIS_URL } from '../../../tests/support/index.ts';
import { allBudgets } from './budget.ts';
import { RedisBudgetStore } from './budget-redis.ts';
import { createCcxtClient, type CcxtClient } from './client.ts';

/**
 * Two replicas on one host reading trade histories for 25 accounts × 10 symbols each, all at once (a fill sync
 * that reads concurrently), through the real ccxt hook against the simulator at Binance's real weight limit
 * (2400/min per IP; userTrades weight 5). Each replica's reads alone fit its own budget; together they do not.
 * The exchange's counter (X-MBX-USED-WEIGHT-1M) arrives with answers, after the requests are out, so only the
 * shared window in Redis keeps the two under the limit: this test fails if that coordination is removed.
 * (rate-budget.test.ts in the worker runs the services' own load, which is sequential enough for the header.)
 */
const prefix = testQueuePrefix();
const connections: Redis[] = [];
let sim: Simulator | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await deleteRedisPrefix(prefix);
});

async function replicaClients(s: Simulator, host: string, shared: boolean, n: number): Promise<CcxtClient[]> {
  let store: RedisBudgetStore | undefined;
  if (shared) {
    const redis = new Redis(TEST_REDIS_URL);
    connections.push(redis);
    store = new RedisBudgetStore(redis, prefix);
  }
  // One process plays both replicas: without a store each needs its own egress name to get a budget of its own
  // (budgets are per process, venue and egress IP); the simulator sees 127.0.0.1 for both.
  const egressIp = shared ? host : `${host}-${Math.random().toString(36).slice(2, 8)}`;
  const clients: CcxtClient[] = [];
  for (let i = 0; i < n; i++) {
    const apiKey = `k${host}${n}x${i}${Math.random().toString(36).slice(2, 8)}`;
    await fetch(`${s.url}/_sim/accounts`, {
      method: 'POST',
      body: JSON.stringify({ exchange: 'binance', api_key: apiKey, api_secret: 's', balance: 1000 }),
    });
    clients.push(
      createCcxtClient({
        exchange: 'binance',
        credentials: { apiKey, apiSecret: 's' },
        testnet: false,
        apiUrl: s.url,
        egressIp,
        budget: { store },
      }),
    );
  }
  return clients;
}

/** Every client reads every symbol's trades at once; counts answers (any outcome). */
function readAll(clients: CcxtClient[]): { settled: () => number; total: number } {
  let settled = 0;
  for (const c of clients)
    for (const m of MARKETS)
      void c
        .fapiPrivateGetUserTrades({ symbol: m.id })
        .finally(() => settled++)
        .catch(() => undefined);
  return { settled: () => settled, total: clients.length * MARKETS.length };
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const queued = (host: string) =>
  [...allBudgets()].filter(([k]) => k.includes(host)).reduce((n, [, b]) => n + b.waitStats().sync.queued, 0);

describe('two replicas reading at once on one IP', () => {
  it('with the shared window: together within the background share, no 429', async () => {
    sim = await startSimulator();
    const host = `rep-${Math.random().toString(36).slice(2, 8)}`;
    const [ra, rb] = [await replicaClients(sim, host, true, 25), await replicaClients(sim, host, true, 25)];
    const [a, b] = [readAll(ra), readAll(rb)];
    const s = sim;
    // The share (60 % of 2400) is spent and answered; the rest waits in the budgets for the window to roll.
    await until(
      () =>
        s.rateLimits.stats.binance429 > 0 ||
        (a.settled() + b.settled() + queued(host) === a.total + b.total && queued(host) > 0),
      'reads neither answered nor queued',
    );
    expect(s.rateLimits.stats.binance429 + s.rateLimits.stats.binance418).toBe(0);
    expect(s.rateLimits.binanceUsedWeight('127.0.0.1')).toBeLessThanOrEqual(2400 * 0.6);
  }, 30_000);

  it('each with a budget of its own (EXCHANGE_BUDGET_REDIS=false): together over the limit, 429', async () => {
    sim = await startSimulator();
    const host = `rep-${Math.random().toString(36).slice(2, 8)}`;
    const [ra, rb] = [await replicaClients(sim, host, false, 25), await replicaClients(sim, host, false, 25)];
    expect(new Set([...allBudgets().keys()].filter((k) => k.includes(host))).size).toBe(2);
    readAll(ra);
    readAll(rb);
    const s = sim;
    await until(() => s.rateLimits.stats.binance429 > 0, 'two whole budgets stayed under the IP limit');
  }, 30_000);
});
