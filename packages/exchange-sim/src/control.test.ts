import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, control } from '../test/support.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    accounts: [{ exchange: 'okx', api_key: 'pre', api_secret: 's', passphrase: 'p', balance: 123 }],
  });
});
afterAll(async () => {
  await sim.close();
});

describe('control API', () => {
  it('pre-created accounts, account view, validation', async () => {
    const r = (await control(sim, 'GET', '/_sim/accounts/okx/pre')) as {
      account: { balance: { wallet: number }; position_mode: string };
    };
    expect(r.account.balance.wallet).toBe(123);
    expect(r.account.position_mode).toBe('oneway');
    expect((await control(sim, 'GET', '/_sim/accounts/okx/missing'))['ok']).toBe(false);
    expect(
      (await control(sim, 'POST', '/_sim/accounts', { exchange: 'okx', api_key: 'x', api_secret: 'y' }))[
        'ok'
      ],
    ).toBe(false); // passphrase
    expect(
      (await control(sim, 'POST', '/_sim/accounts', { exchange: 'kraken', api_key: 'x', api_secret: 'y' }))[
        'ok'
      ],
    ).toBe(false);
  });

  it('price accepts unified, Binance and OKX symbols', async () => {
    for (const [sym, px] of [
      ['BTC/USDT:USDT', 61000],
      ['ETHUSDT', 3100],
      ['SOL-USDT-SWAP', 155.5],
    ] as const) {
      await control(sim, 'POST', '/_sim/price', { symbol: sym, price: px });
    }
    const p = (await control(sim, 'GET', '/_sim/price')) as { prices: Record<string, number> };
    expect(p.prices).toMatchObject({ BTCUSDT: 61000, ETHUSDT: 3100, SOLUSDT: 155.5 });
    expect((await control(sim, 'POST', '/_sim/price', { symbol: 'NOPE', price: 1 }))['ok']).toBe(false);
  });

  it('seeded walk is deterministic', async () => {
    const other = await startSimulator();
    try {
      await control(sim, 'POST', '/_sim/reset');
      const a = (await control(sim, 'POST', '/_sim/walk', { steps: 50, seed: 7 })) as {
        prices: Record<string, number>;
      };
      const b = (await control(other, 'POST', '/_sim/walk', { steps: 50, seed: 7 })) as {
        prices: Record<string, number>;
      };
      expect(a.prices).toEqual(b.prices);
      expect(a.prices['BTCUSDT']).not.toBe(60000);
      const c = (await control(other, 'POST', '/_sim/walk', { steps: 50, seed: 8 })) as {
        prices: Record<string, number>;
      };
      expect(c.prices).not.toEqual(b.prices);
      const t = await control(sim, 'POST', '/_sim/walk', { interval_ms: 20 });
      expect(t['walking']).toBe(true);
      const before = sim.engine.price('BTCUSDT');
      await new Promise((r) => setTimeout(r, 120));
      expect(sim.engine.price('BTCUSDT')).not.toBe(before);
      await control(sim, 'POST', '/_sim/walk', { stop: true });
    } finally {
      await other.close();
    }
  });

  it('order log records arrival time with sub-ms precision; reset clears everything', async () => {
    await control(sim, 'POST', '/_sim/price', { symbol: 'BTCUSDT', price: 60000 });
    const { ex, key } = await binanceAccount(sim);
    const before = performance.timeOrigin + performance.now();
    await ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.002, undefined, { clientOrderId: 'arr1' });
    const after = performance.timeOrigin + performance.now();
    const log = (await control(sim, 'GET', `/_sim/orders?exchange=binance&api_key=${key}`)) as {
      orders: Array<Record<string, unknown>>;
    };
    expect(log.orders).toHaveLength(1);
    const o = log.orders[0] as Record<string, unknown>;
    expect(o).toMatchObject({
      kind: 'order',
      client_id: 'arr1',
      type: 'market',
      side: 'buy',
      qty: 0.002,
      status: 'filled',
    });
    const arrival = o['arrival_ms'] as number;
    expect(arrival).toBeGreaterThanOrEqual(before);
    expect(arrival).toBeLessThanOrEqual(after);
    const acct = (await control(sim, 'GET', `/_sim/accounts/binance/${key}`)) as {
      account: { positions: unknown[]; trades: unknown[] };
    };
    expect(acct.account.positions).toHaveLength(1);
    expect(acct.account.trades).toHaveLength(1);
    await control(sim, 'POST', '/_sim/reset');
    expect(((await control(sim, 'GET', '/_sim/orders')) as { orders: unknown[] }).orders).toHaveLength(0);
    expect(sim.engine.price('BTCUSDT')).toBe(60000);
    expect((await control(sim, 'GET', `/_sim/accounts/binance/${key}`))['ok']).toBe(false);
  });
});
