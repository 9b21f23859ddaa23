import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOrderId, sequenceKey, type NormalisedSignal } from '@tradehook/contracts';
import { createTestDatabase, type TestDatabase } from '../../../../tests/support/index.ts';
import { createPgPool, type pg } from '../client.ts';
import {
  findOrdersBySignal,
  findOrdersBySignalAndLastMarketSend,
  insertPlannedOrders,
  markOrderSent,
  planSignalOrders,
  type NewOrder,
} from './orders.ts';
import { insertQueuedSignal } from './signals.ts';

let db: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 2, onError: () => undefined });
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

async function recordedSignal(): Promise<string> {
  const id = randomUUID();
  const signal: NormalisedSignal = {
    account_id: 'po',
    exchange: 'binance',
    action: 'long',
    symbol: 'BTC/USDT:USDT',
  };
  await insertQueuedSignal(pool, {
    id,
    signal,
    dedupKey: `test:${id}`,
    seqKey: sequenceKey('binance', 'po', signal.symbol),
    requestId: 'req-po',
    sourceIp: null,
    receivedAt: new Date(),
  });
  return id;
}

const leg = (signalId: string, kind: 'entry' | 'stop_loss' | 'take_profit', part = 0): NewOrder => ({
  signalId,
  exchange: 'binance',
  accountId: 'po',
  clientOrderId: clientOrderId(signalId, kind, part),
  leg: kind,
  symbol: 'BTC/USDT:USDT',
  side: kind === 'entry' ? 'buy' : 'sell',
  positionSide: null,
  type: kind === 'entry' ? 'market' : kind,
  reduceOnly: kind !== 'entry',
  amount: 0.01,
});

describe('planSignalOrders', () => {
  it('returns every leg of the signal in one statement, as findOrdersBySignal lists them, earlier legs first', async () => {
    const id = await recordedSignal();
    await insertPlannedOrders(pool, [leg(id, 'entry')]);
    // The take-profit is planned again (a retry): it is neither duplicated nor lost.
    await insertPlannedOrders(pool, [leg(id, 'take_profit', 1)]);
    const rows = await planSignalOrders(pool, id, [
      leg(id, 'take_profit', 2),
      leg(id, 'take_profit', 1),
      leg(id, 'stop_loss'),
    ]);
    expect(rows.map((r) => r.clientOrderId)).toEqual(
      (await findOrdersBySignal(pool, id)).map((r) => r.clientOrderId),
    );
    expect(rows.map((r) => r.leg)).toEqual(['entry', 'take_profit', 'stop_loss', 'take_profit']);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.status === 'pending' && r.sentAt === null && r.amount === 0.01)).toBe(true);
  });

  it('refuses legs of another signal rather than listing a mixture', async () => {
    const [a, b] = [await recordedSignal(), await recordedSignal()];
    await expect(planSignalOrders(pool, a, [leg(b, 'entry')])).rejects.toThrow(/another signal/);
    expect(await findOrdersBySignal(pool, b)).toEqual([]);
  });
});

describe('findOrdersBySignalAndLastMarketSend', () => {
  const of = (signalId: string) => ({ signalId, exchange: 'binance' as const, accountId: 'po' });
  it('lists the legs as findOrdersBySignal does, with the age of the account’s latest market send', async () => {
    const earlier = await recordedSignal();
    await insertPlannedOrders(pool, [leg(earlier, 'entry'), leg(earlier, 'stop_loss')]);
    const id = await recordedSignal();
    // No leg yet, nothing sent: no rows, no age.
    expect(await findOrdersBySignalAndLastMarketSend(pool, of(id), 60_000)).toMatchObject({
      legs: [],
    });
    // Only market legs count, and only sends within the window.
    await markOrderSent(pool, clientOrderId(earlier, 'stop_loss'));
    await pool.query(`UPDATE orders SET sent_at = now() - interval '10 minutes' WHERE client_order_id = $1`, [
      clientOrderId(earlier, 'entry'),
    ]);
    expect((await findOrdersBySignalAndLastMarketSend(pool, of(id), 60_000)).lastMarketOrderAgeMs).toBeNull();
    await markOrderSent(pool, clientOrderId(earlier, 'entry'));
    await insertPlannedOrders(pool, [leg(id, 'entry'), leg(id, 'take_profit', 1)]);
    const read = await findOrdersBySignalAndLastMarketSend(pool, of(id), 60_000);
    expect(read.legs).toEqual(await findOrdersBySignal(pool, id));
    expect(read.legs).toHaveLength(2);
    expect(read.lastMarketOrderAgeMs).toBeGreaterThanOrEqual(0);
    expect(read.lastMarketOrderAgeMs).toBeLessThan(5_000);
  });
});
