import { describe, expect, it } from 'vitest';
import type { ExchangeAdapter, PositionInfo } from '@tradehook/exchange';
import { planClose } from './close-part.ts';

/**
 * The decision alone (pure): a market whose minimum amount (0.003) is above its step (0.001), which the
 * simulator's markets do not have, so the "remainder below the minimum" rule is shown here.
 */
const market = {
  amountToPrecision: (_s: string, amount: number) => {
    const a = Math.floor(amount * 1000 * (1 + 1e-9)) / 1000;
    return { amount: a, exchangeAmount: a };
  },
  market: () => ({
    symbol: 'X/USDT:USDT',
    contractSize: 1,
    minAmount: 0.003,
    minNotional: 0,
    maxLeverage: 20,
  }),
} as unknown as ExchangeAdapter;

const pos = (amount: number): PositionInfo => ({
  symbol: 'X/USDT:USDT',
  side: 'long',
  contracts: amount,
  amount,
  entryPrice: 1,
  markPrice: 1,
  unrealizedPnl: 0,
  leverage: 1,
});

describe('planClose', () => {
  it('a remainder below the minimum amount: closes all and says so', () => {
    expect(planClose(market, pos(0.01), { kind: 'quantity', amount: 0.008 })).toEqual({
      amount: 0.01,
      whole: true,
      note: "quantity 0.008 would leave 0.002, below the market's minimum amount 0.003: closed all 0.01",
    });
  });

  it('a part at precision, leaving at least the minimum', () => {
    expect(planClose(market, pos(0.01), { kind: 'pct', pct: 55 })).toEqual({
      amount: 0.005,
      exchangeAmount: 0.005,
      whole: false,
    });
  });

  it('more than the position closes all and says so; exactly the position says nothing', () => {
    expect(planClose(market, pos(0.01), { kind: 'quantity', amount: 1 })).toMatchObject({
      amount: 0.01,
      whole: true,
      note: 'quantity 1 is more than the long position of 0.01: closed all of it',
    });
    expect(planClose(market, pos(0.01), { kind: 'quantity', amount: 0.01 })).toEqual({
      amount: 0.01,
      whole: true,
    });
  });
});
