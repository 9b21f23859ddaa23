import ccxt from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, control, okxAccount, rejects, type Binance } from '../test/support.ts';

/** Real ccxt over HTTP; each test plays its own host through X-Forwarded-For (trusted only by this option). */
const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';
let sim: Simulator;
let hostN = 0;

beforeAll(async () => {
  sim = await startSimulator({ trustForwardedFor: true });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  await control(sim, 'POST', '/_sim/rate-limits', { real: true });
  await control(sim, 'DELETE', '/_sim/rate-limits/state');
});

function asHost<T extends { headers: Record<string, string> }>(ex: T, ip = `10.0.0.${++hostN}`): T {
  ex.headers = { ...ex.headers, 'X-Forwarded-For': ip };
  return ex;
}

const hdr = (ex: { last_response_headers: unknown }, name: string): string | undefined => {
  const h = (ex.last_response_headers ?? {}) as Record<string, string>;
  const k = Object.keys(h).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : h[k];
};

async function weightOf(ex: Binance, call: () => Promise<unknown>): Promise<number> {
  await ex.fetchTime();
  const before = Number(hdr(ex, 'x-mbx-used-weight-1m'));
  await call();
  return Number(hdr(ex, 'x-mbx-used-weight-1m')) - before;
}

describe('binance request weight per IP', () => {
  it('counts each endpoint at its documented weight, by parameter where the docs vary it', async () => {
    const { ex } = await binanceAccount(sim);
    asHost(ex);
    await ex.loadMarkets();
    expect(await weightOf(ex, () => ex.fetchMyTrades(BTC))).toBe(5);
    expect(await weightOf(ex, () => ex.fapiPrivateV3GetPositionRisk())).toBe(5);
    expect(await weightOf(ex, () => ex.fetchOpenOrders(BTC))).toBe(1);
    expect(await weightOf(ex, () => ex.fapiPrivateGetOpenOrders())).toBe(40); // no symbol
    // The Algo Service's open orders alike (conditional SL/TP): 1 with a symbol, 40 without.
    expect(await weightOf(ex, () => ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true }))).toBe(
      1,
    );
    expect(await weightOf(ex, () => ex.fapiPrivateGetOpenAlgoOrders())).toBe(40);
    expect(await weightOf(ex, () => ex.fetchOrderBook(BTC, 1000))).toBe(20);
    expect(await weightOf(ex, () => ex.fetchOrderBook(BTC, 5))).toBe(2);
    expect(await weightOf(ex, () => ex.fetchOHLCV(BTC, '1m', undefined, 1000))).toBe(5);
    expect(await weightOf(ex, () => ex.fetchOHLCV(BTC, '1m', undefined, 50))).toBe(1);
    expect(await weightOf(ex, () => ex.fetchTime())).toBe(1);
    expect(await weightOf(ex, () => ex.fapiPublicGetExchangeInfo())).toBe(1);
    expect(await weightOf(ex, () => ex.createOrder(BTC, 'market', 'buy', 0.002))).toBe(0);
  });

  it('answers 429 -1003 with Retry-After, then bans the IP with 418 when the client keeps going', async () => {
    await control(sim, 'POST', '/_sim/rate-limits', { binance_weight_per_minute: 20, first_ban_ms: 1000 });
    const ip = '10.9.9.9';
    const a = asHost((await binanceAccount(sim)).ex, ip);
    const b = asHost((await binanceAccount(sim)).ex, ip); // another account on the same host
    const other = asHost((await binanceAccount(sim)).ex, '10.9.9.10');
    for (let i = 0; i < 4; i++) await a.fapiPrivateGetUserTrades({ symbol: 'BTCUSDT' });
    expect(hdr(a, 'x-mbx-used-weight-1m')).toBe('20');
    const limited = await rejects(() => a.fapiPrivateGetUserTrades({ symbol: 'BTCUSDT' }));
    expect(limited).toBeInstanceOf(ccxt.DDoSProtection);
    expect(limited.message).toContain('-1003');
    expect(Number(hdr(a, 'retry-after'))).toBeGreaterThan(50);

    // Not backing off (any account on that IP): 418 for everyone there, Retry-After = ban length.
    const banned = await rejects(() => b.fapiPrivateGetUserTrades({ symbol: 'BTCUSDT' }));
    expect(banned.message).toContain('banned until');
    expect(hdr(b, 'retry-after')).toBe('1');
    expect(await rejects(() => a.fetchTime())).toBeInstanceOf(ccxt.DDoSProtection);
    await other.fetchTime(); // another IP is not affected

    // Repeat offender: after the ban, the window is still full → 429; ignoring it again doubles the ban.
    await new Promise((r) => setTimeout(r, 1100));
    await rejects(() => a.fetchTime());
    expect(hdr(a, 'retry-after')).not.toBe('2');
    await rejects(() => a.fetchTime());
    expect(hdr(a, 'retry-after')).toBe('2');
    const served = (await control(sim, 'GET', '/_sim/rate-limits'))['served'] as Record<string, number>;
    expect(served['binance_429']).toBe(2);
    expect(served['binance_418']).toBe(3);
  });

  it('limits new orders per account per 10 s and per minute, with the order-count headers', async () => {
    await control(sim, 'POST', '/_sim/rate-limits', {
      binance_orders_per_10s: 3,
      binance_orders_per_minute: 5,
    });
    const ip = '10.8.8.8';
    const { ex } = await binanceAccount(sim, { balance: 1e6 });
    const { ex: sibling } = await binanceAccount(sim, { balance: 1e6 });
    asHost(ex, ip);
    asHost(sibling, ip);
    await ex.loadMarkets();
    await sibling.loadMarkets();
    for (let i = 0; i < 3; i++) await ex.createOrder(BTC, 'market', 'buy', 0.002);
    expect(hdr(ex, 'x-mbx-order-count-10s')).toBe('3');
    expect(hdr(ex, 'x-mbx-order-count-1m')).toBe('3');
    const e = await rejects(() => ex.createOrder(BTC, 'market', 'buy', 0.002));
    expect(e).toBeInstanceOf(ccxt.DDoSProtection);
    expect(e.message).toContain('-1015');
    await sibling.createOrder(BTC, 'market', 'buy', 0.002); // per account, not per IP
    expect(hdr(sibling, 'x-mbx-order-count-10s')).toBe('1');
    await sibling.fetchTime(); // an order-limit 429 is no reason to ban the IP
  });
});

