import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { okxAccount, setPrice } from '../test/support.ts';

// OKX v5 "Place order" ordType limit / post_only / ioc / fok, through the real ccxt client (sizes in contracts).
const BTC = 'BTC/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe('okx limit orders via ccxt', () => {
  it('limit rests, fills when the price walks through it; the other is canceled', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim);
    const o = await ex.createOrder(BTC, 'limit', 'buy', 2, 59000);
    const other = await ex.createOrder(BTC, 'limit', 'buy', 2, 58000);
    expect(await ex.fetchOrder(o.id as string, BTC)).toMatchObject({ status: 'open', filled: 0 });
    await setPrice(sim, 'BTC-USDT-SWAP', 58900);
    expect(await ex.fetchOrder(o.id as string, BTC)).toMatchObject({
      status: 'closed',
      filled: 2,
      average: 59000,
    });
    await ex.cancelOrder(other.id as string, BTC);
    expect(await ex.fetchOrder(other.id as string, BTC)).toMatchObject({ status: 'canceled' });
  });

  it('post_only that would take is accepted and canceled (cancelSource 31); one that rests fills as maker', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim);
    const taker = await ex.createOrder(BTC, 'limit', 'buy', 1, 60000, { postOnly: true });
    const t = await ex.fetchOrder(taker.id as string, BTC);
    expect(t).toMatchObject({ status: 'canceled', filled: 0, postOnly: true });
    expect((t.info as { cancelSource: string }).cancelSource).toBe('31');
    const maker = await ex.createOrder(BTC, 'limit', 'buy', 1, 59500, { postOnly: true });
    expect(await ex.fetchOrder(maker.id as string, BTC)).toMatchObject({ status: 'open' });
    await setPrice(sim, 'BTC-USDT-SWAP', 59400);
    const trades = await ex.fetchMyTrades(BTC);
    expect(trades.find((x) => x.order === maker.id)).toMatchObject({ takerOrMaker: 'maker', price: 59500 });
  });

  it('ioc / fok that cannot fill are canceled; marketable ones fill', async () => {
    await setPrice(sim, 'BTC-USDT-SWAP', 60000);
    const { ex } = await okxAccount(sim);
    for (const timeInForce of ['IOC', 'FOK']) {
      const miss = await ex.createOrder(BTC, 'limit', 'buy', 1, 59000, { timeInForce });
      const m = await ex.fetchOrder(miss.id as string, BTC);
      expect(m).toMatchObject({ status: 'canceled', filled: 0 });
      expect((m.info as { ordType: string }).ordType).toBe(timeInForce.toLowerCase());
      const hit = await ex.createOrder(BTC, 'limit', 'buy', 1, 60100, { timeInForce });
      expect(await ex.fetchOrder(hit.id as string, BTC)).toMatchObject({ status: 'closed', filled: 1 });
    }
  });
});
