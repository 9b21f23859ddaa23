/** Binance USDⓈ-M streams of the simulator, driven by the real ccxt pro client (REST + WebSocket). */
import type { Position } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startSimulator, type Simulator } from '../server.ts';
import { control, setPrice } from '../../test/support.ts';
import { proBinance, until, waitFor } from './pro-test-helpers.ts';

const SYM = 'BTC/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const privateConns = (key: string) => sim.streams.hub.find({ exchange: 'binance', apiKey: key }).length;

describe('Binance user data stream through ccxt pro', () => {
  it('pushes the order, the trade, the balance and the position of a REST market order', async () => {
    const { ex, key } = await proBinance(sim);
    await ex.loadMarkets();
    const orders = ex.watchOrders(SYM);
    const trades = ex.watchMyTrades(SYM);
    const balance = ex.watchBalance();
    const positions = ex.watchPositions([SYM]);
    await waitFor(() => privateConns(key) > 0);
    const placed = await ex.createOrder(SYM, 'market', 'buy', 0.01);
    const o = (await orders).find((x) => x.id === placed.id);
    expect(o).toMatchObject({ symbol: SYM, side: 'buy', status: 'closed', filled: 0.01, amount: 0.01 });
    expect(o?.average).toBe(60000);
    const t = (await trades).find((x) => x.order === placed.id);
    expect(t).toMatchObject({ symbol: SYM, side: 'buy', price: 60000, amount: 0.01 });
    expect(t?.fee?.cost).toBeCloseTo(0.24, 8); // 600 USDT × 0.04 % taker
    const b = await balance;
    expect(b['USDT']?.total).toBeCloseTo(10_000 - 0.24, 8);
    // watchPositions may first resolve with ccxt's REST snapshot; the pushed update lands in its cache.
    await positions;
    const cached = () =>
      (ex.positions as unknown as Record<string, Position[]>)['future']?.find(
        (x) => x.symbol === SYM && (x.contracts ?? 0) > 0,
      );
    await waitFor(() => cached() !== undefined);
    expect(cached()).toMatchObject({ side: 'long', contracts: 0.01, entryPrice: 60000 });
    await ex.close();
  });

  it('pushes ALGO_UPDATE for a stop-loss placed, triggered and its closing fill', async () => {
    const { ex, key } = await proBinance(sim);
    await ex.loadMarkets();
    await setPrice(sim, SYM, 60000);
    await ex.createOrder(SYM, 'market', 'buy', 0.01);
    const orders = ex.watchOrders(SYM);
    await waitFor(() => privateConns(key) > 0);
    const sl = await ex.createOrder(SYM, 'market', 'sell', 0.01, undefined, {
      stopLossPrice: 59000,
      reduceOnly: true,
    });
    const first = (await orders).find((x) => x.id === sl.id);
    expect(first).toMatchObject({ status: 'open', triggerPrice: 59000, side: 'sell' });
    const closed = await until(
      async () => {
        const next = ex.watchOrders(SYM);
        await setPrice(sim, SYM, 58900);
        return next;
      },
      (list) => list.some((x) => x.id !== sl.id && x.side === 'sell' && x.status === 'closed'),
    );
    const fill = closed.find((x) => x.id !== sl.id && x.side === 'sell');
    expect(fill).toMatchObject({ filled: 0.01, average: 58900, reduceOnly: true });
    const rest = await ex.fetchPositions([SYM]);
    expect(rest.filter((x) => (x.contracts ?? 0) > 0)).toHaveLength(0);
    await setPrice(sim, SYM, 60000);
    await ex.close();
  });

  it('listenKey: POST returns the active key, PUT extends it, DELETE closes the stream', async () => {
    const { ex, key } = await proBinance(sim);
    const a = (await ex.fapiPrivatePostListenKey()) as { listenKey: string };
    const b = (await ex.fapiPrivatePostListenKey()) as { listenKey: string };
    expect(b.listenKey).toBe(a.listenKey);
    expect(a.listenKey).toMatch(/^[A-Za-z0-9]{64}$/);
    await expect(ex.fapiPrivatePutListenKey()).resolves.toEqual({ listenKey: a.listenKey });
    const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/private/ws?listenKey=${a.listenKey}`);
    await new Promise((r) => ws.once('open', r));
    expect(privateConns(key)).toBe(1);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await ex.fapiPrivateDeleteListenKey();
    expect(await closed).toBe(1000);
    await expect(ex.fapiPrivatePutListenKey()).rejects.toThrow(/-1125|listenKey does not exist/);
    // A closed key no longer opens a stream.
    const refused = new WebSocket(`${sim.url.replace('http', 'ws')}/private/ws?listenKey=${a.listenKey}`);
    const err = await new Promise<Error>((r) => refused.once('error', r));
    expect(err.message).toMatch(/400/);
  });

  it('an expired listenKey pushes listenKeyExpired and then nothing more', async () => {
    const { ex, key } = await proBinance(sim);
    await ex.loadMarkets();
    await control(sim, 'POST', '/_sim/streams/listen-key-validity', { ms: 300 });
    const { listenKey } = (await ex.fapiPrivatePostListenKey()) as { listenKey: string };
    await control(sim, 'POST', '/_sim/streams/listen-key-validity', { ms: 3_600_000 });
    const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/private/ws?listenKey=${listenKey}`);
    const events: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => events.push(JSON.parse(String(d)) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    await waitFor(() => events.length > 0, 2000);
    expect(events[0]).toMatchObject({ e: 'listenKeyExpired', listenKey });
    expect(typeof events[0]?.['E']).toBe('number');
    await ex.createOrder(SYM, 'market', 'buy', 0.01);
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(1);
    expect(privateConns(key)).toBe(1); // the connection stays open
    ws.close();
  });

  it('refuses a listenKey request without a known API key', async () => {
    const res = await fetch(`${sim.url}/fapi/v1/listenKey`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': 'nope' },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' });
  });
});

