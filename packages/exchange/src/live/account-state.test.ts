/**
 * The live account state against the real simulator, through the real ccxt pro client (REST + WebSocket):
 * stream updates, drop → reconnect → reconcile, freshness bounds, the shared price feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createExchangeAdapter, type CcxtExchangeAdapter } from '../adapter.ts';
import { LiveAccountState } from './account-state.ts';
import { priceFeedFor, stopPriceFeeds } from './price-feed.ts';

let sim: Simulator;
const SYM = 'BTC/USDT:USDT';

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await stopPriceFeeds();
  await sim.close();
});

async function simControl(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.url}/_sim/${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return res.json();
}

async function liveAccount(
  exchange: 'binance' | 'okx',
  positionMode: 'oneway' | 'hedge' = 'oneway',
): Promise<{ adapter: CcxtExchangeAdapter; apiKey: string }> {
  const apiKey = `live${exchange}${Math.random().toString(36).slice(2, 10)}`;
  const apiSecret = `${apiKey}-secret`;
  const passphrase = exchange === 'okx' ? 'Pass-phrase1' : undefined;
  await simControl('POST', 'accounts', {
    exchange,
    api_key: apiKey,
    api_secret: apiSecret,
    passphrase,
    balance: 10_000,
    testnet: true,
    position_mode: positionMode,
  });
  const adapter = createExchangeAdapter({
    exchange,
    credentials: { apiKey, apiSecret, passphrase },
    testnet: true,
    apiUrl: sim.url,
    enableRateLimit: false,
    timeoutMs: 5000,
    streaming: true,
    keepAliveMs: 1000,
  });
  return { adapter, apiKey };
}

async function waitFor(cond: () => boolean, ms = 4000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const order = (exchange: 'binance' | 'okx', suffix: string) => ({
  symbol: SYM,
  side: 'buy' as const,
  amount: 0.01,
  clientOrderId: `${exchange === 'okx' ? 'th' : 'th-'}${suffix}${Date.now()}`,
  reduceOnly: false,
  positionSide: null,
  marginMode: 'cross' as const,
});

describe.each(['binance', 'okx'] as const)('LiveAccountState on %s', (exchange) => {
  it('starts from REST, then follows fills, conditional orders and balance from the stream', async () => {
    await simControl('POST', 'price', { symbol: SYM, price: 60000 });
    const { adapter } = await liveAccount(exchange);
    const state = new LiveAccountState({ adapter });
    await state.start();
    expect(state.positions()).toEqual([]);
    expect(state.balance()).toMatchObject({ asset: 'USDT', total: 10_000 });
    await waitFor(() => state.freshness().streaming);
    expect(state.isFresh(2000)).toBe(true);
    const reconciledAt = state.freshness().lastReconcileAt;

    await adapter.createMarketOrder(order(exchange, 'e'));
    await waitFor(() => state.positions().length === 1);
    expect(state.positions()[0]).toMatchObject({
      symbol: SYM,
      side: 'long',
      amount: 0.01,
      entryPrice: 60000,
    });
    await waitFor(() => (state.balance()?.total ?? 0) < 10_000);
    expect(state.balance()?.total).toBeCloseTo(10_000 - 0.24, 6);

    const sl = await adapter.createConditionalOrder({
      ...order(exchange, 's'),
      side: 'sell',
      reduceOnly: true,
      kind: 'stop_loss',
      triggerPrice: 59000,
    });
    await waitFor(() => state.openOrders().some((o) => o.id === sl.id));
    expect(state.openOrders(SYM).find((o) => o.id === sl.id)).toMatchObject({
      conditional: true,
      side: 'sell',
    });

    await simControl('POST', 'price', { symbol: SYM, price: 58900 });
    await waitFor(() => state.positions().length === 0 && !state.openOrders().some((o) => o.id === sl.id));
    expect(state.freshness().lastReconcileAt).toBe(reconciledAt); // all of it came from the stream
    await state.stop();
  });

  it('after a dropped stream: not fresh, reconnects, reconciles what it missed, fresh again', async () => {
    await simControl('POST', 'price', { symbol: SYM, price: 60000 });
    const { adapter, apiKey } = await liveAccount(exchange);
    const state = new LiveAccountState({ adapter, retryDelayMs: 100 });
    await state.start();
    await waitFor(() => state.freshness().streaming);
    const before = state.freshness().lastReconcileAt ?? 0;

    // Cut the stream and refuse reconnects for a while; an order filled meanwhile is missed by the stream.
    await simControl('POST', 'streams/refuse', { exchange, ms: 600 });
    await simControl('POST', 'streams/drop', { exchange, api_key: apiKey });
    await waitFor(() => !state.freshness().streaming);
    await adapter.createMarketOrder(order(exchange, 'd'));
    await new Promise((r) => setTimeout(r, 200));
    expect(state.positions()).toEqual([]); // not seen: the stream is down
    expect(state.freshness().streamErrors).toBeGreaterThan(0);
    const downAge = state.freshness(Date.now() + 5000).ageMs;
    expect(downAge).toBeGreaterThanOrEqual(5000); // frozen while down: a decision with a 5 s bound refuses it
    expect(state.isFresh(1000, Date.now() + 5000)).toBe(false);

    // Reconnect after the refusal ends, then the REST reconcile brings the missed fill.
    await waitFor(() => state.freshness().streaming, 8000);
    expect(state.freshness().lastReconcileAt ?? 0).toBeGreaterThan(before);
    expect(state.positions()).toHaveLength(1);
    expect(state.positions()[0]).toMatchObject({ side: 'long', amount: 0.01 });
    expect(state.isFresh(2000)).toBe(true);
    await state.stop();
  });

  it('a first snapshot that fails is retried until the state is known', async () => {
    const { adapter } = await liveAccount(exchange);
    // The first positions read answers 503 (the exchange busy a moment at the worker's start).
    await simControl('POST', 'faults', {
      exchange,
      path: exchange === 'binance' ? 'positionRisk' : 'account/positions',
      kind: 'http5xx',
      status: 503,
      count: 1,
    });
    const state = new LiveAccountState({ adapter, retryDelayMs: 100 });
    try {
      await expect(state.start()).rejects.toThrow();
      expect(state.freshness().confirmedAt).toBeUndefined();
      await waitFor(() => state.freshness().streaming, 8000);
      expect(state.isFresh(2000)).toBe(true);
    } finally {
      await simControl('DELETE', 'faults');
      await state.stop();
    }
  });

  it('a price feed per venue per process, shared, with a freshness bound', async () => {
    await simControl('POST', 'price', { symbol: 'ETH/USDT:USDT', price: 3000 });
    const feed = priceFeedFor({ exchange, testnet: true, apiUrl: sim.url });
    expect(priceFeedFor({ exchange, testnet: true, apiUrl: sim.url })).toBe(feed);
    const first = await feed.track('ETH/USDT:USDT');
    expect(first.price).toBe(3000);
    await simControl('POST', 'price', { symbol: 'ETH/USDT:USDT', price: 3010 });
    await waitFor(() => feed.latest('ETH/USDT:USDT', 10_000)?.price === 3010, 5000);
    expect(feed.latest('ETH/USDT:USDT', 10_000, Date.now() + 60_000)).toBeUndefined();
    expect(feed.latest('SOL/USDT:USDT', 10_000)).toBeUndefined(); // not tracked
  });

  it('a lagging feed is stale by the exchange’s event time although its pushes keep arriving', async () => {
    const feed = priceFeedFor({ exchange, testnet: true, apiUrl: sim.url });
    await feed.track('ETH/USDT:USDT');
    // Public events reach the feed 1.5 s after the exchange stamped them (Binance pushes the ticker every 2 s,
    // OKX on each change: the price moves every 200 ms).
    let px = 3000;
    const moving = setInterval(
      () => void simControl('POST', 'price', { symbol: 'ETH/USDT:USDT', price: ++px }),
      200,
    );
    await simControl('POST', 'streams/delay', { exchange, scope: 'public', ms: 1_500 });
    try {
      await new Promise((r) => setTimeout(r, 2_000)); // the pushes before the delay are through
      const before = feed.latest('ETH/USDT:USDT', 60_000)?.receivedAt ?? 0;
      await waitFor(() => (feed.latest('ETH/USDT:USDT', 60_000)?.receivedAt ?? 0) > before, 5_000);
      const late = feed.latest('ETH/USDT:USDT', 60_000)!;
      expect(Date.now() - late.receivedAt).toBeLessThan(500); // just received
      expect(late.exchangeTime).toBeLessThan(late.receivedAt - 1_000); // but stamped 1.5 s earlier
      expect(feed.latest('ETH/USDT:USDT', 1_000)).toBeUndefined();
      await simControl('POST', 'streams/delay', { exchange, scope: 'public', ms: 0 });
      await waitFor(() => feed.latest('ETH/USDT:USDT', 1_000) !== undefined, 5_000);
    } finally {
      clearInterval(moving);
      await simControl('POST', 'streams/delay', { exchange, scope: 'public', ms: 0 });
    }
  });
});

describe('LiveAccountState in hedge mode (Binance)', () => {
  it("closing one leg keeps the other: hedge mode's empty BOTH row is not a flat position", async () => {
    await simControl('POST', 'price', { symbol: SYM, price: 60000 });
    const { adapter } = await liveAccount('binance', 'hedge');
    const state = new LiveAccountState({ adapter });
    await state.start();
    await waitFor(() => state.freshness().streaming);
    const leg = (side: 'buy' | 'sell', positionSide: 'long' | 'short', reduceOnly: boolean, id: string) =>
      adapter.createMarketOrder({ ...order('binance', id), side, positionSide, reduceOnly });
    await leg('buy', 'long', false, 'l');
    await leg('sell', 'short', false, 's');
    await waitFor(() => state.positions().length === 2);
    await leg('buy', 'short', true, 'c');
    await waitFor(() => !state.positions().some((p) => p.side === 'short'));
    await new Promise((r) => setTimeout(r, 100));
    expect(state.positions()).toEqual([expect.objectContaining({ symbol: SYM, side: 'long', amount: 0.01 })]);
    await state.stop();
  });
});

describe('LiveAccountState snapshot per traded symbol', () => {
  const ETH = 'ETH/USDT:USDT';
  const SOL = 'SOL/USDT:USDT';
  const reads = (apiKey: string, path: string, from: number) =>
    sim.requestLog.filter((r) => r.apiKey === apiKey && r.method === 'GET' && r.path === path && r.at >= from)
      .length;

  it.each([
    ['binance', '/fapi/v1/openOrders', 2],
    ['okx', '/api/v5/trade/orders-pending', 1],
  ] as const)(
    '%s: open orders of the symbols with a position or our orders (%s read %i times); others only from the stream',
    async (exchange, path, expected) => {
      await simControl('POST', 'price', { symbol: SYM, price: 60000 });
      await simControl('POST', 'price', { symbol: ETH, price: 3000 });
      await simControl('POST', 'price', { symbol: SOL, price: 150 });
      const { adapter, apiKey } = await liveAccount(exchange);
      await adapter.loadMarkets();
      await adapter.createMarketOrder(order(exchange, 'p')); // a BTC position
      const limit = (symbol: string, price: number, suffix: string) =>
        adapter.createLimitOrder({ ...order(exchange, suffix), symbol, amount: 1, price });
      const ours = await limit(ETH, 2000, 'o'); // ETH: an order of ours (the worker's open rows)
      const other = await limit(SOL, 100, 'x'); // SOL: no position, not ours (placed by hand)
      const from = performance.timeOrigin + performance.now();
      const state = new LiveAccountState({ adapter, snapshotSymbols: async () => [ETH] });
      await state.start();
      // Binance: BTC and ETH, one request each (weight 1, against 40 for all symbols); OKX: one for all.
      expect(reads(apiKey, path, from)).toBe(expected);
      const ids = state.openOrders().map((o) => o.id);
      expect(ids).toContain(ours.id);
      if (exchange === 'binance') expect(ids).not.toContain(other.id);
      else expect(ids).toContain(other.id);
      // A later change of the unread symbol's order still arrives from the stream.
      await waitFor(() => state.freshness().streaming);
      const late = await limit(SOL, 101, 'y');
      await waitFor(() => state.openOrders(SOL).some((o) => o.id === late.id));
      await state.stop();
    },
  );
});
