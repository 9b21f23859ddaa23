/**
 * A symbol's leverage changed outside this worker — the exchange's app, another replica — is pushed by Binance
 * (ACCOUNT_CONFIG_UPDATE on the user data stream): the next entry sets the leverage it wants again instead of
 * trusting what this process set before (worker ↔ simulator ↔ Postgres, real ccxt pro).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCcxtClient } from '@tradehook/exchange';
import { createSimAccount, simControl, type SimAccount } from '../test/support.ts';
import { startWorkerSuite, type WorkerSuite } from '../test/suite.ts';

const ETH = 'ETH/USDT:USDT';
let suite: WorkerSuite;
let acct: SimAccount;

beforeAll(async () => {
  suite = await startWorkerSuite({ name: 'leverage', exchanges: ['binance'] });
  acct = await createSimAccount(suite.sim.url, suite.pool, suite.publicKey, {
    exchange: 'binance',
    defaultLeverage: 5,
  });
});

afterAll(async () => {
  await suite?.close();
});

const simLeverage = async () => {
  const view = (await simControl(
    suite.sim.url,
    `accounts/binance/${encodeURIComponent(acct.apiKey)}`,
    undefined,
    'GET',
  )) as { account: { settings: Record<string, { leverage: number }> } };
  return view.account.settings['ETHUSDT']?.leverage;
};

it('an entry after the leverage was changed in the app sets its own again', async () => {
  const first = await suite.run(acct, { action: 'long', symbol: ETH, quantity: 0.1 });
  expect(first.status, first.reason ?? '').toBe('executed');
  expect(await simLeverage()).toBe(5);
  await suite.run(acct, { action: 'close_long', symbol: ETH });

  // The trader raises the leverage in the exchange's app (another client of the same account).
  const app = createCcxtClient({
    exchange: 'binance',
    credentials: { apiKey: acct.apiKey, apiSecret: acct.apiSecret },
    testnet: false,
    apiUrl: suite.sim.url,
    enableRateLimit: false,
  });
  await app.loadMarkets();
  await app.setLeverage(20, ETH);
  expect(await simLeverage()).toBe(20);
  await new Promise((r) => setTimeout(r, 500)); // the push reaches the worker's stream

  const second = await suite.run(acct, { action: 'long', symbol: ETH, quantity: 0.1 });
  expect(second.status, second.reason ?? '').toBe('executed');
  expect(await simLeverage()).toBe(5);
  await suite.run(acct, { action: 'close_long', symbol: ETH });
});
