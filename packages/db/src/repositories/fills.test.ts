import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../tests/support/index.ts';
import { createPgPool } from '../client.ts';
import { insertFills, type NewFill } from './fills.ts';

/** The fills key: re-syncing a trade is harmless, and no real trade is dropped as a "duplicate". */
let db: TestDatabase;
let pool: ReturnType<typeof createPgPool>;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const fill = (tradeId: string, symbol: string): NewFill => ({
  tradeId,
  exchangeOrderId: '8100000001',
  clientOrderId: null,
  symbol,
  side: 'buy',
  price: 50_000,
  amount: 0.01,
  fee: 0.2,
  feeAsset: 'USDT',
  realizedPnl: 0,
  time: new Date('2026-12-01T00:00:00Z'),
});

describe('insertFills', () => {
  it('skips a trade it already has', async () => {
    expect(await insertFills(pool, 'binance', 'resync', [fill('1', 'BTC/USDT:USDT')])).toBe(1);
    expect(await insertFills(pool, 'binance', 'resync', [fill('1', 'BTC/USDT:USDT')])).toBe(0);
  });

  it('keeps one trade id on two symbols of one account (Binance and OKX number trades per symbol)', async () => {
    const inserted = await insertFills(pool, 'binance', 'per_symbol', [
      fill('698759', 'BTC/USDT:USDT'),
      fill('698759', 'ETH/USDT:USDT'),
    ]);
    expect(inserted).toBe(2);
  });

  it('keeps one trade id on two accounts and on both exchanges', async () => {
    const t = fill('123456', 'BTC/USDT:USDT');
    expect(await insertFills(pool, 'binance', 'acct_a', [t])).toBe(1);
    expect(await insertFills(pool, 'binance', 'acct_b', [t])).toBe(1);
    expect(await insertFills(pool, 'okx', 'acct_a', [t])).toBe(1);
  });
});
