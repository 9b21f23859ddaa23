import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix, testQueuePrefix, TEST_REDIS_URL } from '../../../tests/support/index.ts';
import { RequestBudget } from './budget.ts';
import { RedisBudgetStore } from './budget-redis.ts';

/** Two "replicas" = two budgets with their own Redis connections, sharing one window in the real Redis. */
const prefix = testQueuePrefix();
const connections: Redis[] = [];
function replica(
  capacity: number,
  windowMs: number,
  ip: string,
  extra: { fallbackShare?: number; onFallback?: (reason: string) => void } = {},
) {
  const redis = new Redis(TEST_REDIS_URL);
  connections.push(redis);
  const store = new RedisBudgetStore(redis, prefix);
  return new RequestBudget({
    capacity,
    windowMs,
    backgroundShare: 1,
    shared: store.window('binance', ip, windowMs),
    ...extra,
  });
}

afterAll(async () => {
  for (const c of connections) c.disconnect();
  await deleteRedisPrefix(prefix);
});

async function grantedWithin(b: RequestBudget, n: number, ms: number): Promise<number> {
  let granted = 0;
  for (let i = 0; i < n; i++) void b.acquire(1, 'sync').then(() => granted++);
  await new Promise((r) => setTimeout(r, ms));
  return granted;
}

describe('request budget shared through Redis', () => {
  it('two replicas together never spend more than the host capacity in a window', async () => {
    const a = replica(20, 60_000, 'h1');
    const b = replica(20, 60_000, 'h1');
    const [ga, gb] = await Promise.all([grantedWithin(a, 15, 300), grantedWithin(b, 15, 300)]);
    expect(ga + gb).toBe(20);
    // Another egress IP has a window of its own.
    expect(await grantedWithin(replica(20, 60_000, 'h2'), 5, 100)).toBe(5);
  });

  it('frees the window as it rolls, and a 429 pause seen by one replica holds the other', async () => {
    const a = replica(4, 600, 'h3');
    const b = replica(4, 600, 'h3');
    expect(await grantedWithin(a, 4, 150)).toBe(4);
    expect(await grantedWithin(b, 1, 100)).toBe(0);
    await new Promise((r) => setTimeout(r, 700)); // b's waiter gets its turn as the window rolls
    a.pause(400);
    const t0 = Date.now();
    await b.acquire(1, 'exit');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it("raises the shared count to the exchange's own counter (X-MBX-USED-WEIGHT-1M)", async () => {
    const a = replica(10, 60_000, 'h4');
    const b = replica(10, 60_000, 'h4');
    a.observeUsed(9);
    await new Promise((r) => setTimeout(r, 50));
    expect(await grantedWithin(b, 3, 100)).toBe(1);
  });

  it('falls back to its own share of the capacity when Redis is unreachable (fewer requests, not more)', async () => {
    const dead = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    dead.on('error', () => undefined);
    connections.push(dead);
    const fallbacks: string[] = [];
    const b = new RequestBudget({
      capacity: 20,
      windowMs: 60_000,
      backgroundShare: 1,
      fallbackShare: 0.25,
      shared: new RedisBudgetStore(dead, prefix).window('binance', 'h5', 60_000),
      onFallback: (reason) => fallbacks.push(reason),
    });
    expect(await grantedWithin(b, 20, 300)).toBe(5);
    expect(fallbacks.length).toBeGreaterThan(0); // told (tradehook_exchange_budget_fallbacks_total)
    // Exits keep the whole capacity: a slow or lost Redis never holds a stop-out behind the fallback share.
    let exits = 0;
    await Promise.all(Array.from({ length: 15 }, () => b.acquire(1, 'exit').then(() => exits++)));
    expect(exits).toBe(15);
  });

  it('counts fractional weights (ccxt prices some endpoints at 0.1) without losing the shared window', async () => {
    // HINCRBY refuses a fractional increment: every reservation of such a request failed, and the budget took
    // the failure for an unreachable Redis and fell back to its small share (a key check waited > 30 s).
    const fallbacks: string[] = [];
    const b = replica(20, 60_000, 'h7', { fallbackShare: 0.25, onFallback: (r) => fallbacks.push(r) });
    await b.acquire(0.1, 'sync');
    b.observeUsed(2.5); // the exchange's counter above ours by a fraction
    await b.acquire(0.1, 'exit');
    await new Promise((r) => setTimeout(r, 50));
    // Still on the shared window: on the fallback share (0.25 × 20) it would stop at 4 more.
    expect(await grantedWithin(b, 15, 300)).toBe(15);
    expect(fallbacks).toEqual([]);
    const other = replica(20, 60_000, 'h7');
    expect(await grantedWithin(other, 5, 100)).toBe(2); // the window counted 15 + 2.5 (observed), not 15.2
  });

  it('skips the round trip of an exchange counter not above the window the last reservation saw', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    connections.push(redis);
    const calls: string[] = [];
    // The real client, its script runs counted.
    const counted = {
      eval: (...a: Parameters<Redis['eval']>) => (calls.push('eval'), redis.eval(...a)),
      evalsha: (...a: Parameters<Redis['evalsha']>) => (calls.push('evalsha'), redis.evalsha(...a)),
    };
    const b = new RequestBudget({
      capacity: 10,
      windowMs: 60_000,
      backgroundShare: 1,
      shared: new RedisBudgetStore(counted, prefix).window('binance', 'h8', 60_000),
    });
    await b.acquire(2, 'sync');
    await b.acquire(1, 'sync');
    // After the first run of a script on a connection, only its hash is sent.
    expect(calls).toEqual(['eval', 'evalsha']);
    const afterReserve = calls.length;
    b.observeUsed(3); // what the window already counts: nothing to raise, nothing sent
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.length).toBe(afterReserve);
    b.observeUsed(8); // above it: raised
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.length).toBe(afterReserve + 1);
    expect(await grantedWithin(replica(10, 60_000, 'h8'), 5, 100)).toBe(2);
  });
});
