/**
 * A symbol's leverage changed outside this worker — the exchange's app, another replica — is seen before the
 * next entry, which then sets the leverage it wants again instead of trusting what this process set before:
 * Binance pushes it (ACCOUNT_CONFIG_UPDATE on the user data stream), OKX is read back at each reconcile (it
 * pushes no leverage without a position). Worker ↔ simulator ↔ Postgres, real ccxt pro.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCcxtClient } from '@tradehook/exchange';
import { createSimAccount, simControl, type SimAccount } from '../test/support.ts';
import { startWorkerSuite, type WorkerSuite } from '../test/suite.ts';

const ETH = 'ETH/USDT:USDT';
/** OKX reads the leverage back at each reconcile: the shortest interval the configuration allows. */
const RECONCILE_MS = 5_000;
let suite: WorkerSuite;

beforeAll(async () => {
  suite = await startWorkerSuite({
    name: 'leverage',
    exchanges: ['binance', 'okx'],
    env: { LIVE_STATE_RECONCILE_MS: String(RECONCILE_MS) },
  });
});

afterAll(async () => {
  await suite?.close();
});

describe.each(['binance', 'okx'] as const)('%s', (exchange) => {
  let acct: SimAccount;
  beforeAll(async () => {
    acct = await createSimAccount(suite.sim.url, suite.pool, suite.publicKey, {
      exchange,
      defaultLeverage: 5,
    });
  });

  const simLeverage = async () => {
    const view = (await simControl(
      suite.sim.url,
      `accounts/${exchange}/${encodeURIComponent(acct.apiKey)}`,
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
      exchange,
      credentials: { apiKey: acct.apiKey, apiSecret: acct.apiSecret, passphrase: acct.passphrase },
      testnet: false,
      apiUrl: suite.sim.url,
      enableRateLimit: false,
    });
    await app.loadMarkets();
    await app.setLeverage(20, ETH, exchange === 'okx' ? { marginMode: 'cross' } : undefined);
    expect(await simLeverage()).toBe(20);
    // Binance: the push reaches the worker's stream at once; OKX: the next reconcile reads it.
    await new Promise((r) => setTimeout(r, exchange === 'binance' ? 500 : RECONCILE_MS + 1_500));

    const second = await suite.run(acct, { action: 'long', symbol: ETH, quantity: 0.1 });
    expect(second.status, second.reason ?? '').toBe('executed');
    expect(await simLeverage()).toBe(5);
    await suite.run(acct, { action: 'close_long', symbol: ETH });
  }, 30_000);
});
