import { describe, expect, it } from 'vitest';
import { entryFieldsSchema } from './entry-fields.ts';
import { normaliseWebhook, normalisedSignalSchema, webhookPayloadSchema } from './webhook.ts';

const guide = {
  account_id: 'a',
  exchange: 'okx',
  action: 'long',
  symbol: 'BTCUSDT',
  secret: 's',
};

function issues(body: unknown): string[] {
  const r = webhookPayloadSchema.safeParse(body);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('entry fields (issue 16)', () => {
  it('parses the executed forms, coercing TradingView strings, and normalises them unchanged', () => {
    const parsed = webhookPayloadSchema.parse({
      ...guide,
      risk_pct: '1.5',
      stop_loss_atr: '2',
      take_profit_pct: '3',
    });
    expect(parsed).toMatchObject({ risk_pct: 1.5, stop_loss_atr: 2, take_profit_pct: 3 });
    const signal = normaliseWebhook(parsed);
    expect(signal).toMatchObject({ risk_pct: 1.5, stop_loss_atr: 2, take_profit_pct: 3 });
    expect(normalisedSignalSchema.parse(signal)).toEqual(signal);
  });

  it('takes several take-profits, break-even "tp1" and break_even_pct, normalised', () => {
    const fields = {
      take_profits: [
        { pct: '1', share: '50' },
        { atr: 3, share: 30 },
        { price: 70000, share: 20 },
      ],
      break_even: 'TP1',
    };
    expect(issues({ ...guide, ...fields })).toEqual([]);
    const signal = normaliseWebhook(webhookPayloadSchema.parse({ ...guide, ...fields }));
    expect(signal).toMatchObject({
      take_profits: [
        { pct: 1, share: 50 },
        { atr: 3, share: 30 },
        { price: 70000, share: 20 },
      ],
      break_even: 'tp1',
    });
    expect(normalisedSignalSchema.parse(signal)).toEqual(signal);
    expect(issues({ ...guide, take_profit: 52000, break_even_pct: '1.5' })).toEqual([]);
    expect(entryFieldsSchema.parse({ break_even_pct: '1.5' })).toMatchObject({ break_even_pct: 1.5 });
  });

  it('executes the trailing stop: % and ATR callbacks with an activation pass and are normalised', () => {
    const pct = webhookPayloadSchema.parse({ ...guide, trailing_pct: '0.8', trailing_activation_pct: '2' });
    expect(normaliseWebhook(pct)).toMatchObject({ trailing_pct: 0.8, trailing_activation_pct: 2 });
    expect(issues({ ...guide, trailing_atr: 2, trailing_activation: 70000 })).toEqual([]);
  });

  it.each([
    ['binance', 12, 'trailing_pct: binance takes a trailing callback of 0.1–10 %; this one is 12 %'],
    ['okx', 0.05, 'trailing_pct: okx takes a trailing callback of 0.1–10 %; this one is 0.05 %'],
  ])('refuses a %s trailing_pct of %d at the webhook', (exchange, pct, message) => {
    expect(issues({ ...guide, exchange, trailing_pct: pct })).toEqual([message]);
  });

  it('keeps an alert without the new fields exactly as before', () => {
    const signal = normaliseWebhook(webhookPayloadSchema.parse({ ...guide, quantity: 1, stop_loss: 5 }));
    expect(Object.keys(signal).sort()).toEqual(
      ['account_id', 'action', 'exchange', 'quantity', 'stop_loss', 'symbol'].sort(),
    );
  });

  it.each([
    ['contracts', 3],
    ['notional', 250],
    ['balance_pct', 25],
    ['quantity', 0.1],
  ])('accepts %s alone as the sizing mode', (field, value) => {
    expect(issues({ ...guide, [field]: value })).toEqual([]);
  });

  it.each([
    [{ quantity: 1, notional: 100 }, 'notional: one sizing mode per alert: quantity, notional were given'],
    [{ risk_pct: 1 }, 'risk_pct: risk_pct sizes the entry from its stop'],
    [{ balance_pct: 0 }, 'balance_pct: balance_pct must be greater than 0'],
    [{ balance_pct: 101 }, 'balance_pct: balance_pct must be at most 100'],
    [{ risk_pct: 'much', stop_loss: 1 }, 'risk_pct: risk_pct must be a number'],
    [{ stop_loss: 1, stop_loss_pct: 2 }, 'stop_loss_pct: one stop-loss form per alert'],
    [{ stop_loss_pct: 100 }, 'stop_loss_pct: stop_loss_pct must be at most 99.99'],
    [
      { take_profit: 1, take_profits: [{ pct: 1, share: 10 }] },
      'take_profits: one take-profit form per alert',
    ],
    [{ take_profits: [] }, 'take_profits: take_profits needs at least one entry'],
    [
      { take_profits: Array.from({ length: 7 }, () => ({ pct: 1, share: 10 })) },
      'take_profits: take_profits has at most 6 entries',
    ],
    [
      {
        take_profits: [
          { pct: 1, share: 60 },
          { pct: 2, share: 50 },
        ],
      },
      'take_profits: take_profits shares sum to 110 %; they must sum to at most 100 %',
    ],
    [
      { take_profits: [{ share: 10 }] },
      'take_profits.0: a take_profits entry needs one of price, pct or atr',
    ],
    [
      { take_profits: [{ pct: 1, atr: 1, share: 10 }] },
      'take_profits.0: a take_profits entry takes one of price, pct or atr, not pct and atr',
    ],
    [{ take_profits: [{ pct: 1 }] }, 'take_profits.0.share: take_profits[].share must be a number'],
    [{ trailing_pct: 1, trailing_atr: 1 }, 'trailing_atr: trailing stop: give trailing_pct or trailing_atr'],
    [
      { trailing_activation: 5 },
      'trailing_activation: trailing_activation needs trailing_pct or trailing_atr',
    ],
    [{ trailing_pct: 60 }, 'trailing_pct: trailing_pct must be at most 50'],
    [{ break_even: 'tp1' }, 'break_even: break_even "tp1" needs a take-profit'],
    [{ break_even: 'later' }, 'break_even: break_even must be "tp1" (or use break_even_pct)'],
    [{ break_even: 'tp1', break_even_pct: 1, take_profit: 9 }, 'break_even_pct: break-even: give break_even'],
  ])('reports %j', (change, message) => {
    const found = issues({ ...guide, ...change });
    expect(
      found.some((m) => m.startsWith(message)),
      found.join('\n'),
    ).toBe(true);
  });
});
