import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, control, okxAccount, setPrice } from '../test/support.ts';

/**
 * Two reduce-only stops on one position (what a resize after a partial close leaves for a moment): both are
 * accepted, since conditional orders are not checked against the position when placed (Binance USDⓈ-M "New
 * Algo Order": the order waits in the Algo Service; OKX "Place algo order"); when both trigger, the first
 * closes the position and the second finds nothing to reduce and ends without a fill (Binance ALGO_UPDATE
 * REJECTED/EXPIRED, OKX failCode 51169) — never a position on the other side.
 */
const ETH = 'ETH/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

async function algoLog(exchange: string, key: string) {
  const log = (await control(sim, 'GET', `/_sim/orders?exchange=${exchange}&api_key=${key}`)) as {
    orders: Array<Record<string, unknown>>;
  };
  return log.orders.filter((o) => o['kind'] === 'algo').map((o) => [o['client_id'], o['status']]);
}

describe('two reduce-only stops for one position', () => {
  it('binance: both accepted; on trigger one closes, the other expires; no short opens', async () => {
    await setPrice(sim, 'ETHUSDT', 3000);
    const { ex, key } = await binanceAccount(sim);
    await ex.createOrder(ETH, 'market', 'buy', 0.5, undefined, { clientOrderId: 'e1' });
    await ex.createOrder(ETH, 'market', 'sell', 0.5, undefined, {
      stopLossPrice: 2900,
      reduceOnly: true,
      clientOrderId: 'oldsl',
    });
    await ex.createOrder(ETH, 'market', 'sell', 0.2, undefined, { reduceOnly: true, clientOrderId: 'x1' });
    const second = await ex.createOrder(ETH, 'market', 'sell', 0.3, undefined, {
      stopLossPrice: 2900,
      reduceOnly: true,
      clientOrderId: 'newsl',
    });
    expect(second.status).toBe('open');
    expect(await ex.fetchOpenOrders(ETH, undefined, undefined, { trigger: true })).toHaveLength(2);
    await setPrice(sim, 'ETHUSDT', 2890);
    expect(await ex.fetchPositions([ETH])).toHaveLength(0);
    expect(await algoLog('binance', key)).toEqual([
      ['oldsl', 'triggered'],
      ['newsl', 'expired'],
    ]);
  });

  it('okx: both accepted; on trigger one closes, the other expires; no short opens', async () => {
    await setPrice(sim, 'ETH-USDT-SWAP', 3000);
    const { ex, key } = await okxAccount(sim);
    await ex.createOrder(ETH, 'market', 'buy', 5, undefined, { clientOrderId: 'e1' }); // 0.5 ETH
    await ex.createOrder(ETH, 'market', 'sell', 5, undefined, {
      stopLossPrice: 2900,
      reduceOnly: true,
      algoClOrdId: 'oldsl',
    });
    await ex.createOrder(ETH, 'market', 'sell', 2, undefined, { reduceOnly: true, clientOrderId: 'x1' });
    const second = await ex.createOrder(ETH, 'market', 'sell', 3, undefined, {
      stopLossPrice: 2900,
      reduceOnly: true,
      algoClOrdId: 'newsl',
    });
    expect(second.id).toBeTruthy();
    const pending = await ex.fetchOpenOrders(ETH, undefined, undefined, {
      trigger: true,
      ordType: 'conditional',
    });
    expect(pending).toHaveLength(2);
    await setPrice(sim, 'ETH-USDT-SWAP', 2890);
    expect(await ex.fetchPositions([ETH])).toHaveLength(0);
    expect(await algoLog('okx', key)).toEqual([
      ['oldsl', 'triggered'],
      ['newsl', 'expired'],
    ]);
  });
});
