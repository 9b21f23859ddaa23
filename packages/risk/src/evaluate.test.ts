import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, setAccountTradingEnabled, setGlobalHalt, type pg } from '@tradehook/db';
import { createTestDatabase, type TestDatabase } from '../../../tests/support/index.ts';
import { lossBudgetToday, recheckEntry } from './evaluate.ts';
import type { RiskDefaults } from './defaults.ts';
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

const defaults: RiskDefaults = {
  maxLeverage: 20,
  leveragePolicy: 'reject',
  dailyLossCap: null,
  maxPositionNotional: null,
  maxOpenPositions: null,
  timezone: 'UTC',
};
const entryHaltReason = (exchange: 'okx' | 'binance', accountId: string, d = defaults, now = Date.now()) =>
  recheckEntry(pool, { exchange, account_id: accountId, action: 'long', symbol: 'BTC/USDT:USDT' }, d, now);

describe('recheckEntry', () => {
  it('reports a global or account halt set after approval, and nothing otherwise', async () => {
    expect(await entryHaltReason('okx', 'acc')).toBeNull();
    await setAccountTradingEnabled(pool, accountRowId, false);
    expect(await entryHaltReason('okx', 'acc')).toMatch(/^account_halted/);
    await setGlobalHalt(pool, { halted: true, reason: 'incident', since: null });
    expect(await entryHaltReason('okx', 'acc')).toMatch(/^halted: .*\(incident\)/);
    await setGlobalHalt(pool, { halted: false });
    await setAccountTradingEnabled(pool, accountRowId, true);
    expect(await entryHaltReason('okx', 'acc')).toBeNull();
    expect(await entryHaltReason('okx', 'ghost')).toMatch(/^account_not_found/);
  });

  it('reports a daily loss cap reached by fills recorded after approval', async () => {
    await pool.query(
      `INSERT INTO fills (id, exchange, account_id, trade_id, symbol, side, price, amount, fee, realized_pnl, time)
       VALUES ($1, 'okx', 'acc', $2, 'ETH/USDT:USDT', 'sell', 1, 1, 1, -60, '2026-07-01T08:00:00Z')`,
      [randomUUID(), randomUUID()],
    );
    const at = Date.parse('2026-07-01T09:00:00Z');
    expect(await entryHaltReason('okx', 'acc', { ...defaults, dailyLossCap: 62 }, at)).toBeNull();
    expect(await entryHaltReason('okx', 'acc', { ...defaults, dailyLossCap: 61 }, at)).toMatch(
      /^daily_loss_cap_reached: today's realised PnL \(2026-07-01, UTC\) is -61.00 USDT/,
    );
    expect(
      await entryHaltReason('okx', 'acc', { ...defaults, dailyLossCap: 61 }, at + 86_400_000),
    ).toBeNull();
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
    expect(budget.pnl).toEqual({ realizedPnl: -35, fees: 2.5, funding: 0, netPnl: -37.5, fillCount: 2 });
    expect(budget.remaining).toBe(12.5);
    expect(budget.entriesBlocked).toBe(false);
  });
});
