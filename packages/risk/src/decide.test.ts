import { describe, expect, it } from 'vitest';
import type { NormalisedSignal } from '@tradehook/contracts';
import { decideSignal, type RiskContext } from './decide.ts';
import { effectiveLimits } from './effective-limits.ts';
import type { RiskDefaults } from './defaults.ts';
import { dayWindow } from './day-window.ts';

const defaults: RiskDefaults = {
  maxLeverage: 20,
  leveragePolicy: 'reject',
  dailyLossCap: null,
  maxPositionNotional: null,
  maxOpenPositions: null,
  timezone: 'UTC',
};
const now = Date.parse('2026-03-10T12:00:00Z');
const signal = (over: Partial<NormalisedSignal> = {}): NormalisedSignal => ({
  account_id: 'acc',
  exchange: 'binance',
  action: 'long',
  symbol: 'BTC/USDT:USDT',
  ...over,
});
const ctx = (
  s: NormalisedSignal,
  limits = effectiveLimits(null, defaults),
  extra: Partial<RiskContext> = {},
) =>
  ({
    signal: s,
    account: { defaultLeverage: null, limits },
    globalHalt: { halted: false },
    now,
    ...extra,
  }) satisfies RiskContext;

describe('decideSignal', () => {
  it('approves an entry within limits and passes the limits on', () => {
    expect(decideSignal(ctx(signal({ leverage: 10 })))).toEqual({
      approved: true,
      limits: { leverage: 10, maxLeverage: 20 },
    });
  });

  it('rejects leverage above the max by default and clamps when the policy says so', () => {
    const d = decideSignal(ctx(signal({ leverage: 50 })));
    expect(d.approved).toBe(false);
    if (!d.approved)
      expect(d.reason).toMatch(/^leverage_above_max: leverage 50x is above the account maximum 20x/);
    const clamp = decideSignal(
      ctx(signal({ leverage: 50 }), { ...effectiveLimits(null, defaults), leveragePolicy: 'clamp' }),
    );
    expect(clamp).toMatchObject({ approved: true, limits: { leverage: 20, maxLeverage: 20 } });
  });

  it("uses the account's default leverage capped by the max when the signal gives none", () => {
    const c = ctx(signal());
    const limits = effectiveLimits(null, defaults);
    expect(decideSignal({ ...c, account: { limits, defaultLeverage: 5 } })).toMatchObject({
      limits: { leverage: 5 },
    });
    expect(decideSignal({ ...c, account: { limits, defaultLeverage: 50 } })).toMatchObject({
      approved: true,
      limits: { leverage: 20 },
    });
    expect(decideSignal(c)).toEqual({ approved: true, limits: { maxLeverage: 20 } });
  });

  it('stale entries are rejected, stale exits pass', () => {
    const old = { sent_at: now - 61_000, max_lag: 60 };
    expect(decideSignal(ctx(signal(old)))).toMatchObject({ approved: false, code: 'stale' });
    expect(decideSignal(ctx(signal({ ...old, action: 'close_long' })))).toMatchObject({ approved: true });
    expect(decideSignal(ctx(signal({ sent_at: now - 59_000, max_lag: 60 })))).toMatchObject({
      approved: true,
    });
  });

  it('daily loss cap compares net PnL (fees included) with -cap, inclusive', () => {
    const limits = { ...effectiveLimits(null, defaults), dailyLossCap: 100 };
    const window = dayWindow(now, 'UTC');
    const at = (netPnl: number) => ({
      window,
      pnl: { realizedPnl: netPnl + 1, fees: 1, funding: 0, netPnl, fillCount: 2 },
    });
    expect(decideSignal(ctx(signal(), limits, { today: at(-99.99) }))).toMatchObject({ approved: true });
    expect(decideSignal(ctx(signal(), limits, { today: at(-100) }))).toMatchObject({
      approved: false,
      code: 'daily_loss_cap_reached',
    });
    expect(decideSignal(ctx(signal({ action: 'close_all' }), limits))).toMatchObject({ approved: true });
  });

  it('max open positions does not count the signal symbol itself', () => {
    const limits = { ...effectiveLimits(null, defaults), maxOpenPositions: 1 };
    expect(decideSignal(ctx(signal(), limits, { openSymbols: ['BTC/USDT:USDT'] }))).toMatchObject({
      approved: true,
    });
    expect(decideSignal(ctx(signal(), limits, { openSymbols: ['ETH/USDT:USDT'] }))).toMatchObject({
      approved: false,
      code: 'max_open_positions_reached',
    });
  });

  it('unknown account is rejected even for an exit', () => {
    expect(decideSignal({ ...ctx(signal({ action: 'close_all' })), account: null })).toMatchObject({
      approved: false,
      code: 'account_not_found',
    });
  });

  it('refuses a notional alert above the maximum position notional before it reaches the worker', () => {
    const limits = effectiveLimits(null, { ...defaults, maxPositionNotional: 1000 });
    expect(decideSignal(ctx(signal({ notional: 1500 }), limits))).toMatchObject({
      approved: false,
      code: 'position_notional_above_max',
    });
    expect(decideSignal(ctx(signal({ notional: 900 }), limits))).toMatchObject({ approved: true });
  });
});
