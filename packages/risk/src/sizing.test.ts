import { describe, expect, it } from 'vitest';
import { checkPostSizingLimits, SizingError, sizeEntry, sizingFromSignal } from './sizing.ts';

const base = { price: 50_000, leverage: 10 };

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SizingError) return err.reason;
    throw err;
  }
  return 'no error';
}

describe('sizingFromSignal', () => {
  it('picks the alert mode, else balance_pct at the global default', () => {
    expect(sizingFromSignal({ notional: 500 }, 0.1)).toEqual({ mode: 'notional', value: 500 });
    expect(sizingFromSignal({ quantity: 0.2 }, 0.1)).toEqual({ mode: 'quantity', value: 0.2 });
    expect(sizingFromSignal({}, 0.1)).toEqual({ mode: 'balance_pct', value: 10 });
  });
});

describe('sizeEntry', () => {
  it('quantity is the base amount; contracts × contract size; notional / price', () => {
    expect(sizeEntry({ ...base, mode: 'quantity', value: 0.3 }).amount).toBe(0.3);
    expect(sizeEntry({ ...base, mode: 'contracts', value: 5, contractSize: 0.01 }).amount).toBeCloseTo(
      0.05,
      12,
    );
    expect(sizeEntry({ ...base, mode: 'notional', value: 1000 }).amount).toBeCloseTo(0.02, 12);
  });

  it('balance_pct: free × pct × leverage / price (today’s default at 10 %)', () => {
    const s = sizeEntry({ ...base, mode: 'balance_pct', value: 10, freeBalance: 1000 });
    expect(s.amount).toBeCloseTo((1000 * 0.1 * 10) / 50_000, 12);
    expect(s).toMatchObject({ autoSized: true, capped: false });
  });

  it('risk_pct: |entry − stop| × amount = equity × pct, fees optional', () => {
    const s = sizeEntry({ ...base, mode: 'risk_pct', value: 1, equity: 10_000, stopLoss: 49_000 });
    expect(s.amount * 1000).toBeCloseTo(100, 9);
    const short = sizeEntry({ ...base, mode: 'risk_pct', value: 2, equity: 10_000, stopLoss: 51_000 });
    expect(short.amount * 1000).toBeCloseTo(200, 9);
    const withFees = sizeEntry({
      ...base,
      mode: 'risk_pct',
      value: 1,
      equity: 10_000,
      stopLoss: 49_000,
      feeRate: 0.0005,
    });
    // loss at the stop including both fees = 100 USDT
    expect(withFees.amount * (1000 + 0.0005 * (50_000 + 49_000))).toBeCloseTo(100, 9);
  });

  it('refuses risk_pct without a stop, at the entry, or without equity', () => {
    expect(reason(() => sizeEntry({ ...base, mode: 'risk_pct', value: 1, equity: 1000 }))).toBe(
      'risk_pct needs a stop-loss: give stop_loss, stop_loss_pct or stop_loss_atr',
    );
    expect(
      reason(() => sizeEntry({ ...base, mode: 'risk_pct', value: 1, equity: 1000, stopLoss: 50_000 })),
    ).toMatch(/is at the entry price/);
    expect(reason(() => sizeEntry({ ...base, mode: 'risk_pct', value: 1, equity: 0, stopLoss: 1 }))).toBe(
      'no size: equity 0 USDT gives nothing to risk',
    );
  });

  it('auto-sized modes shrink to the position cap; explicit sizes do not', () => {
    const capped = sizeEntry({
      ...base,
      mode: 'balance_pct',
      value: 100,
      freeBalance: 10_000,
      maxPositionNotional: 5_000,
      sameSideAmount: 0.04,
    });
    expect(capped.amount).toBeCloseTo(0.06, 12);
    expect(capped.capped).toBe(true);
    expect(sizeEntry({ ...base, mode: 'quantity', value: 1, maxPositionNotional: 5_000 }).amount).toBe(1);
    expect(
      reason(() =>
        sizeEntry({
          ...base,
          mode: 'balance_pct',
          value: 10,
          freeBalance: 1000,
          maxPositionNotional: 5_000,
          sameSideAmount: 0.2,
        }),
      ),
    ).toBe('no size: available balance 1000 USDT gives nothing to trade at 50000');
    expect(reason(() => sizeEntry({ ...base, mode: 'balance_pct', value: 10 }))).toBe(
      'no size: available balance 0 USDT gives nothing to trade at 50000',
    );
  });
});

describe('checkPostSizingLimits (the worker’s messages)', () => {
  const ok = {
    symbol: 'BTC/USDT:USDT',
    amount: 0.01,
    price: 50_000,
    minAmount: 0.001,
    minNotional: 100,
    openPositions: 0,
  };
  it('passes within the limits', () => {
    expect(() => checkPostSizingLimits(ok)).not.toThrow();
  });
  it.each([
    [{ amount: 0.0005 }, 'order size 0.0005 is below the minimum quantity 0.001 for BTC/USDT:USDT'],
    [{ amount: 0.001 }, 'order notional 50 USDT is below the minimum notional 100 USDT for BTC/USDT:USDT'],
    [
      { maxPositionNotional: 600, sameSideAmount: 0.003 },
      'position notional 650 USDT would exceed the limit of 600 USDT',
    ],
    [
      { maxOpenPositions: 2, openPositions: 2 },
      'opening BTC/USDT:USDT would make 3 open positions; the limit is 2',
    ],
    [
      { conditionalOrders: { open: 9, adding: 2, max: 10 } },
      "BTC/USDT:USDT has 9 open stop/take-profit orders and this entry's protection needs 2 more; the exchange holds at most 10 per symbol",
    ],
  ])('refuses %j', (change, message) => {
    expect(reason(() => checkPostSizingLimits({ ...ok, ...change }))).toBe(message);
  });
  it('an entry whose protection fills the cap exactly, or adds none, passes', () => {
    for (const conditionalOrders of [
      { open: 8, adding: 2, max: 10 },
      { open: 10, adding: 0, max: 10 },
    ])
      expect(() => checkPostSizingLimits({ ...ok, conditionalOrders })).not.toThrow();
  });
  it('adding to an open position does not count as a new one', () => {
    expect(() =>
      checkPostSizingLimits({ ...ok, maxOpenPositions: 2, openPositions: 2, sameSideAmount: 0.1 }),
    ).not.toThrow();
  });
});
