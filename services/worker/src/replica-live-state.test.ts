/**
 * Two worker replicas, each with its own streams for the same account. Signals of one (account, symbol) run in
 * order whichever replica takes them; a replica that sent nothing itself must still not decide from a stream
 * that has not yet shown the other replica's last order (worker ↔ simulator ↔ Postgres, real ccxt pro).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalisedSignal } from '@tradehook/contracts';
import { createSimAccount, simAccount, simControl, type SimAccount } from '../test/support.ts';
import { startWorkerSuite, type WorkerSuite } from '../test/suite.ts';

const ETH = 'ETH/USDT:USDT';
const OTHER = 'replica-b';
let suite: WorkerSuite;

beforeAll(async () => {
  suite = await startWorkerSuite({ name: 'replica', exchanges: ['binance', 'okx'] });
  await suite.addWorker('binance', OTHER, {});
  await suite.addWorker('okx', OTHER, {});
});

afterAll(async () => {
  await suite?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['binance', 'okx'] as const)('%s', (exchange) => {
  let acct: SimAccount;
  const viaA = (f: Omit<NormalisedSignal, 'account_id' | 'exchange'>) => suite.run(acct, f);
  const viaB = (f: Omit<NormalisedSignal, 'account_id' | 'exchange'>) =>
    suite.run(acct, f, suite.queue(exchange, OTHER));

  beforeAll(async () => {
    acct = await createSimAccount(suite.sim.url, suite.pool, suite.publicKey, { exchange });
    // Both replicas open the account's streams (a close with nothing open is a no-op).
    for (const run of [viaA, viaB]) await run({ action: 'close_long', symbol: ETH });
    await sleep(1_000);
  });

  it('an entry on the replica that did not send the previous order waits for its stream to show it', async () => {
    // Every event to this account's connections (both replicas) arrives 4 s late; pings still answer.
    await simControl(suite.sim.url, 'streams/delay', { exchange, api_key: acct.apiKey, ms: 4_000 });
    try {
      const first = await viaA({ action: 'long', symbol: ETH, quantity: 0.1 });
      expect(first.status, first.reason ?? '').toBe('executed');
      await sleep(1_700); // past the grace after an order answered
      // allow_add is off: the second long must see the first one's position, although replica B's stream
      // does not show it yet and B sent nothing itself.
      const second = await viaB({ action: 'long', symbol: ETH, quantity: 0.1 });
      expect(second.status, second.reason ?? '').toBe('ignored');
      expect(second.results['state']).toMatchObject({ positions: 'rest' });
    } finally {
      await simControl(suite.sim.url, 'streams/delay', { exchange, api_key: acct.apiKey, ms: 0 });
    }
    const positions = (await simAccount(suite.sim.url, acct)).positions.filter((p) => p.qty !== 0);
    expect(positions.map((p) => p.qty)).toEqual([0.1]);
  });
});
