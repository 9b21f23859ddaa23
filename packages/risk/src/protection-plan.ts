import type { NormalisedSignal } from '@tradehook/contracts';

/** Pure planning of an entry's protection (issue 16): SL, up to 6 TPs with amounts, trailing stop, break-even. */

export type Side = 'long' | 'short';
/** A level: a price, a % distance from the fill price, or a multiple of the ATR. */
export type LevelForm = { price: number } | { pct: number } | { atr: number };
export type TakeProfitForm = LevelForm & { /** percent of the filled amount */ share: number };

export interface ProtectionForms {
  stopLoss?: LevelForm | undefined;
  takeProfits?: TakeProfitForm[] | undefined;
  trailing?: ({ pct: number } | { atr: number }) & { activation?: { price: number } | { pct: number } };
  breakEven?: 'tp1' | { pct: number } | undefined;
}

export class ProtectionPlanError extends Error {
  override readonly name = 'ProtectionPlanError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The alert's forms. Without any stop-loss or take-profit field, `atrDefaults` (today's ATR_SL_MULTIPLIER /
 * ATR_TP_MULTIPLIER, passed only when the account's auto SL/TP is on) give one ATR stop and one ATR TP.
 */
export function protectionFormsFromSignal(
  s: Pick<
    NormalisedSignal,
    | 'stop_loss'
    | 'stop_loss_pct'
    | 'stop_loss_atr'
    | 'take_profit'
    | 'take_profit_pct'
    | 'take_profit_atr'
    | 'take_profits'
    | 'trailing_pct'
    | 'trailing_atr'
    | 'trailing_activation'
    | 'trailing_activation_pct'
    | 'break_even'
    | 'break_even_pct'
  >,
  atrDefaults?: { sl: number; tp: number },
): ProtectionForms {
  const forms: ProtectionForms = {};
  if (s.stop_loss !== undefined) forms.stopLoss = { price: s.stop_loss };
  else if (s.stop_loss_pct !== undefined) forms.stopLoss = { pct: s.stop_loss_pct };
  else if (s.stop_loss_atr !== undefined) forms.stopLoss = { atr: s.stop_loss_atr };
  if (s.take_profits !== undefined) {
    forms.takeProfits = s.take_profits.map((t): TakeProfitForm => {
      if (t.price !== undefined) return { price: t.price, share: t.share };
      if (t.pct !== undefined) return { pct: t.pct, share: t.share };
      return { atr: t.atr!, share: t.share };
    });
  } else if (s.take_profit !== undefined) forms.takeProfits = [{ price: s.take_profit, share: 100 }];
  else if (s.take_profit_pct !== undefined) forms.takeProfits = [{ pct: s.take_profit_pct, share: 100 }];
  else if (s.take_profit_atr !== undefined) forms.takeProfits = [{ atr: s.take_profit_atr, share: 100 }];
  if (forms.stopLoss === undefined && forms.takeProfits === undefined && atrDefaults) {
    forms.stopLoss = { atr: atrDefaults.sl };
    forms.takeProfits = [{ atr: atrDefaults.tp, share: 100 }];
  }
  const activation =
    s.trailing_activation !== undefined
      ? { price: s.trailing_activation }
      : s.trailing_activation_pct !== undefined
        ? { pct: s.trailing_activation_pct }
        : undefined;
  if (s.trailing_pct !== undefined)
    forms.trailing = { pct: s.trailing_pct, ...(activation ? { activation } : {}) };
  else if (s.trailing_atr !== undefined)
    forms.trailing = { atr: s.trailing_atr, ...(activation ? { activation } : {}) };
  if (s.break_even === 'tp1') forms.breakEven = 'tp1';
  else if (s.break_even_pct !== undefined) forms.breakEven = { pct: s.break_even_pct };
  return forms;
}

/** The conditional orders (stop, each take-profit, trailing stop) an entry with these forms places. */
export function conditionalLegCount(forms: ProtectionForms): number {
  return (forms.stopLoss ? 1 : 0) + (forms.takeProfits?.length ?? 0) + (forms.trailing ? 1 : 0);
}

/** Do these forms need an ATR (so the worker loads candles)? */
export function needsAtr(forms: ProtectionForms): boolean {
  const isAtr = (f: object | undefined) => f !== undefined && 'atr' in f;
  return isAtr(forms.stopLoss) || (forms.takeProfits ?? []).some(isAtr) || isAtr(forms.trailing);
}

/** The price of a level form around `ref` on the side that protects (stop) or profits (target). */
export function levelPrice(
  form: LevelForm,
  side: Side,
  ref: number,
  kind: 'stop' | 'target',
  atr?: number,
  field = kind === 'stop' ? 'stop_loss' : 'take_profit',
): number {
  if ('price' in form) return form.price;
  const dir = (side === 'long' ? 1 : -1) * (kind === 'stop' ? -1 : 1);
  if ('pct' in form) return ref * (1 + (dir * form.pct) / 100);
  if (atr === undefined || !(atr > 0)) {
    throw new ProtectionPlanError(
      `${field} in ATR multiples needs an ATR, and there is none (too few candles)`,
    );
  }
  return ref + dir * form.atr * atr;
}

export interface PlanProtectionInput {
  side: Side;
  fillPrice: number;
  filledAmount: number;
  forms: ProtectionForms;
  atr?: number | undefined;
  /** The exchange's amount precision (e.g. adapter.amountToPrecision(...).amount). */
  roundAmount: (amount: number) => number;
  /** The exchange's price precision; identity when omitted. */
  roundPrice?: ((price: number) => number) | undefined;
  /** The market's minimum quantity (base units). */
  minAmount: number;
  /** Taker fee rate per side, for the break-even stop (entry ± fees of entry and exit); default 0. */
  feeRate?: number | undefined;
}

export interface PlannedTakeProfit {
  trigger: number;
  amount: number;
  /** 1-based position in the alert's take_profits. */
  index: number;
}

export interface ProtectionPlan {
  stopLoss?: { trigger: number };
  takeProfits: PlannedTakeProfit[];
  trailing?: {
    /** Callback as % of the price (Binance callbackRate, OKX callbackRatio). */
    callbackPct: number;
    /** Callback as a price distance (OKX callbackSpread). */
    callbackDistance: number;
    activation?: number;
  };
  breakEven?: {
    /** When to move the stop: after the TP with this index fills, or once the price reaches `trigger`. */
    after: { takeProfit: number } | { trigger: number };
    /** The new stop: the fill price plus (long) / minus (short) the fees of entry and exit. */
    stop: number;
  };
  warnings: string[];
}

const clean = (n: number) => Number(n.toPrecision(12));

/**
 * Splits `total` by `shares` (percent): each share rounded with `roundAmount`, the last taking the remainder
 * when the shares sum to 100 %; a share below `minAmount` is merged into the previous one (the first into the
 * next). Returns the surviving amounts with their 1-based indexes.
 */
export function splitAmounts(
  total: number,
  shares: number[],
  roundAmount: (n: number) => number,
  minAmount: number,
): { parts: Array<{ index: number; amount: number }>; warnings: string[] } {
  const warnings: string[] = [];
  const full = Math.abs(shares.reduce((a, b) => a + b, 0) - 100) < 1e-9;
  const raw = shares.map((s) => roundAmount((total * s) / 100));
  if (full && raw.length > 0) {
    const before = raw.slice(0, -1).reduce((a, b) => a + b, 0);
    raw[raw.length - 1] = clean(total - before);
  }
  const parts: Array<{ index: number; amount: number }> = [];
  let carry = 0;
  let carried: number[] = [];
  raw.forEach((amount, i) => {
    const index = i + 1;
    if (amount < minAmount - 1e-12 || !(amount > 0)) {
      if (parts.length > 0) {
        const prev = parts[parts.length - 1]!;
        prev.amount = clean(prev.amount + amount);
        warnings.push(
          `take_profits[${index}] of ${clean((total * shares[i]!) / 100)} is below the minimum quantity ${minAmount}; merged into take_profits[${prev.index}]`,
        );
      } else {
        carry = clean(carry + amount);
        carried.push(index);
      }
      return;
    }
    if (carried.length > 0) {
      warnings.push(
        `take_profits[${carried.join('], take_profits[')}] below the minimum quantity ${minAmount}; merged into take_profits[${index}]`,
      );
      carried = [];
    }
    parts.push({ index, amount: clean(amount + carry) });
    carry = 0;
  });
  if (carried.length > 0) {
    warnings.push(
      `take-profit amount ${carry} is below the minimum quantity ${minAmount}; no take-profit placed`,
    );
  }
  return { parts, warnings };
}

/** SL, TPs, trailing stop and break-even of a filled entry; throws ProtectionPlanError for impossible levels. */
export function planProtection(input: PlanProtectionInput): ProtectionPlan {
  const { side, fillPrice, filledAmount, forms, atr } = input;
  const roundPrice = input.roundPrice ?? ((p: number) => p);
  const long = side === 'long';
  const warnings: string[] = [];
  const plan: ProtectionPlan = { takeProfits: [], warnings };

  const checked = (price: number, kind: 'stop' | 'target', field: string): number => {
    const p = roundPrice(clean(price));
    if (!(p > 0)) throw new ProtectionPlanError(`${field} would be at ${clean(price)}, not above 0`);
    const wrong =
      kind === 'stop' ? (long ? p >= fillPrice : p <= fillPrice) : long ? p <= fillPrice : p >= fillPrice;
    if (wrong) {
      const where = (kind === 'stop') === long ? 'below' : 'above';
      throw new ProtectionPlanError(
        `${field} ${p} must be ${where} the fill price (${fillPrice}) for a ${side}`,
      );
    }
    return p;
  };

  if (forms.stopLoss) {
    plan.stopLoss = {
      trigger: checked(levelPrice(forms.stopLoss, side, fillPrice, 'stop', atr), 'stop', 'stop_loss'),
    };
  }

  const tps = forms.takeProfits ?? [];
  if (tps.length > 0) {
    const sum = tps.reduce((a, t) => a + t.share, 0);
    if (sum > 100 + 1e-9)
      throw new ProtectionPlanError(`take_profits shares sum to ${clean(sum)} %, over 100 %`);
    const triggers = tps.map((t, i) => {
      const field = tps.length === 1 ? 'take_profit' : `take_profits[${i + 1}]`;
      return checked(levelPrice(t, side, fillPrice, 'target', atr, field), 'target', field);
    });
    const { parts, warnings: w } = splitAmounts(
      filledAmount,
      tps.map((t) => t.share),
      input.roundAmount,
      input.minAmount,
    );
    warnings.push(...w);
    plan.takeProfits = parts.map((p) => ({
      trigger: triggers[p.index - 1]!,
      amount: p.amount,
      index: p.index,
    }));
  }

  if (forms.trailing) {
    const t = forms.trailing;
    let callbackDistance: number;
    if ('pct' in t) callbackDistance = (fillPrice * t.pct) / 100;
    else {
      if (atr === undefined || !(atr > 0)) {
        throw new ProtectionPlanError('trailing_atr needs an ATR, and there is none (too few candles)');
      }
      callbackDistance = t.atr * atr;
    }
    const callbackPct = (callbackDistance / fillPrice) * 100;
    if (!(callbackPct < 100)) {
      throw new ProtectionPlanError(
        `trailing callback ${clean(callbackPct)} % of the fill price is too wide`,
      );
    }
    plan.trailing = { callbackPct: clean(callbackPct), callbackDistance: clean(callbackDistance) };
    if (t.activation) {
      plan.trailing.activation = checked(
        levelPrice(t.activation, side, fillPrice, 'target', atr, 'trailing_activation'),
        'target',
        'trailing_activation',
      );
    }
  }

  if (forms.breakEven) {
    const fee = input.feeRate ?? 0;
    const stop = roundPrice(fillPrice * (long ? 1 + 2 * fee : 1 - 2 * fee));
    if (forms.breakEven === 'tp1') {
      const first = plan.takeProfits[0];
      if (first) plan.breakEven = { after: { takeProfit: first.index }, stop };
      else warnings.push('break_even "tp1": no take-profit placed; no break-even');
    } else {
      const trigger = checked(
        levelPrice({ pct: forms.breakEven.pct }, side, fillPrice, 'target'),
        'target',
        'break_even_pct',
      );
      plan.breakEven = { after: { trigger }, stop };
    }
  }
  return plan;
}

export interface ResizeInput {
  /** The position left after a TP fill or a partial close (base units). */
  remaining: number;
  /** The take-profits still open, in order, with their current amounts. */
  takeProfits: Array<{ index: number; amount: number }>;
  roundAmount: (amount: number) => number;
  minAmount: number;
}

export interface ResizePlan {
  /** The stop (and a trailing stop) covers what is left. */
  stopLoss: number;
  takeProfits: Array<{ index: number; amount: number }>;
  warnings: string[];
}

/**
 * Amounts after part of the position left: TPs that still fit in `remaining` keep theirs; otherwise they are
 * scaled down by the same factor to sum exactly to `remaining` (the last takes the remainder, a share below the
 * minimum is merged into the previous one).
 */
export function resizeAfterPartialExit(input: ResizeInput): ResizePlan {
  const remaining = Math.max(0, input.remaining);
  if (!(remaining > 0)) return { stopLoss: 0, takeProfits: [], warnings: [] };
  const planned = input.takeProfits.reduce((a, t) => a + t.amount, 0);
  if (planned <= remaining * (1 + 1e-12)) {
    return { stopLoss: remaining, takeProfits: input.takeProfits.map((t) => ({ ...t })), warnings: [] };
  }
  const shares = input.takeProfits.map((t) => (t.amount / planned) * 100);
  const { parts, warnings } = splitAmounts(remaining, shares, input.roundAmount, input.minAmount);
  return {
    stopLoss: remaining,
    takeProfits: parts.map((p) => ({ index: input.takeProfits[p.index - 1]!.index, amount: p.amount })),
    warnings: warnings.map((w) =>
      w.replace(
        /take_profits\[(\d+)\]/g,
        (_, i: string) => `take_profits[${input.takeProfits[Number(i) - 1]!.index}]`,
      ),
    ),
  };
}
