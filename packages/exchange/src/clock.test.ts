import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createCcxtClient } from './client.ts';

/** Real ccxt signing against the simulator's timestamp check, with a host clock that drifts 10 s fast. */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

let skewMs = 0;

async function skewedClient(apiKey: string, apiSecret: string) {
  const c = createCcxtClient({
    exchange: 'binance',
    credentials: { apiKey, apiSecret },
    testnet: false,
    apiUrl: sim.url,
    enableRateLimit: false,
    adjustForTimeDifference: true,
  });
  c.milliseconds = () => Date.now() + skewMs;
  await c.loadMarkets();
  return c;
}

describe('shared venue clock', () => {
  it('one re-sync corrects every client of the venue, not only the one that synced', async () => {
    const apiKey = `kclock${Math.random().toString(36).slice(2, 10)}`;
    const apiSecret = `s${Math.random().toString(36).slice(2)}secret`;
    const res = await fetch(`${sim.url}/_sim/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ exchange: 'binance', api_key: apiKey, api_secret: apiSecret, balance: 1000 }),
    });
    expect(res.status).toBe(201);
    const first = await skewedClient(apiKey, apiSecret);
    const second = await skewedClient(apiKey, apiSecret);
    skewMs = 10_000;
    await first.loadTimeDifference();
    await expect(second.fetchBalance()).resolves.toBeDefined();
  });
});
