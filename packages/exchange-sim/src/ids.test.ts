import { afterEach, describe, expect, it } from 'vitest';
import { runSeededIds } from './engine.ts';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, okxAccount } from '../test/support.ts';

/**
 * A database that outlives the simulator (`pnpm demo` restarted) keeps its fills: a restarted simulator must
 * never hand out an order or trade id an earlier run did, and the ids keep the exchanges' shapes.
 */
const BTC = 'BTC/USDT:USDT';
const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function oneTradeOnEachExchange() {
  const sim = await startSimulator();
  running.push(sim);
  const { ex: binance } = await binanceAccount(sim);
  const { ex: okx } = await okxAccount(sim);
  const out = [];
  for (const ex of [binance, okx]) {
    const order = await ex.createOrder(BTC, 'market', 'buy', ex === binance ? 0.01 : 1);
    const [trade] = await ex.fetchMyTrades(BTC);
    out.push({
      orderId: String(order.id),
      tradeId: String(trade!.id),
      raw: trade!.info as Record<string, unknown>,
    });
  }
  await sim.close();
  running.length = 0;
  return out;
}

describe('simulator ids across runs', () => {
  it('a restarted simulator hands out ids above the previous run’s, in the exchanges’ shapes', async () => {
    const first = await oneTradeOnEachExchange();
    await new Promise((r) => setTimeout(r, 20));
    const second = await oneTradeOnEachExchange();
    for (const [i, venue] of ['binance', 'okx'].entries()) {
      const [a, b] = [first[i]!, second[i]!];
      for (const id of [a.orderId, a.tradeId, b.orderId, b.tradeId]) expect(id, venue).toMatch(/^\d+$/);
      expect(BigInt(b.tradeId), `${venue} trade id`).toBeGreaterThan(BigInt(a.tradeId));
      expect(BigInt(b.orderId), `${venue} order id`).toBeGreaterThan(BigInt(a.orderId));
    }
    // Binance sends numbers (id, orderId); OKX numeric strings (tradeId, ordId, billId).
    expect(typeof first[0]!.raw['id']).toBe('number');
    expect(typeof first[1]!.raw['tradeId']).toBe('string');
    expect(typeof first[1]!.raw['billId']).toBe('string');
  });

  it('keeps every kind in its own band and below Number.MAX_SAFE_INTEGER for decades', () => {
    const now = runSeededIds(Date.UTC(2026, 11, 2));
    const later = runSeededIds(Date.UTC(2056, 0, 1));
    const kinds = (Object.keys(now) as Array<keyof typeof now>).sort((x, y) => now[x] - now[y]);
    for (const [i, kind] of kinds.entries()) {
      expect(Number.isSafeInteger(later[kind])).toBe(true);
      expect(later[kind]).toBeGreaterThan(now[kind]);
      // Thirty years of one kind's ids stay below where the next kind starts.
      if (i + 1 < kinds.length) expect(later[kind]).toBeLessThan(now[kinds[i + 1]!]);
    }
  });
});
