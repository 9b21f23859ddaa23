/** The stream control API (`/_sim/streams`): drop, delay, refuse; seen through the real ccxt pro client. */
import { NetworkError } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../server.ts';
import { control } from '../../test/support.ts';
import { proBinance, proOkx, waitFor } from './pro-test-helpers.ts';

const SYM = 'BTC/USDT:USDT';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const conns = (exchange: 'binance' | 'okx', apiKey: string) =>
  sim.streams.hub.find({ exchange, apiKey, scope: 'private' });

describe('stream control', () => {
  it('drop: the pending watch rejects with a NetworkError, the next watch reconnects and gets events', async () => {
    const { ex, key } = await proBinance(sim);
    await ex.loadMarkets();
    // Else ccxt's watchOrders parks an internal positions-snapshot future on the client, which a drop before
    // the snapshot's REST answer rejects with nobody listening (an unhandled rejection in ccxt 4.5.84).
    ex.options['watchPositions'] = { ...ex.options['watchPositions'], fetchPositionsSnapshot: false };
    const pending = ex.watchOrders(SYM);
    await waitFor(() => conns('binance', key).length === 1);
    const first = conns('binance', key)[0]?.id;
    const res = await control(sim, 'POST', '/_sim/streams/drop', { exchange: 'binance', api_key: key });
    expect(res).toEqual({ dropped: 1 });
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetworkError);
    expect(String(err)).toMatch(/1006/);
    const again = ex.watchOrders(SYM);
    await waitFor(() => conns('binance', key).length === 1 && conns('binance', key)[0]?.id !== first);
    const placed = await ex.createOrder(SYM, 'market', 'buy', 0.01);
    expect((await again).map((o) => o.id)).toContain(placed.id);
    await ex.close();
  });

  it('drop is per account and venue: other accounts keep their stream', async () => {
    const a = await proOkx(sim);
    const b = await proOkx(sim);
    await a.ex.watchBalance();
    await b.ex.watchBalance();
    await control(sim, 'POST', '/_sim/streams/drop', { exchange: 'okx', api_key: a.key });
    await waitFor(() => conns('okx', a.key).length === 0);
    expect(conns('okx', b.key)).toHaveLength(1);
    await a.ex.close();
    await b.ex.close();
  });

  it('delay: events for one account arrive N ms later; REST answers are not delayed', async () => {
    const { ex, key } = await proOkx(sim);
    await ex.loadMarkets();
    await ex.watchBalance();
    await control(sim, 'POST', '/_sim/streams/delay', { exchange: 'okx', api_key: key, ms: 400 });
    const orders = ex.watchOrders(SYM);
    await waitFor(() => conns('okx', key).some((c) => c.subscriptions.includes('orders')));
    const t0 = Date.now();
    const placed = await ex.createOrder(SYM, 'market', 'buy', 1);
    expect(Date.now() - t0).toBeLessThan(300); // REST is not delayed
    expect((await orders).map((o) => o.id)).toContain(placed.id);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    // The live and filled pushes may land in one read or two; the filled one follows.
    await waitFor(() => ex.orders?.find((o) => o.id === placed.id)?.status === 'closed');
    await control(sim, 'POST', '/_sim/streams/delay', { exchange: 'okx', api_key: key, ms: 0 });
    const state = (await control(sim, 'GET', '/_sim/streams')) as { delays: unknown[] };
    expect(state.delays).toEqual([]);
    await ex.close();
  });

  it('refuse: new connections fail with HTTP 503 for the window, then connect again', async () => {
    const { ex } = await proBinance(sim);
    await ex.loadMarkets();
    await control(sim, 'POST', '/_sim/streams/refuse', { exchange: 'binance', ms: 400 });
    await expect(ex.watchMarkPrice(SYM)).rejects.toThrow(/503/);
    await new Promise((r) => setTimeout(r, 450));
    expect(await ex.watchMarkPrice(SYM)).toMatchObject({ symbol: SYM });
    await ex.close();
  });

  it('refuses bad control input with a clear error and changes nothing', async () => {
    const before = await control(sim, 'GET', '/_sim/streams');
    for (const [path, body, msg] of [
      ['/_sim/streams/delay', { ms: -1 }, /ms must be/],
      ['/_sim/streams/delay', { ms: 10, exchange: 'kraken' }, /exchange must be/],
      ['/_sim/streams/refuse', { ms: 10, api_key: 'x' }, /refuse takes only/],
      ['/_sim/streams/listen-key-validity', { ms: 0 }, /at least 1/],
    ] as const) {
      const res = await fetch(sim.url + path, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(msg);
    }
    expect(await control(sim, 'GET', '/_sim/streams')).toEqual(before);
  });
});
