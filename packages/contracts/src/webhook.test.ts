import { describe, expect, it } from 'vitest';
import {
  ALL_SYMBOLS,
  dedupKey,
  isExitAction,
  normaliseWebhook,
  parseAlertTimestamp,
  sequenceKey,
  webhookPayloadSchema,
} from './webhook.ts';

const guide = {
  account_id: 'my_binance_account',
  exchange: 'binance',
  action: 'long',
  symbol: 'BTCUSDT',
  leverage: 10,
  secret: 'YOUR_SECRET_KEY',
};

function issues(body: unknown): string[] {
  const r = webhookPayloadSchema.safeParse(body);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('webhookPayloadSchema', () => {
  it('parses the guide payload and normalises the symbol', () => {
    expect(webhookPayloadSchema.parse(guide)).toEqual({ ...guide, symbol: 'BTC/USDT:USDT' });
  });

  it('coerces TradingView numeric strings and treats "" as not given', () => {
    const parsed = webhookPayloadSchema.parse({
      ...guide,
      quantity: '0.010',
      leverage: '5',
      price: ' 50123.5 ',
      stop_loss: '4.8e4',
      take_profit: '',
      max_lag: '30',
    });
    expect(parsed).toMatchObject({
      quantity: 0.01,
      leverage: 5,
      price: 50123.5,
      stop_loss: 48000,
      max_lag: 30,
    });
    expect(parsed.take_profit).toBeUndefined();
  });

  it('accepts upper-case exchange and action, and ignores unknown fields', () => {
    const parsed = webhookPayloadSchema.parse({
      ...guide,
      exchange: 'OKX',
      action: 'CLOSE_ALL',
      strategy: 'x',
    });
    expect(parsed).toMatchObject({ exchange: 'okx', action: 'close_all' });
    expect(parsed).not.toHaveProperty('strategy');
  });

  it.each([
    [{ quantity: -1 }, 'quantity: quantity must be greater than 0'],
    [{ quantity: 'lots' }, 'quantity: quantity must be a number'],
    [{ leverage: 0 }, 'leverage: leverage must be at least 1'],
    [{ leverage: '2.5' }, 'leverage: leverage must be a whole number'],
    [{ leverage: 126 }, 'leverage: leverage must be at most 125'],
    [{ action: 'buy' }, 'action: action must be one of long, short, close_long, close_short, close_all'],
    [{ stop_loss: 0 }, 'stop_loss: stop_loss must be greater than 0'],
    [{ account_id: 'has space' }, 'account_id: account_id may contain letters, digits, "_", "-" and "."'],
    [{ secret: '' }, 'secret: secret is required'],
    [
      { symbol: 'BTC' },
      'symbol: unrecognised symbol "BTC": expected e.g. BTCUSDT, BTCUSDT.P or BTC/USDT:USDT',
    ],
  ])('reports %j', (change, message) => {
    expect(issues({ ...guide, ...change })).toContain(message);
  });

  it('reports every missing required field', () => {
    const paths = (webhookPayloadSchema.safeParse({}).error?.issues ?? []).map((i) => i.path.join('.'));
    expect(paths.sort()).toEqual(['account_id', 'action', 'exchange', 'secret']);
  });

  it('requires a symbol for every action but close_all, the emergency exit', () => {
    const { symbol: _omitted, ...withoutSymbol } = guide;
    for (const action of ['long', 'short', 'close_long', 'close_short']) {
      expect(issues({ ...withoutSymbol, action })).toContain(
        `symbol: symbol is required for ${action} (only close_all may omit it)`,
      );
    }
    const closeAll = webhookPayloadSchema.parse({ ...withoutSymbol, action: 'close_all' });
    expect(normaliseWebhook(closeAll).symbol).toBe(ALL_SYMBOLS);
    // A symbol given with close_all is kept (the alert stays ordered with that symbol's alerts).
    const named = webhookPayloadSchema.parse({ ...guide, action: 'close_all' });
    expect(normaliseWebhook(named).symbol).toBe('BTC/USDT:USDT');
  });
});

describe('normaliseWebhook', () => {
  it('drops the secret, keeps instructions, maps id/alert_id and the timestamp', () => {
    const signal = normaliseWebhook(
      webhookPayloadSchema.parse({ ...guide, id: 77, timestamp: '2026-11-26T12:00:00Z', max_lag: 5 }),
    );
    expect(signal).toEqual({
      account_id: 'my_binance_account',
      exchange: 'binance',
      action: 'long',
      symbol: 'BTC/USDT:USDT',
      leverage: 10,
      alert_id: '77',
      sent_at: Date.parse('2026-11-26T12:00:00Z'),
      max_lag: 5,
    });
    expect(JSON.stringify(signal)).not.toContain('YOUR_SECRET_KEY');
  });

  it('prefers alert_id over id', () => {
    expect(normaliseWebhook(webhookPayloadSchema.parse({ ...guide, id: 'a', alert_id: 'b' })).alert_id).toBe(
      'b',
    );
  });

  it('parses epoch seconds, epoch milliseconds and ISO timestamps', () => {
    expect(parseAlertTimestamp(1_764_158_400)).toBe(1_764_158_400_000);
    expect(parseAlertTimestamp('1764158400123')).toBe(1_764_158_400_123);
    expect(parseAlertTimestamp('2025-11-26T12:00:00.000Z')).toBe(Date.parse('2025-11-26T12:00:00.000Z'));
    expect(() => parseAlertTimestamp('yesterday')).toThrow();
  });
});

describe('dedupKey, sequenceKey, isExitAction', () => {
  const signal = normaliseWebhook(webhookPayloadSchema.parse(guide));

  it('hashes the normalised signal: every symbol form and field order gives one key, the secret none', () => {
    const other = normaliseWebhook(
      webhookPayloadSchema.parse({
        secret: 'another secret',
        leverage: '10',
        symbol: 'BINANCE:BTCUSDT.P',
        action: 'long',
        exchange: 'binance',
        account_id: 'my_binance_account',
      }),
    );
    expect(dedupKey(other)).toEqual(dedupKey(signal));
    expect(dedupKey(signal).explicit).toBe(false);
    expect(dedupKey(signal).key).toMatch(/^h:binance:my_binance_account:[A-Za-z0-9_-]{32}$/);
  });

  it('differs when an instruction differs', () => {
    expect(dedupKey({ ...signal, quantity: 1 }).key).not.toBe(dedupKey(signal).key);
    expect(dedupKey({ ...signal, action: 'short' }).key).not.toBe(dedupKey(signal).key);
    expect(dedupKey({ ...signal, account_id: 'other' }).key).not.toBe(dedupKey(signal).key);
  });

  it('uses an explicit alert id as is, scoped to the account', () => {
    expect(dedupKey({ ...signal, alert_id: 'bar-1', quantity: 3 })).toEqual({
      key: 'id:binance:my_binance_account:bar-1',
      explicit: true,
    });
  });

  it('keys sequences per exchange, account and symbol; exits are exits', () => {
    expect(sequenceKey('okx', 'a', 'BTC/USDT:USDT')).toBe('okx:a:BTC/USDT:USDT');
    expect(
      ['long', 'short', 'close_long', 'close_short', 'close_all'].map((a) => isExitAction(a as never)),
    ).toEqual([false, false, true, true, true]);
  });
});
