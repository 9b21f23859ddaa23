import { describe, expect, it } from 'vitest';
import { entryFieldsSchema, webhookPayloadSchema, normaliseWebhook } from '@tradehook/contracts';
import {
  needsAtr,
  planProtection,
  ProtectionPlanError,
  protectionFormsFromSignal,
  resizeAfterPartialExit,
  splitAmounts,
  type PlanProtectionInput,
} from './protection-plan.ts';

/** Amount precision 0.001, floored like ccxt's amountToPrecision (TRUNCATE). */
const floor3 = (n: number) => Math.floor(n * 1000 + 1e-9) / 1000;
const long: Omit<PlanProtectionInput, 'forms'> = {
  side: 'long',
  fillPrice: 100,
  filledAmount: 1,
  roundAmount: floor3,
  minAmount: 0.001,
};

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtectionPlanError) return err.reason;
    throw err;
  }
  return 'no error';
}

describe('protectionFormsFromSignal', () => {
  // Parsed with the entry fields' own schema: break_even_pct is still refused at the webhook.
  const signal = (extra: object) => ({
    ...normaliseWebhook(
      webhookPayloadSchema.parse({
        account_id: 'a',
        exchange: 'okx',
        action: 'long',
        symbol: 'BTCUSDT',
        secret: 's',
      }),
    ),
    ...entryFieldsSchema.parse(extra),
    ...('stop_loss' in extra ? { stop_loss: Number(extra.stop_loss) } : {}),
    ...('take_profit' in extra ? { take_profit: Number(extra.take_profit) } : {}),
  });
  it('uses the ATR defaults only when the alert names no SL/TP', () => {
    expect(protectionFormsFromSignal(signal({}), { sl: 2, tp: 3 })).toEqual({
      stopLoss: { atr: 2 },
      takeProfits: [{ atr: 3, share: 100 }],
    });
    expect(protectionFormsFromSignal(signal({}))).toEqual({});
    expect(protectionFormsFromSignal(signal({ stop_loss: 90 }), { sl: 2, tp: 3 })).toEqual({
      stopLoss: { price: 90 },
    });
  });
  it('maps every form', () => {
    const forms = protectionFormsFromSignal(
      signal({
        stop_loss_pct: 2,
        take_profits: [
          { pct: 1, share: 50 },
          { atr: 2, share: 50 },
        ],
        trailing_atr: 1.5,
        trailing_activation: 120,
        break_even: 'tp1',
      }),
    );
    expect(forms).toEqual({
      stopLoss: { pct: 2 },
      takeProfits: [
        { pct: 1, share: 50 },
        { atr: 2, share: 50 },
      ],
      trailing: { atr: 1.5, activation: { price: 120 } },
      breakEven: 'tp1',
    });
    expect(needsAtr(forms)).toBe(true);
    expect(needsAtr({ stopLoss: { pct: 1 } })).toBe(false);
  });
});

