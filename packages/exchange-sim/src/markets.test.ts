import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARKETS } from './markets.ts';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, okxAccount } from '../test/support.ts';

/**
 * What real ccxt makes of the listed markets. ADA and LTC against ccxt's recorded markets (ccxt/ccxt
 * ts/src/test/static/markets/binance.json and okx.json): the parsed precision, limits and contract size match.
 * binance.json writes precision as decimal places (ccxt's older mode): 0 and 4 for ADA are steps of 1 and 0.0001.
 */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const TEN = ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE', 'BNB', 'ADA', 'LTC', 'LINK', 'AVAX'];

describe('listed markets', () => {
  it('binance: ten USDT perpetuals; ADA and LTC as recorded', async () => {
    const { ex } = await binanceAccount(sim);
    await ex.loadMarkets();
    for (const base of TEN) expect(ex.market(`${base}/USDT:USDT`).swap, base).toBe(true);
    expect(ex.market('ADA/USDT:USDT')).toMatchObject({
      contractSize: 1,
      precision: { amount: 1, price: 0.0001 },
      limits: { amount: { min: 1, max: 2000000 }, market: { min: 1, max: 300000 }, cost: { min: 5 } },
    });
    expect(ex.market('LTC/USDT:USDT')).toMatchObject({
      precision: { amount: 0.001, price: 0.01 },
      limits: { amount: { min: 0.001, max: 10000 }, market: { max: 5000 }, cost: { min: 5 } },
    });
  });

  it('okx: ten USDT swaps; ADA and LTC as recorded', async () => {
    const { ex } = await okxAccount(sim);
    await ex.loadMarkets();
    for (const base of TEN) expect(ex.market(`${base}/USDT:USDT`).contract, base).toBe(true);
    expect(ex.market('ADA/USDT:USDT')).toMatchObject({
      contractSize: 100,
      precision: { amount: 0.1, price: 0.0001 },
      limits: { amount: { min: 0.1 }, leverage: { max: 50 } },
    });
    expect(ex.market('LTC/USDT:USDT')).toMatchObject({
      contractSize: 1,
      precision: { amount: 0.1, price: 0.01 },
      limits: { amount: { min: 0.1 }, leverage: { max: 50 } },
    });
  });

  it('lists exactly these, each starting at a price on its tick', () => {
    expect(MARKETS.map((m) => m.base)).toEqual(TEN);
    for (const m of MARKETS) {
      const ticks = m.defaultPrice / m.tickSize;
      expect(Math.abs(ticks - Math.round(ticks)), m.id).toBeLessThan(1e-6);
    }
  });
});
