/** ORDER_TRADE_UPDATE for resting limits: partial fills and the canceled remainder, through ccxt pro. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../server.ts';
import { control, setPrice } from '../../test/support.ts';
import { proBinance, waitFor } from './pro-test-helpers.ts';

const SYM = 'BTC/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe('Binance limit order events', () => {
  it('pushes the partial fill (maker) and then the canceled remainder', async () => {
    const { ex, key } = await proBinance(sim);
    await ex.loadMarkets();
    await setPrice(sim, SYM, 60000);
    await control(sim, 'POST', '/_sim/limit-depth', { symbol: 'BTCUSDT', qty: 0.004 });
    try {
      const orders = ex.watchOrders(SYM);
      await waitFor(() => sim.streams.hub.find({ exchange: 'binance', apiKey: key }).length > 0);
      const placed = await ex.createOrder(SYM, 'limit', 'buy', 0.01, 59000);
      expect((await orders).find((x) => x.id === placed.id)).toMatchObject({ status: 'open', filled: 0 });
      // Each action once (a repeated price tick would fill again), then the next push.
      const nextPart = ex.watchOrders(SYM);
      await setPrice(sim, SYM, 58950);
      const part = await nextPart;
      const p = part.find((x) => x.id === placed.id);
      expect(p).toMatchObject({ status: 'open', filled: 0.004, remaining: 0.006 });
      expect((p?.info as { X: string }).X).toBe('PARTIALLY_FILLED');
      const nextGone = ex.watchOrders(SYM);
      await ex.cancelOrder(String(placed.id), SYM);
      const gone = await nextGone;
      expect(gone.find((x) => x.id === placed.id)).toMatchObject({ status: 'canceled', filled: 0.004 });
    } finally {
      await control(sim, 'POST', '/_sim/limit-depth', { symbol: 'BTCUSDT', qty: 0 });
      await ex.close();
    }
  });
});