describe('planProtection', () => {
  it('prices, % and ATR levels for a long and a short', () => {
    expect(
      planProtection({
        ...long,
        atr: 5,
        forms: { stopLoss: { atr: 2 }, takeProfits: [{ pct: 10, share: 100 }] },
      }),
    ).toEqual({
      stopLoss: { trigger: 90 },
      takeProfits: [{ trigger: 110, amount: 1, index: 1 }],
      warnings: [],
    });
    const short = planProtection({
      ...long,
      side: 'short',
      forms: { stopLoss: { pct: 5 }, takeProfits: [{ price: 80, share: 100 }] },
    });
    expect(short.stopLoss?.trigger).toBeCloseTo(105, 9);
    expect(short.takeProfits[0]!.trigger).toBe(80);
  });

  it('splits 50/30/20 so the amounts sum exactly to the fill', () => {
    const plan = planProtection({
      ...long,
      filledAmount: 0.333,
      forms: {
        takeProfits: [
          { pct: 1, share: 50 },
          { pct: 2, share: 30 },
          { pct: 3, share: 20 },
        ],
      },
    });
    expect(plan.takeProfits.map((t) => t.amount)).toEqual([0.166, 0.099, 0.068]);
    expect(plan.takeProfits.reduce((a, t) => a + t.amount, 0)).toBeCloseTo(0.333, 12);
    expect(plan.takeProfits.map((t) => t.index)).toEqual([1, 2, 3]);
  });

  it('leaves a runner when the shares sum below 100 %', () => {
    const plan = planProtection({
      ...long,
      forms: {
        takeProfits: [
          { pct: 1, share: 50 },
          { pct: 2, share: 25 },
        ],
      },
    });
    expect(plan.takeProfits.map((t) => t.amount)).toEqual([0.5, 0.25]);
  });

  it('merges a share below the minimum quantity into the previous one, with a warning', () => {
    const plan = planProtection({
      ...long,
      filledAmount: 0.01,
      minAmount: 0.005,
      forms: {
        takeProfits: [
          { pct: 1, share: 70 },
          { pct: 2, share: 30 },
        ],
      },
    });
    expect(plan.takeProfits).toEqual([{ trigger: 101, amount: 0.01, index: 1 }]);
    expect(plan.warnings[0]).toMatch(
      /take_profits\[2\] of 0.003 is below the minimum quantity 0.005; merged into take_profits\[1\]/,
    );
  });

  it('merges a first share below the minimum into the next one', () => {
    const { parts, warnings } = splitAmounts(0.01, [10, 90], floor3, 0.002);
    expect(parts).toEqual([{ index: 2, amount: 0.01 }]);
    expect(warnings[0]).toMatch(/merged into take_profits\[2\]/);
  });

  it.each([
    [{ stopLoss: { price: 101 } }, 'stop_loss 101 must be below the fill price (100) for a long'],
    [
      { takeProfits: [{ price: 99, share: 100 }] },
      'take_profit 99 must be above the fill price (100) for a long',
    ],
    [
      {
        takeProfits: [
          { pct: 1, share: 50 },
          { price: 90, share: 50 },
        ],
      },
      'take_profits[2] 90 must be above the fill price (100) for a long',
    ],
    [{ stopLoss: { atr: 30 } }, 'stop_loss would be at -50, not above 0'],
    [
      { stopLoss: { atr: 1 } },
      'stop_loss in ATR multiples needs an ATR, and there is none (too few candles)',
    ],
    [
      { trailing: { pct: 1, activation: { price: 95 } } },
      'trailing_activation 95 must be above the fill price (100) for a long',
    ],
  ])('refuses %j', (forms, message) => {
    expect(
      reason(() => planProtection({ ...long, ...(message.includes('-50') ? { atr: 5 } : {}), forms })),
    ).toBe(message);
  });

  it('refuses a short take-profit of 100 % or more (a price ≤ 0)', () => {
    expect(
      reason(() =>
        planProtection({ ...long, side: 'short', forms: { takeProfits: [{ pct: 100, share: 100 }] } }),
      ),
    ).toBe('take_profit would be at 0, not above 0');
  });

  it('trailing stop in % or ATR, with activation; break-even after TP1 or a move', () => {
    const plan = planProtection({
      ...long,
      atr: 2,
      feeRate: 0.0005,
      forms: {
        takeProfits: [{ pct: 5, share: 50 }],
        trailing: { atr: 1.5, activation: { pct: 2 } },
        breakEven: 'tp1',
      },
    });
    expect(plan.trailing).toEqual({ callbackPct: 3, callbackDistance: 3, activation: 102 });
    expect(plan.breakEven).toEqual({ after: { takeProfit: 1 }, stop: 100.1 });
    const short = planProtection({
      ...long,
      side: 'short',
      forms: { trailing: { pct: 0.5 }, breakEven: { pct: 1 } },
    });
    expect(short.trailing).toEqual({ callbackPct: 0.5, callbackDistance: 0.5 });
    expect(short.breakEven).toEqual({ after: { trigger: 99 }, stop: 100 });
  });
});

describe('resizeAfterPartialExit', () => {
  it('keeps the remaining TPs after a TP fill; the stop covers what is left', () => {
    expect(
      resizeAfterPartialExit({
        remaining: 0.5,
        takeProfits: [
          { index: 2, amount: 0.3 },
          { index: 3, amount: 0.2 },
        ],
        roundAmount: floor3,
        minAmount: 0.001,
      }),
    ).toEqual({
      stopLoss: 0.5,
      takeProfits: [
        { index: 2, amount: 0.3 },
        { index: 3, amount: 0.2 },
      ],
      warnings: [],
    });
  });

  it('scales the TPs down to the remaining size after a manual partial close', () => {
    const r = resizeAfterPartialExit({
      remaining: 0.7,
      takeProfits: [
        { index: 1, amount: 0.5 },
        { index: 2, amount: 0.3 },
        { index: 3, amount: 0.2 },
      ],
      roundAmount: floor3,
      minAmount: 0.001,
    });
    expect(r.takeProfits).toEqual([
      { index: 1, amount: 0.35 },
      { index: 2, amount: 0.21 },
      { index: 3, amount: 0.14 },
    ]);
    expect(r.stopLoss).toBe(0.7);
  });

  it('merges below-minimum shares and names the alert’s indexes', () => {
    const r = resizeAfterPartialExit({
      remaining: 0.01,
      takeProfits: [
        { index: 2, amount: 0.3 },
        { index: 3, amount: 0.1 },
      ],
      roundAmount: floor3,
      minAmount: 0.005,
    });
    expect(r.takeProfits).toEqual([{ index: 2, amount: 0.01 }]);
    expect(r.warnings[0]).toMatch(/take_profits\[3\].*merged into take_profits\[2\]/);
    expect(
      resizeAfterPartialExit({ remaining: 0, takeProfits: [], roundAmount: floor3, minAmount: 0 }),
    ).toEqual({
      stopLoss: 0,
      takeProfits: [],
      warnings: [],
    });
  });
});
