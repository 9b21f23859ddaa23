import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { sharedBudget } from './budget.ts';
import { classify, effectivePriority } from './budget-hook.ts';
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

  it('counts each request at the weight the exchange counts (ccxt under-counts some v2/v3 endpoints)', async () => {
    const ip = `ip-${Math.random().toString(36).slice(2)}`;
    const key = `kw${Date.now()}`;
    await fetch(`${sim.url}/_sim/accounts`, {
      method: 'POST',
      body: JSON.stringify({ exchange: 'binance', api_key: key, api_secret: 's', balance: 1000 }),
    });
    const c = createCcxtClient({
      exchange: 'binance',
      credentials: { apiKey: key, apiSecret: 's' },
      testnet: false,
      apiUrl: sim.url,
      egressIp: ip,
    });
    const budget = sharedBudget('binance', ip, { capacity: 1, windowMs: 1 });
    // The simulator counts per socket address: other tests' requests are in its figure, so compare deltas.
    const simUsed = () => {
      const headers = c.last_response_headers as Record<string, string>;
      const name = Object.keys(headers).find((k) => k.toLowerCase() === 'x-mbx-used-weight-1m');
      return Number(name === undefined ? NaN : headers[name]);
    };
    await c.fetchTime();
    const [sim0, own0] = [simUsed(), budget.spentWeight()];
    await c.fapiPrivateV3GetPositionRisk();
    await c.fapiPrivateV3GetAccount();
    await c.fapiPrivateGetUserTrades({ symbol: 'BTCUSDT' });
    expect(simUsed() - sim0).toBe(5 + 5 + 5);
    expect(budget.spentWeight() - own0).toBe(5 + 5 + 5);
  });

  it('ranks exits over orders over status over fill sync', () => {
    expect(classify('order', 'POST', { reduceOnly: 'true' })).toBe('exit');
    expect(classify('order', 'POST', {})).toBe('order');
    expect(classify('positionRisk', 'GET', {})).toBe('status');
    expect(classify('userTrades', 'GET', {})).toBe('sync');
    expect(classify('trade/fills', 'GET', {})).toBe('sync');
  });

  it('reads take the class of the work they serve; orders are only ever raised', () => {
    expect(effectivePriority('status', 'sync')).toBe('sync'); // a stream snapshot is background
    expect(effectivePriority('status', 'exit')).toBe('exit'); // an exit's position read
    expect(effectivePriority('sync', 'order')).toBe('order');
    expect(effectivePriority('order', 'sync')).toBe('order'); // a cancel from the fill sync stays an order
    expect(effectivePriority('order', 'exit')).toBe('exit');
    expect(effectivePriority('exit', 'sync')).toBe('exit');
    expect(effectivePriority('status', undefined)).toBe('status');
  });
});
