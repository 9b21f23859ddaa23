import { ALL_SYMBOLS, type OrderJob } from '@tradehook/contracts';
import { describe, expect, it } from 'vitest';
import { finishedFields } from './finished-fields.ts';

const job = (action: OrderJob['signal']['action'], symbol = 'BTC/USDT:USDT') =>
  ({ signal: { exchange: 'binance', account_id: 'a', action, symbol } }) as OrderJob;

const details = (results: Record<string, unknown>, extra = {}) => ({
  success: true,
  exchange: 'binance',
  account_id: 'a',
  action: 'long',
  symbol: 'BTC/USDT:USDT',
  results,
  ...extra,
});

describe('"signal finished" fields', () => {
  it('names symbol, side, size and price of an entry', () => {
    const entry = { side: 'buy', amount: 0.01, filled: 0.01, average_price: 50_010.5 };
    expect(finishedFields(job('long'), details({ entry }))).toEqual({
      action: 'long',
      symbol: 'BTC/USDT:USDT',
      side: 'buy',
      size: 0.01,
      price: 50_010.5,
    });
  });

  it('names the close order of a close, and every symbol of a close_all', () => {
    const exit = { side: 'sell', amount: 0.02, filled: null, average_price: 49_000 };
    expect(finishedFields(job('close_long'), details({ closed: [exit] }))).toMatchObject({
      side: 'sell',
      size: 0.02,
      price: 49_000,
    });
    const all = details({ closed: [] }, { symbol: ALL_SYMBOLS, symbols: ['BTC/USDT:USDT', 'ETH/USDT:USDT'] });
    expect(finishedFields(job('close_all', ALL_SYMBOLS), all)).toEqual({
      action: 'close_all',
      symbol: ['BTC/USDT:USDT', 'ETH/USDT:USDT'],
    });
  });
});
