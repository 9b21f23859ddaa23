/** OKX WebSocket of the simulator, driven by the real ccxt pro client (REST + WebSocket). */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startSimulator, type Simulator } from '../server.ts';
import { setPrice } from '../../test/support.ts';
import { proOkx, waitFor } from './pro-test-helpers.ts';

const SYM = 'BTC/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

function rawWs(path: string): Promise<{ ws: WebSocket; next: () => Promise<string> }> {
  const ws = new WebSocket(`${sim.url.replace('http', 'ws')}${path}`);
  const inbox: string[] = [];
  const waiters: Array<(s: string) => void> = [];
  ws.on('message', (d) => {
    const w = waiters.shift();
    if (w) w(String(d));
    else inbox.push(String(d));
  });
  const next = () =>
    new Promise<string>((r) => {
      const m = inbox.shift();
      if (m !== undefined) r(m);
      else waiters.push(r);
    });
  return new Promise((r) => ws.once('open', () => r({ ws, next })));
}

describe('OKX private channels through ccxt pro', () => {
  it('orders, fills, positions and account follow a REST market order', async () => {
    const { ex } = await proOkx(sim);
    await ex.loadMarkets();
    await setPrice(sim, SYM, 60000);
    const orders = ex.watchOrders(SYM);
    const trades = ex.watchMyTrades(SYM);
    // The positions and account channels push a snapshot on subscription: once both arrived, the orders
    // subscription sent before them on the same connection is live too.
    expect(await ex.watchPositions([SYM])).toEqual([]);
    const snapshot = await ex.watchBalance();
    expect(snapshot['USDT']?.total).toBe(10_000);
    const positions = ex.watchPositions([SYM]);
    const balance = ex.watchBalance();
    const placed = await ex.createOrder(SYM, 'market', 'buy', 1); // 1 contract = 0.01 BTC
    const o = (await orders).find((x) => x.id === placed.id);
    expect(o).toMatchObject({ symbol: SYM, side: 'buy', status: 'closed', filled: 1, average: 60000 });
    const t = (await trades).find((x) => x.order === placed.id);
    expect(t).toMatchObject({ symbol: SYM, side: 'buy', price: 60000, amount: 1 });
    // OKX: "fillFee … negative number represents the user transaction fee charged"; ccxt's orderToTrade
    // passes the sign through unchanged.
    expect(t?.info['fillFee']).toBe('-0.24');
    expect(t?.fee?.cost).toBeCloseTo(-0.24, 8);
    const p = (await positions).find((x) => x.symbol === SYM);
    expect(p).toMatchObject({ side: 'long', contracts: 1, entryPrice: 60000 });
    expect((await balance)['USDT']?.total).toBeCloseTo(10_000 - 0.24, 8);
    // Closing pushes the position once more with pos "0".
    const closing = ex.watchPositions([SYM]);
    await ex.createOrder(SYM, 'market', 'sell', 1, undefined, { reduceOnly: true });
    const after = (await closing).find((x) => x.symbol === SYM);
    expect(after?.contracts ?? 0).toBe(0);
    await ex.close();
  });

  it('orders-algo on the business URL: a stop-loss placed, then triggered', async () => {
    const { ex } = await proOkx(sim);
    await ex.loadMarkets();
    await setPrice(sim, SYM, 60000);
    await ex.createOrder(SYM, 'market', 'buy', 1);
    const algos = ex.watchOrders(SYM, undefined, undefined, { trigger: true });
    await waitFor(() =>
      sim.streams.hub
        .find({ exchange: 'okx', scope: 'private' })
        .some((c) => c.subscriptions.includes('orders-algo')),
    );
    const placed = await ex.createOrder(SYM, 'market', 'sell', 1, undefined, {
      stopLossPrice: 59000,
      reduceOnly: true,
    });
    const live = (await algos).find((x) => x.id === placed.id);
    expect(live).toMatchObject({ status: 'open', side: 'sell', stopLossPrice: 59000 });
    const done = ex.watchOrders(SYM, undefined, undefined, { trigger: true });
    await setPrice(sim, SYM, 58900);
    const fired = (await done).find((x) => x.id === placed.id);
    expect(fired?.status).toBe('closed'); // OKX state "effective"
    const rest = await ex.fetchPositions([SYM]);
    expect(rest.filter((x) => (x.contracts ?? 0) > 0)).toHaveLength(0);
    await setPrice(sim, SYM, 60000);
    await ex.close();
  });

  it('refuses a login with a wrong signature or passphrase, and a demo key on the live URL', async () => {
    const badSecret = await proOkx(sim, { secret: 'not-the-secret' });
    await expect(badSecret.ex.watchBalance()).rejects.toThrow(/60007|Invalid sign/);
    await badSecret.ex.close();
    const badPass = await proOkx(sim, { password: 'Wrong-1' });
    await expect(badPass.ex.watchBalance()).rejects.toThrow(/60024|Wrong passphrase/);
    await badPass.ex.close();
    const live = await proOkx(sim, { sandbox: false });
    await expect(live.ex.watchBalance()).rejects.toThrow(/50101/);
    await live.ex.close();
  });

  it('login: checks the timestamp window; private channels need a login and the right URL', async () => {
    const { key, secret } = await proOkx(sim);
    const { ws, next } = await rawWs('/wspap.okx.com:8443/ws/v5/private');
    ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'orders', instType: 'SWAP' }] }));
    expect(JSON.parse(await next())).toMatchObject({ event: 'error', code: '60011' });
    const old = String(Math.floor(Date.now() / 1000) - 60);
    const sign = (ts: string) =>
      createHmac('sha256', secret).update(`${ts}GET/users/self/verify`).digest('base64');
    ws.send(
      JSON.stringify({
        op: 'login',
        args: [{ apiKey: key, passphrase: 'Pass-1', timestamp: old, sign: sign(old) }],
      }),
    );
    expect(JSON.parse(await next())).toMatchObject({ event: 'error', code: '60006' });
    const now = String(Math.floor(Date.now() / 1000));
    ws.send(
      JSON.stringify({
        op: 'login',
        args: [{ apiKey: key, passphrase: 'Pass-1', timestamp: now, sign: sign(now) }],
      }),
    );
    expect(JSON.parse(await next())).toMatchObject({ event: 'login', code: '0' });
    ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'orders-algo', instType: 'SWAP' }] }));
    expect(JSON.parse(await next())).toMatchObject({ event: 'error', code: '60018' });
    ws.send('ping');
    expect(await next()).toBe('pong');
    ws.close();
    const pub = await rawWs('/ws.okx.com:8443/ws/v5/public');
    pub.ws.send(
      JSON.stringify({
        op: 'login',
        args: [{ apiKey: key, passphrase: 'Pass-1', timestamp: now, sign: sign(now) }],
      }),
    );
    expect(JSON.parse(await pub.next())).toMatchObject({ event: 'error', code: '60008' });
    pub.ws.close();
  });
});

describe('OKX public channels through ccxt pro', () => {
  it('watchTicker and watchMarkPrice receive the simulated price, and follow changes', async () => {
    const { ex } = await proOkx(sim);
    await ex.loadMarkets();
    await setPrice(sim, 'SOL/USDT:USDT', 150);
    expect(await ex.watchTicker('SOL/USDT:USDT')).toMatchObject({ symbol: 'SOL/USDT:USDT', last: 150 });
    expect(await ex.watchMarkPrice('SOL/USDT:USDT')).toMatchObject({
      symbol: 'SOL/USDT:USDT',
      markPrice: 150,
    });
    const moved = ex.watchTicker('SOL/USDT:USDT');
    await setPrice(sim, 'SOL/USDT:USDT', 151.25);
    expect((await moved).last).toBe(151.25);
    await ex.close();
  });
});
