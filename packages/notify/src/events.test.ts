import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NotificationEvent, OrderJob } from '@tradehook/contracts';
import {
  eventFromRiskRejection,
  eventsFromOrderOutcome,
  protectionHitEvents,
  type KnownLeg,
} from './events.ts';
import { streamConnected } from '@tradehook/metrics/pipeline';
import { OutageTracker, StreamWatch } from './outage.ts';

const job = (action: OrderJob['signal']['action'] = 'long'): OrderJob => ({
  signalId: randomUUID(),
  requestId: 'req-1',
  receivedAt: 0,
  signal: { account_id: 'main', exchange: 'binance', action, symbol: 'BTC/USDT:USDT' },
  limits: { maxLeverage: 10 },
  riskDecidedAt: 0,
});
const result = (results: Record<string, unknown> = {}) => ({ results });

describe('events from a worker outcome', () => {
  it('an executed entry: side, filled size, average price, the SL/TP the exchange accepted', () => {
    const [e] = eventsFromOrderOutcome(job(), {
      status: 'executed',
      reason: null,
      result: result({
        entry: { filled: 0.01, amount: 0.01, average_price: 50_010 },
        stop_loss: { trigger_price: 49_000, status: 'open' },
        take_profit: { trigger_price: 52_000, status: 'rejected', error: 'would trigger immediately' },
      }),
    });
    expect(e).toMatchObject({
      kind: 'signal_executed',
      side: 'long',
      amount: 0.01,
      price: 50_010,
      stopLoss: 49_000,
    });
    expect(e).toMatchObject({ takeProfit: null });
  });

  it('unprotected: flattened (failed) or kept open (policy keep), both told as such', () => {
    const flattened = eventsFromOrderOutcome(job(), {
      status: 'failed',
      reason: 'unprotected → flattened: stop_loss not placed: -2021 Order would immediately trigger.',
      result: result(),
    });
    expect(flattened.map((e) => e.kind)).toEqual(['position_unprotected']);
    expect(flattened[0]).toMatchObject({ flattened: true });
    const kept = eventsFromOrderOutcome(job(), {
      status: 'executed',
      reason: 'stop_loss not placed: -2021 Order would immediately trigger.',
      result: result({ entry: { filled: 1, average_price: 1 } }),
    });
    expect(kept.map((e) => e.kind)).toEqual(['signal_executed', 'position_unprotected']);
    expect(kept[1]).toMatchObject({ flattened: false });
  });

  it('a refused key is a failed signal and a key problem; ignored signals tell nothing', () => {
    const events = eventsFromOrderOutcome(job(), {
      status: 'failed',
      reason: 'AuthenticationError: -2015 Invalid API-key, IP, or permissions for action.',
      result: result(),
    });
    expect(events.map((e) => e.kind)).toEqual(['signal_failed', 'key_problem']);
    expect(events[1]).toMatchObject({ problem: 'revoked', accountId: 'main' });
    expect(
      eventsFromOrderOutcome(job(), { status: 'ignored', reason: 'no position', result: result() }),
    ).toEqual([]);
  });

  it('the daily loss cap, from risk or from the re-check, has its own event', () => {
    const reason = 'daily_loss_cap_reached: realised today -120.00 ≤ -100.00';
    expect(eventFromRiskRejection(job(), { code: 'daily_loss_cap_reached', reason })).toMatchObject({
      kind: 'daily_loss_cap',
      reason,
    });
    expect(
      eventFromRiskRejection(job(), { code: 'halted', reason: 'halted: trading is halted' }),
    ).toMatchObject({
      kind: 'signal_rejected',
      stage: 'risk',
    });
    const [e] = eventsFromOrderOutcome(job(), {
      status: 'rejected',
      reason: `rejected at execution: ${reason}`,
      result: result(),
    });
    expect(e?.kind).toBe('daily_loss_cap');
  });
});