describe('Binance market streams through ccxt pro', () => {
  it('watchMarkPrice, watchTicker and watchBidsAsks receive the simulated price', async () => {
    const { ex } = await proBinance(sim);
    await ex.loadMarkets();
    await setPrice(sim, 'ETH/USDT:USDT', 3000);
    const mark = await ex.watchMarkPrice('ETH/USDT:USDT');
    expect(mark).toMatchObject({ symbol: 'ETH/USDT:USDT', markPrice: 3000 });
    const bidask = await until(
      async () => {
        const next = ex.watchBidsAsks(['ETH/USDT:USDT']);
        await new Promise((r) => setTimeout(r, 20));
        await setPrice(sim, 'ETH/USDT:USDT', 3001.5);
        return next;
      },
      (r) => r['ETH/USDT:USDT']?.ask === 3001.5,
    );
    expect(bidask['ETH/USDT:USDT']).toMatchObject({ ask: 3001.5, bid: 3001.49 }); // ETH tick 0.01;
    const ticker = await ex.watchTicker('ETH/USDT:USDT');
    expect(ticker).toMatchObject({ symbol: 'ETH/USDT:USDT', last: 3001.5 });
    await ex.close();
  });

  it('refuses a stream on the wrong category URL', async () => {
    const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/market/ws`);
    await new Promise((r) => ws.once('open', r));
    const answer = new Promise<Record<string, unknown>>((r) =>
      ws.once('message', (d) => r(JSON.parse(String(d)))),
    );
    ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker'], id: 7 }));
    expect(await answer).toMatchObject({ id: 7, error: { code: 2 } });
    ws.close();
    const legacy = new WebSocket(`${sim.url.replace('http', 'ws')}/ws`);
    const err = await new Promise<Error>((r) => legacy.once('error', r));
    expect(err.message).toMatch(/404/);
  });
});
