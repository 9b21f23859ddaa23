import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, setAccountTradingEnabled, setGlobalHalt, type pg } from '@tradehook/db';
import { createTestDatabase, type TestDatabase } from '../../../tests/support/index.ts';
import { entryHaltReason, lossBudgetToday } from './evaluate.ts';
import { effectiveLimits } from './effective-limits.ts';

let db: TestDatabase;
let pool: pg.Pool;
let accountRowId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 2 });
  accountRowId = randomUUID();
  await pool.query(
    `INSERT INTO accounts (id, exchange, account_id, api_key_masked, credentials, credentials_key_id)
     VALUES ($1, 'okx', 'acc', 'x', '\\x00'::bytea, 'k')`,
    [accountRowId],
  );
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('entryHaltReason', () => {
  it('reports a global or account halt set after approval, and nothing otherwise', async () => {
    expect(await entryHaltReason(pool, 'okx', 'acc')).toBeNull();
    await setAccountTradingEnabled(pool, accountRowId, false);
    expect(await entryHaltReason(pool, 'okx', 'acc')).toMatch(/^account_halted/);
    await setGlobalHalt(pool, { halted: true, reason: 'incident', since: null });
    expect(await entryHaltReason(pool, 'okx', 'acc')).toMatch(/^halted: .*\(incident\)/);
    await setGlobalHalt(pool, { halted: false });
    await setAccountTradingEnabled(pool, accountRowId, true);
    expect(await entryHaltReason(pool, 'okx', 'acc')).toBeNull();
  });
});

describe('lossBudgetToday', () => {
  it('sums only this account, this exchange and this day', async () => {
    const insert = (exchange: string, accountId: string, pnl: number, fee: number, time: string) =>
      pool.query(
        `INSERT INTO fills (id, exchange, account_id, trade_id, symbol, side, price, amount, fee, realized_pnl, time)
         VALUES ($1, $2::"Exchange", $3, $4, 'BTC/USDT:USDT', 'sell', 1, 1, $5, $6, $7)`,
        [randomUUID(), exchange, accountId, randomUUID(), fee, pnl, time],
      );
    await insert('okx', 'acc', -40, 2, '2026-05-01T10:00:00Z');
    await insert('okx', 'acc', 5, 0.5, '2026-05-01T23:59:59.999Z');
    await insert('okx', 'other', -1000, 0, '2026-05-01T10:00:00Z');
    await insert('binance', 'acc', -1000, 0, '2026-05-01T10:00:00Z');
    await insert('okx', 'acc', -1000, 0, '2026-05-02T00:00:00Z');
    const limits = {
      ...effectiveLimits(null, {
        maxLeverage: 20,
        leveragePolicy: 'reject',
        dailyLossCap: 50,
        maxPositionNotional: null,
        maxOpenPositions: null,
        timezone: 'UTC',
      }),
    };
    const budget = await lossBudgetToday(pool, 'okx', 'acc', limits, Date.parse('2026-05-01T12:00:00Z'));
    expect(budget.pnl).toEqual({ realizedPnl: -35, fees: 2.5, netPnl: -37.5, fillCount: 2 });
    expect(budget.remaining).toBe(12.5);
    expect(budget.entriesBlocked).toBe(false);
  });
});
