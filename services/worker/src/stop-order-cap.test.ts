/**
 * Binance holds at most 10 open conditional orders per symbol (exchangeInfo MAX_NUM_ALGO_ORDERS; past it a stop
 * is refused with -4045). An entry whose protection would not fit is refused before anything is sent (counted
 * from the stream's open orders, or by REST when the stream cannot be used and a position is open) instead of
 * being opened, losing its stop and being flattened at once (worker ↔ simulator ↔ Postgres, real ccxt).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NormalisedSignal } from '@tradehook/contracts';
import { createSimAccount, simAccount, simOrders, type SimAccount } from '../test/support.ts';
import { startWorkerSuite, type WorkerSuite } from '../test/suite.ts';

const ETH = 'ETH/USDT:USDT';
const REST_ONLY = 'cap-rest';
let suite: WorkerSuite;
let acct: SimAccount;

beforeAll(async () => {
  suite = await startWorkerSuite({ name: 'cap', exchanges: ['binance'] });
  await suite.addWorker('binance', REST_ONLY, { LIVE_STATE: 'false' });
  acct = await createSimAccount(suite.sim.url, suite.pool, suite.publicKey, {
    exchange: 'binance',
    allowAdd: true,
  });
});

afterAll(async () => {
  await suite?.close();
});

type Fields = Omit<NormalisedSignal, 'account_id' | 'exchange'>;
/** A long of 0.1 ETH with a stop and `tps` take-profits: 1 + tps conditional orders. */
const long = (tps: number): Fields => ({
  action: 'long',
  symbol: ETH,
  quantity: 0.1,
  stop_loss: 2800,
  ...(tps === 1
    ? { take_profit: 3300 }
    : { take_profits: Array.from({ length: tps }, (_, i) => ({ price: 3100 + i * 50, share: 100 / tps })) }),
});
/** Past LIVE_STATE_OWN_ORDER_GRACE_MS (1.5 s) after the account's last order: the stream state is used. */
const pastGrace = () => new Promise((r) => setTimeout(r, 1_700));
const entries = async () => (await simOrders(suite.sim.url, acct)).filter((o) => o['kind'] !== 'algo');

it('refuses an entry whose SL/TP would exceed the 10 open stop orders of the symbol, before sending it', async () => {
  for (const tps of [3, 3]) {
    const out = await suite.run(acct, long(tps));
    expect(out.status, out.reason ?? '').toBe('executed');
  }
  expect((await simAccount(suite.sim.url, acct)).open_algo_orders).toHaveLength(8);
  const sent = (await entries()).length;

  // 8 open + 4 → refused, from the stream's open orders and by REST.
  await pastGrace();
  const fromStream = await suite.run(acct, long(3));
  expect(fromStream.status, fromStream.reason ?? '').toBe('failed');
  expect(fromStream.reason).toBe(
    "ETH/USDT:USDT has 8 open stop/take-profit orders and this entry's protection needs 4 more; the exchange holds at most 10 per symbol",
  );
  const byRest = await suite.run(acct, long(3), suite.queue('binance', REST_ONLY));
  expect(byRest.status).toBe('failed');
  expect(byRest.reason).toMatch(/has 8 open stop\/take-profit orders .* needs 4 more/);
  expect(await entries()).toHaveLength(sent);

  // 8 open + 2 = 10 fits exactly; then nothing more does.
  await pastGrace();
  const fits = await suite.run(acct, long(1));
  expect(fits.status, fits.reason ?? '').toBe('executed');
  expect((await simAccount(suite.sim.url, acct)).open_algo_orders).toHaveLength(10);
  await pastGrace();
  const full = await suite.run(acct, { action: 'long', symbol: ETH, quantity: 0.1, stop_loss: 2800 });
  expect(full.status).toBe('failed');
  expect(full.reason).toMatch(/has 10 open stop\/take-profit orders .* needs 1 more/);
  expect(await entries()).toHaveLength(sent + 1);
});
