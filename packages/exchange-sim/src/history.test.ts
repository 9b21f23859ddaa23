import { readFileSync } from 'node:fs';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, control, okxAccount, rejects, setPrice } from '../test/support.ts';

/**
 * Account history as the exchanges hand it out (issue 11, items 1, 5, 9): the movable clock, Binance's 7-day
 * windows, OKX paging by billId, funding every 8 h, BNB fee burn; and the answers' shape against recorded ones.
 */
const ETH = 'ETH/USDT:USDT';
const DAY = 86_400_000;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../test-fixtures/${name}`, import.meta.url), 'utf8')) as Array<
    Record<string, unknown>
  >;

/** Same field names; same JSON types, where a recorded numeric string may be a documented LONG number. */
function expectSameShape(ours: Record<string, unknown>, recorded: Record<string, unknown>) {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(recorded).sort());
  for (const [k, v] of Object.entries(recorded)) {
    const numeric = typeof v === 'string' && /^\d+$/.test(v) && typeof ours[k] === 'number';
    if (!numeric) expect([k, typeof ours[k]]).toEqual([k, typeof v]);
  }
}

describe('simulator clock', () => {
  it('moves exchange time forward only; server time follows; unsynced signatures fail until resync', async () => {
    const { ex } = await binanceAccount(sim);
    const before = (await (await fetch(`${sim.url}/_sim/clock`)).json()) as { now_ms: number };
    const bad = await fetch(`${sim.url}/_sim/clock`, { method: 'POST', body: '{"advance_ms": -1}' });
    expect(bad.status).toBe(400);
    await control(sim, 'POST', '/_sim/clock', { advance_ms: 2 * DAY });
    expect(Number(await ex.fetchTime()) - before.now_ms).toBeGreaterThanOrEqual(2 * DAY);
    expect(await rejects(() => ex.fetchBalance())).toBeInstanceOf(ccxt.InvalidNonce);
    await ex.loadTimeDifference();
    ex.options['adjustForTimeDifference'] = true;
    await expect(ex.fetchBalance()).resolves.toBeDefined();
  });
});

describe('binance userTrades and income', () => {
  it('enforces the 7-day window and fromId rules, pages by fromId, answers the documented fields', async () => {
    const { ex } = await binanceAccount(sim);
    await ex.loadTimeDifference();
    ex.options['adjustForTimeDifference'] = true;
    await ex.createOrder(ETH, 'market', 'buy', 0.1);
    const t0 = Number(await ex.fetchTime());
    await control(sim, 'POST', '/_sim/clock', { advance_ms: 8 * DAY });
    await ex.loadTimeDifference();
    await ex.createOrder(ETH, 'market', 'sell', 0.1, undefined, { reduceOnly: true });
    const raw = ex as unknown as Record<string, (p: object) => Promise<Array<Record<string, unknown>>>>;
    const get = raw['fapiPrivateGetUserTrades']!.bind(ex);
    // "The time between startTime and endTime cannot be longer than 7 days."
    const tooLong = await rejects(() =>
      get({ symbol: 'ETHUSDT', startTime: t0 - 1000, endTime: t0 + 7 * DAY }),
    );
    expect(tooLong.message).toContain('-1127');
    // "The parameter fromId cannot be sent with startTime or endTime."
    const combo = await rejects(() => get({ symbol: 'ETHUSDT', fromId: 1, startTime: t0 - 1000 }));
    expect(combo.message).toContain('-1128');
    // startTime alone: the 7 days from it — the sell 8 days later is not in it.
    const week = await get({ symbol: 'ETHUSDT', startTime: t0 - 1000 });
    expect(week.map((t) => t['side'])).toEqual(['BUY']);
    const all = await get({ symbol: 'ETHUSDT', fromId: week[0]!['id'] as number });
    expect(all.map((t) => t['side'])).toEqual(['BUY', 'SELL']);
    expect(await get({ symbol: 'ETHUSDT', fromId: (all[1]!['id'] as number) + 1 })).toEqual([]);
    expectSameShape(all[1]!, fixture('binance-user-trades.json')[0]!);
  });

  it('books funding every 8 h as FUNDING_FEE income with the recorded fields', async () => {
    const { ex } = await binanceAccount(sim);
    await ex.loadTimeDifference();
    ex.options['adjustForTimeDifference'] = true;
    await ex.createOrder(ETH, 'market', 'buy', 0.1);
    await control(sim, 'POST', '/_sim/clock', { advance_ms: 8 * 3_600_000 });
    await ex.loadTimeDifference();
    const raw = ex as unknown as Record<string, (p: object) => Promise<Array<Record<string, unknown>>>>;
    const income = await raw['fapiPrivateGetIncome']!({ incomeType: 'FUNDING_FEE' });
    expect(income).toHaveLength(1);
    expect(Number(income[0]!['income'])).toBeLessThan(0); // a long pays a positive rate
    expect(Number(income[0]!['time']) % (8 * 3_600_000)).toBe(0);
    expectSameShape(income[0]!, fixture('binance-income-funding-fee.json')[0]!);
    const history = await ex.fetchFundingHistory(ETH);
    expect(history[0]?.amount).toBeCloseTo(Number(income[0]!['income']), 8);
  });

  it('feeBurn: GET/POST as documented; fees in BNB while the BNB balance covers them', async () => {
    const { ex, key } = await binanceAccount(sim);
    await ex.loadTimeDifference();
    ex.options['adjustForTimeDifference'] = true;
    const raw = ex as unknown as Record<string, (p?: object) => Promise<unknown>>;
    expect(await raw['fapiPrivateGetFeeBurn']!()).toEqual({ feeBurn: false });
    expect(await raw['fapiPrivatePostFeeBurn']!({ feeBurn: 'true' })).toEqual({ code: 200, msg: 'success' });
    await ex.createOrder(ETH, 'market', 'buy', 0.1);
    let [t] = await ex.fetchMyTrades(ETH);
    expect(t?.fee?.currency).toBe('USDT'); // no BNB in the wallet yet
    await control(sim, 'PATCH', `/_sim/accounts/binance/${key}`, { bnb_balance: 1 });
    await ex.createOrder(ETH, 'market', 'sell', 0.1, undefined, { reduceOnly: true });
    t = (await ex.fetchMyTrades(ETH)).at(-1);
    expect(t?.fee?.currency).toBe('BNB');
    const bnb = sim.engine.price('BNBUSDT');
    expect((t?.fee?.cost ?? 0) * bnb).toBeCloseTo((t?.cost ?? 0) * 0.0004 * 0.9, 6);
  });
});

describe('okx fills and bills', () => {
  it('pages fills newest first by billId (limit ≤ 100) and lists funding as bills type 8', async () => {
    const { ex } = await okxAccount(sim, { balance: 100_000 });
    await control(sim, 'POST', '/_sim/fill-split', { symbol: 'ETHUSDT', max_fill_qty: 0.01 });
    try {
      await ex.loadTimeDifference();
      ex.options['adjustForTimeDifference'] = true;
      await ex.createOrder(ETH, 'market', 'buy', 15); // 15 contracts = 1.5 ETH = 150 fills
      const raw = ex as unknown as Record<
        string,
        (p: object) => Promise<{ data: Array<Record<string, string>> }>
      >;
      const fills = raw['privateGetTradeFills']!.bind(ex);
      const first = (await fills({ instType: 'SWAP', instId: 'ETH-USDT-SWAP', limit: '500' })).data;
      expect(first).toHaveLength(100);
      const ids = first.map((f) => Number(f['billId']));
      expect([...ids].sort((a, b) => b - a)).toEqual(ids); // newest first
      const older = (await fills({ instType: 'SWAP', instId: 'ETH-USDT-SWAP', after: first[99]!['billId'] }))
        .data;
      expect(older).toHaveLength(50);
      const newer = (await fills({ instType: 'SWAP', instId: 'ETH-USDT-SWAP', before: older[0]!['billId'] }))
        .data;
      expect(newer).toHaveLength(100);
      const noType = await rejects(() => raw['privateGetTradeFillsHistory']!({ instId: 'ETH-USDT-SWAP' }));
      expect(noType.message).toContain('instType');
      await control(sim, 'POST', '/_sim/clock', { advance_ms: 8 * 3_600_000 });
      await ex.loadTimeDifference();
      const bills = raw['privateGetAccountBills']!.bind(ex);
      const funding = (await bills({ instType: 'SWAP', type: '8' })).data;
      expect(funding).toHaveLength(1);
      expect(funding[0]).toMatchObject({ type: '8', subType: '173', instId: 'ETH-USDT-SWAP', ccy: 'USDT' });
      expect(Number(funding[0]!['balChg'])).toBeLessThan(0);
      const history = await ex.fetchFundingHistory(ETH);
      expect(history.at(-1)?.amount).toBeCloseTo(Number(funding[0]!['balChg']), 8);
      const recorded = fixture('okx-bills.json')[0]!;
      expectSameShape(funding[0]!, recorded);
      const tradeBill = (await bills({ instType: 'SWAP', type: '2', limit: '1' })).data[0]!;
      expectSameShape(tradeBill, recorded);
    } finally {
      await control(sim, 'POST', '/_sim/fill-split', { symbol: 'ETHUSDT', max_fill_qty: 0 });
      await setPrice(sim, 'ETHUSDT', sim.engine.price('ETHUSDT'));
    }
  });
});
