import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { sharedBudget } from './budget.ts';
import { classify } from './budget-hook.ts';
import { createCcxtClient } from './client.ts';

/** Real ccxt against the real simulator over HTTP: every account client spends from one per-IP budget. */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe('shared request budget hook', () => {
  it('counts the weight of every account client on one egress IP in one budget', async () => {
    const ip = `ip-${Math.random().toString(36).slice(2)}`;
    const clients = [1, 2, 3].map((i) =>
      createCcxtClient({
        exchange: 'binance',
        credentials: { apiKey: `k${i}`, apiSecret: `s${i}` },
        testnet: false,
        apiUrl: sim.url,
        egressIp: ip,
      }),
    );
    for (const c of clients) await c.fetchTime();
    // fapiPublic GET time has weight 1 (ccxt binanceusdm cost table).
    expect(sharedBudget('binance', ip, { capacity: 1, windowMs: 1 }).usedWeight()).toBeGreaterThanOrEqual(3);
  });

  it('ranks exits over orders over status over fill sync', () => {
    expect(classify('order', 'POST', { reduceOnly: 'true' })).toBe('exit');
    expect(classify('order', 'POST', {})).toBe('order');
    expect(classify('positionRisk', 'GET', {})).toBe('status');
    expect(classify('userTrades', 'GET', {})).toBe('sync');
    expect(classify('trade/fills', 'GET', {})).toBe('sync');
  });
});