describe('SL/TP hits from new fills', () => {
  const legs: KnownLeg[] = [
    {
      exchangeOrderId: '11',
      clientOrderId: 'thX',
      symbol: 'ETH/USDT:USDT',
      leg: 'exit',
      status: 'filled',
      triggerPrice: null,
    },
    {
      exchangeOrderId: '12',
      clientOrderId: 'thS',
      symbol: 'ETH/USDT:USDT',
      leg: 'stop_loss',
      status: 'open',
      triggerPrice: 2_900,
    },
    {
      exchangeOrderId: '13',
      clientOrderId: 'thT',
      symbol: 'ETH/USDT:USDT',
      leg: 'take_profit',
      status: 'open',
      triggerPrice: 3_300,
    },
  ];
  const fill = (exchangeOrderId: string, price: number, realizedPnl: number, amount = 0.05) => ({
    exchangeOrderId,
    clientOrderId: null,
    symbol: 'ETH/USDT:USDT',
    price,
    amount,
    fee: 0.1,
    realizedPnl,
  });

  it('sums the partial fills of the fired stop; our own exits and entries are not hits', () => {
    const events = protectionHitEvents(
      'binance',
      'main',
      [
        fill('99', 2_895, -5),
        fill('99', 2_890, -6),
        fill('11', 3_000, 4), // our exit
        fill('98', 3_000, 0), // an entry: reduces nothing
      ],
      legs,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'protection_hit',
      leg: 'stop_loss',
      amount: 0.1,
      realizedPnl: -11,
      fee: 0.2,
    });
    expect((events[0] as Extract<NotificationEvent, { kind: 'protection_hit' }>).price).toBeCloseTo(2_892.5);
  });

  it('a trailing stop that fired is told as one (found by its client id)', () => {
    const trailing = [
      ...legs,
      {
        exchangeOrderId: '55',
        clientOrderId: 'thTrail0000000000000000R',
        symbol: 'ETH/USDT:USDT',
        leg: 'trailing_stop',
        status: 'open',
        triggerPrice: null,
      },
    ];
    const hit = { ...fill('54', 3_150, 7), clientOrderId: 'thTrail0000000000000000R' };
    expect(protectionHitEvents('okx', 'main', [hit], trailing)[0]).toMatchObject({
      leg: 'trailing_stop',
      realizedPnl: 7,
    });
  });

  it('a take-profit is told as one; a reducing fill far from every trigger was someone else', () => {
    expect(protectionHitEvents('binance', 'main', [fill('97', 3_301, 20)], legs)[0]).toMatchObject({
      leg: 'take_profit',
    });
    expect(protectionHitEvents('binance', 'main', [fill('96', 3_100, 10)], legs)).toEqual([]);
  });
});

describe('OutageTracker', () => {
  it('alerts once after the threshold, tells the return only after an alert', () => {
    const seen: NotificationEvent[] = [];
    const t = new OutageTracker('worker-okx', 1_000, (e) => seen.push(e));
    t.observe(false, 0);
    t.observe(true, 500); // a blip
    t.observe(false, 1_000);
    t.observe(false, 1_999);
    expect(seen).toEqual([]);
    t.observe(false, 2_000);
    t.observe(false, 9_000);
    t.observe(true, 10_000);
    expect(seen).toMatchObject([
      { kind: 'component_down', component: 'worker-okx', down: true, seconds: 1 },
      { kind: 'component_down', down: false, seconds: 9 },
    ]);
  });
});

describe('StreamWatch', () => {
  it('sets the connection gauge and reports a stream down past the threshold, even without new events', async () => {
    const seen: NotificationEvent[] = [];
    const labels = { venue: 'okx' as const, account: 'main', stream: 'user' };
    const watch = new StreamWatch(labels, 30_000, (e) => seen.push(e));
    const gauge = async () =>
      (await streamConnected.get()).values.find((v) => v.labels['account'] === 'main')?.value;
    watch.connected(true, 0);
    expect(await gauge()).toBe(1);
    watch.connected(false, 1_000);
    expect(await gauge()).toBe(0);
    watch.tick(20_000);
    expect(seen).toEqual([]);
    watch.tick(31_000);
    expect(seen).toMatchObject([
      {
        kind: 'component_down',
        component: 'stream okx:main user',
        exchange: 'okx',
        accountId: 'main',
        down: true,
      },
    ]);
    watch.connected(true, 40_000);
    expect(seen[1]).toMatchObject({ down: false, seconds: 39 });
  });
});