describe('okx per-endpoint limits', () => {
  it('positions: 10 per 2 s per user ID (scaled to 2), answering 50011 with HTTP 429', async () => {
    await control(sim, 'POST', '/_sim/rate-limits', { okx_scale: 0.2 });
    const { ex } = await okxAccount(sim);
    const { ex: other } = await okxAccount(sim);
    await ex.privateGetAccountPositions();
    await ex.privateGetAccountPositions();
    const e = await rejects(() => ex.privateGetAccountPositions());
    expect(e).toBeInstanceOf(ccxt.RateLimitExceeded);
    expect(e.message).toContain('50011');
    await other.privateGetAccountPositions(); // per user
    await new Promise((r) => setTimeout(r, 2050));
    await ex.privateGetAccountPositions(); // the 2 s window has rolled
  });

  it('place order: 60 per 2 s per user ID and instrument (scaled to 3)', async () => {
    await control(sim, 'POST', '/_sim/rate-limits', { okx_scale: 0.05 });
    const { ex } = await okxAccount(sim, { balance: 1e6 });
    await ex.loadMarkets();
    for (let i = 0; i < 3; i++) await ex.createOrder(BTC, 'market', 'buy', 1);
    expect(await rejects(() => ex.createOrder(BTC, 'market', 'buy', 1))).toBeInstanceOf(
      ccxt.RateLimitExceeded,
    );
    await ex.createOrder(ETH, 'market', 'buy', 1); // another instrument has its own count
  });
});

describe('rate-limit control API', () => {
  it('defaults to the real limits and refuses bad input without changing anything', async () => {
    const before = await control(sim, 'GET', '/_sim/rate-limits');
    expect(before['settings']).toMatchObject({
      enabled: true,
      binance_weight_per_minute: 2400,
      binance_orders_per_10s: 300,
      binance_orders_per_minute: 1200,
      okx_scale: 1,
      first_ban_ms: 120_000,
      max_ban_ms: 259_200_000,
    });
    for (const bad of [{ binance_weight_per_minute: -1 }, { okx_scale: 'x' }, { nope: 1 }, { enabled: 1 }]) {
      const r = await fetch(`${sim.url}/_sim/rate-limits`, {
        method: 'POST',
        body: JSON.stringify({ binance_orders_per_10s: 1, ...bad }),
      });
      expect(r.status).toBe(400);
    }
    expect((await control(sim, 'GET', '/_sim/rate-limits'))['settings']).toEqual(before['settings']);
  });

  it('ignores X-Forwarded-For unless the simulator was started trusting it', async () => {
    const plain = await startSimulator();
    try {
      await control(plain, 'POST', '/_sim/rate-limits', { binance_weight_per_minute: 2 });
      const t = (ip: string) => fetch(`${plain.url}/fapi/v1/time`, { headers: { 'X-Forwarded-For': ip } });
      expect((await t('1.1.1.1')).status).toBe(200);
      expect((await t('2.2.2.2')).headers.get('x-mbx-used-weight-1m')).toBe('2');
      expect((await t('3.3.3.3')).status).toBe(429);
    } finally {
      await plain.close();
    }
  });
});
