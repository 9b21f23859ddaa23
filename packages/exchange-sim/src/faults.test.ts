import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, control, okxAccount, rejects } from '../test/support.ts';

const BTC = 'BTC/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

async function fault(body: Record<string, unknown>) {
  const r = await control(sim, 'POST', '/_sim/faults', body);
  expect(r).toMatchObject({ ok: true });
}

describe('fault injection observed through ccxt', () => {
  it('binance: 5xx, 429, error code, latency, timeout, drop after accept', async () => {
    const { ex, key } = await binanceAccount(sim, { timeout: 1000 });
    await ex.loadMarkets();

    await fault({ exchange: 'binance', path: '/fapi/v3/account', kind: 'http5xx', status: 503 });
    expect(await rejects(() => ex.fetchBalance())).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    await fault({ exchange: 'binance', path: '/fapi/v3/account', kind: 'http5xx', status: 502 });
    expect(await rejects(() => ex.fetchBalance())).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    await ex.fetchBalance(); // count consumed: back to normal

    await fault({ exchange: 'binance', path: '/fapi/v1/order', kind: 'rate_limit' });
    expect(await rejects(() => ex.createOrder(BTC, 'market', 'buy', 0.002))).toBeInstanceOf(
      ccxt.DDoSProtection,
    );

    await fault({
      exchange: 'binance',
      method: 'POST',
      path: '/\\/fapi\\/v1\\/order$/',
      kind: 'error_code',
      code: -2019,
      msg: 'Margin is insufficient.',
    });
    expect(await rejects(() => ex.createOrder(BTC, 'market', 'buy', 0.002))).toBeInstanceOf(
      ccxt.InsufficientFunds,
    );

    await fault({ exchange: 'binance', path: '/fapi/v1/time', kind: 'latency', latency_ms: 300 });
    const t0 = performance.now();
    await ex.fetchTime();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);

    await fault({ exchange: 'binance', path: '/fapi/v1/order', method: 'POST', kind: 'timeout' });
    const e1 = await rejects(() =>
      ex.createOrder(BTC, 'market', 'buy', 0.002, undefined, { clientOrderId: 'tmo1' }),
    );
    expect(e1).toBeInstanceOf(ccxt.RequestTimeout);
    expect(
      await rejects(() => ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'tmo1' })),
    ).toBeInstanceOf(ccxt.OrderNotFound);

    await fault({ exchange: 'binance', path: '/fapi/v1/order', method: 'POST', kind: 'drop_after_accept' });
    const e2 = await rejects(() =>
      ex.createOrder(BTC, 'market', 'buy', 0.002, undefined, { clientOrderId: 'drop1' }),
    );
    expect(e2).toBeInstanceOf(ccxt.NetworkError);
    // the order exists although the client never saw the answer
    const found = await ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'drop1' });
    expect(found).toMatchObject({ status: 'closed', filled: 0.002 });
    const log = (await control(sim, 'GET', `/_sim/orders?exchange=binance&api_key=${key}`)) as {
      orders: Array<Record<string, unknown>>;
    };
    expect(log.orders.map((o) => o['client_id'])).toEqual(['drop1']);
  });

  it('okx: 5xx, 429, error code, timeout, drop after accept', async () => {
    const { ex } = await okxAccount(sim, { timeout: 1000 });
    await ex.loadMarkets();
    await fault({ exchange: 'okx', path: 'account/balance', kind: 'http5xx', status: 500 });
    expect(await rejects(() => ex.fetchBalance())).toBeInstanceOf(ccxt.ExchangeNotAvailable);

    await fault({ exchange: 'okx', path: 'batch-orders', kind: 'rate_limit' });
    const rl = await rejects(() => ex.createOrder(BTC, 'market', 'buy', 1));
    expect(rl).toBeInstanceOf(ccxt.RateLimitExceeded);

    await fault({
      exchange: 'okx',
      path: 'batch-orders',
      kind: 'error_code',
      code: '51008',
      msg: 'Insufficient margin',
    });
    expect(await rejects(() => ex.createOrder(BTC, 'market', 'buy', 1))).toBeInstanceOf(
      ccxt.InsufficientFunds,
    );

    await fault({ exchange: 'okx', path: 'batch-orders', kind: 'timeout' });
    expect(
      await rejects(() => ex.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'oktmo1' })),
    ).toBeInstanceOf(ccxt.RequestTimeout);
    expect(
      await rejects(() => ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'oktmo1' })),
    ).toBeInstanceOf(ccxt.OrderNotFound);

    await fault({ exchange: 'okx', path: 'batch-orders', kind: 'drop_after_accept' });
    expect(
      await rejects(() => ex.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'okdrop1' })),
    ).toBeInstanceOf(ccxt.NetworkError);
    expect((await ex.fetchOrder(undefined as never, BTC, { clientOrderId: 'okdrop1' })).status).toBe(
      'closed',
    );
  });

  it('faults match only their exchange/method/path and expire after count', async () => {
    const { ex } = await binanceAccount(sim);
    await fault({ exchange: 'okx', path: '/', kind: 'http5xx', count: 5 });
    await ex.fetchTime(); // binance untouched
    const faults = (await control(sim, 'GET', '/_sim/faults')) as { faults: Array<Record<string, unknown>> };
    expect(faults.faults[0]).toMatchObject({ remaining: 5, kind: 'http5xx' });
    await control(sim, 'DELETE', '/_sim/faults');
    expect(((await control(sim, 'GET', '/_sim/faults')) as { faults: unknown[] }).faults).toHaveLength(0);
    expect((await control(sim, 'POST', '/_sim/faults', { kind: 'nope' }))['ok']).toBe(false);
  });

  it('global latency applies to every exchange request', async () => {
    const { ex } = await binanceAccount(sim);
    await control(sim, 'POST', '/_sim/latency', { ms: 100 });
    try {
      const t0 = performance.now();
      await ex.fetchTime();
      expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    } finally {
      await control(sim, 'POST', '/_sim/latency', { ms: 0 });
    }
  });
});
