import { describe, expect, it } from 'vitest';
import { RequestBudget, sharedBudget } from './budget.ts';

describe('RequestBudget', () => {
  it('lets an exit through before queued fill-sync reads once the window is full', async () => {
    const b = new RequestBudget({ capacity: 10, windowMs: 200, backgroundShare: 1 });
    const order: string[] = [];
    await b.acquire(10, 'sync');
    const reads = [1, 2, 3].map((i) => b.acquire(5, 'sync').then(() => order.push(`sync${i}`)));
    const exit = b.acquire(5, 'exit').then(() => order.push('exit'));
    await Promise.all([...reads, exit]);
    expect(order[0]).toBe('exit');
  });

  it('keeps headroom for orders that background reads cannot use', async () => {
    const b = new RequestBudget({ capacity: 10, windowMs: 10_000, backgroundShare: 0.5 });
    await b.acquire(5, 'sync');
    let synced = false;
    void b.acquire(1, 'sync').then(() => (synced = true));
    await b.acquire(5, 'order');
    await new Promise((r) => setTimeout(r, 20));
    expect(synced).toBe(false);
  });

  it('keeps a share for key checks and status reads that fill sync cannot take', async () => {
    const b = new RequestBudget({ capacity: 100, windowMs: 10_000 }); // defaults: sync 60 %, status 75 %
    await b.acquire(60, 'sync');
    let synced = false;
    void b.acquire(1, 'sync').then(() => (synced = true));
    const t0 = Date.now();
    await b.acquire(15, 'status'); // fits under 75 % although fill sync filled its 60 %
    expect(Date.now() - t0).toBeLessThan(1_000);
    let status = false;
    void b.acquire(1, 'status').then(() => (status = true));
    await new Promise((r) => setTimeout(r, 20));
    expect({ synced, status }).toEqual({ synced: false, status: false });
  });

  it('holds every class after a 429 until Retry-After, and counts weight the exchange reports', async () => {
    const b = new RequestBudget({ capacity: 100, windowMs: 60_000 });
    b.pause(150);
    const t0 = Date.now();
    await b.acquire(1, 'exit');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    b.observeUsed(100);
    let sent = false;
    void b.acquire(1, 'exit').then(() => (sent = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toBe(false);
  });

  it('is one object per venue and egress IP', () => {
    const o = { capacity: 1, windowMs: 1 };
    expect(sharedBudget('binance', 'a', o)).toBe(sharedBudget('binance', 'a', o));
    expect(sharedBudget('binance', 'a', o)).not.toBe(sharedBudget('okx', 'a', o));
  });
});
