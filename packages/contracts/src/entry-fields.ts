import { z } from 'zod';

/**
 * Per-alert sizing and protection fields of an entry (issue 16). All optional and flat, like `quantity`,
 * `stop_loss` and `take_profit`: an alert valid before stays valid and means the same. Percentages are given
 * in percent (`10` = 10 %). The cross-field rules (one sizing mode, one form per level, TP shares ≤ 100 %)
 * are in `checkEntryFields`.
 */

/** TradingView placeholders arrive as strings ("{{close}}" → "50123.5"); "" means "not given". */
export function numericInput<T extends z.ZodType>(inner: T) {
  return z.preprocess((v) => {
    if (typeof v === 'string') {
      const t = v.trim();
      if (t === '') return undefined;
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : v;
    }
    return v === null ? undefined : v;
  }, inner);
}

const bounded = (field: string, min: number, max: number, minInclusive = false) =>
  z
    .number({ error: `${field} must be a number` })
    .finite({ error: `${field} must be a number` })
    .refine((n) => (minInclusive ? n >= min : n > min), {
      error: minInclusive ? `${field} must be at least ${min}` : `${field} must be greater than ${min}`,
      abort: true,
    })
    .max(max, `${field} must be at most ${max}`);

export const ENTRY_FIELD_BOUNDS = {
  contracts: { max: 1e10 },
  notional: { min: 1e-6, max: 1e10 },
  /** % of available balance (margin) put into the entry, before leverage. */
  balancePct: { max: 100 },
  /** % of equity lost when the stop is hit. */
  riskPct: { max: 100 },
  /** % distance from the fill price of a level or a trailing callback. */
  levelPct: { max: 1000 },
  /** A long's stop can be at most 100 % below the fill; a trailing callback is small. */
  stopPct: { max: 99.99 },
  trailingPct: { max: 50 },
  atr: { max: 100 },
  takeProfits: { max: 6 },
} as const;

const num = (field: string, max: number, min = 0) => numericInput(bounded(field, min, max).optional());

/** One take-profit of `take_profits`: exactly one of price / pct / atr, and the share of the position it closes. */
export const takeProfitLevelSchema = z
  .object({
    price: num('take_profits[].price', 1e9),
    pct: num('take_profits[].pct', ENTRY_FIELD_BOUNDS.levelPct.max),
    atr: num('take_profits[].atr', ENTRY_FIELD_BOUNDS.atr.max),
    share: numericInput(bounded('take_profits[].share', 0, 100)),
  })
  .check((ctx) => {
    const forms = (['price', 'pct', 'atr'] as const).filter((k) => ctx.value[k] !== undefined);
    if (forms.length !== 1) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message:
          forms.length === 0
            ? 'a take_profits entry needs one of price, pct or atr'
            : `a take_profits entry takes one of price, pct or atr, not ${forms.join(' and ')}`,
      });
    }
  });
export type TakeProfitLevel = z.infer<typeof takeProfitLevelSchema>;

export const BREAK_EVEN_TRIGGERS = ['tp1'] as const;

/** The field shapes, shared by the webhook payload and the normalised signal. */
export const entryFieldsShape = {
  /** Sizing (at most one of quantity / contracts / notional / balance_pct / risk_pct). */
  contracts: num('contracts', ENTRY_FIELD_BOUNDS.contracts.max),
  notional: num('notional', ENTRY_FIELD_BOUNDS.notional.max, ENTRY_FIELD_BOUNDS.notional.min),
  balance_pct: num('balance_pct', ENTRY_FIELD_BOUNDS.balancePct.max),
  risk_pct: num('risk_pct', ENTRY_FIELD_BOUNDS.riskPct.max),
  /** Stop-loss forms besides `stop_loss` (a price). */
  stop_loss_pct: num('stop_loss_pct', ENTRY_FIELD_BOUNDS.stopPct.max),
  stop_loss_atr: num('stop_loss_atr', ENTRY_FIELD_BOUNDS.atr.max),
  /** Take-profit forms besides `take_profit` (a price). */
  take_profit_pct: num('take_profit_pct', ENTRY_FIELD_BOUNDS.levelPct.max),
  take_profit_atr: num('take_profit_atr', ENTRY_FIELD_BOUNDS.atr.max),
  take_profits: z
    .array(takeProfitLevelSchema, { error: 'take_profits must be a list of {price|pct|atr, share}' })
    .min(1, 'take_profits needs at least one entry')
    .max(
      ENTRY_FIELD_BOUNDS.takeProfits.max,
      `take_profits has at most ${ENTRY_FIELD_BOUNDS.takeProfits.max} entries`,
    )
    .optional(),
  /** Trailing stop: a callback in % or in ATR multiples, optionally armed only once a price / move is reached. */
  trailing_pct: num('trailing_pct', ENTRY_FIELD_BOUNDS.trailingPct.max),
  trailing_atr: num('trailing_atr', ENTRY_FIELD_BOUNDS.atr.max),
  trailing_activation: num('trailing_activation', 1e9),
  trailing_activation_pct: num('trailing_activation_pct', ENTRY_FIELD_BOUNDS.levelPct.max),
  /** Break-even: after TP1 fills ("tp1"), or after the price moved `break_even_pct` % in favour. */
  break_even: z
    .preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v === null ? undefined : v),
      z.enum(BREAK_EVEN_TRIGGERS, { error: 'break_even must be "tp1" (or use break_even_pct)' }).optional(),
    )
    .optional(),
  break_even_pct: num('break_even_pct', ENTRY_FIELD_BOUNDS.levelPct.max),
} as const;

export const entryFieldsSchema = z.object(entryFieldsShape);
export type EntryFields = z.infer<typeof entryFieldsSchema>;

export const SIZING_FIELDS = ['quantity', 'contracts', 'notional', 'balance_pct', 'risk_pct'] as const;
export type SizingField = (typeof SIZING_FIELDS)[number];

/** What the cross-field rules read: the entry fields plus the legacy ones. */
export type EntryFieldValues = EntryFields & {
  quantity?: number | undefined;
  stop_loss?: number | undefined;
  take_profit?: number | undefined;
};

type Issue = { path: (string | number)[]; message: string };

/** The rules between fields; empty when the combination is valid. */
export function entryFieldIssues(v: EntryFieldValues): Issue[] {
  const out: Issue[] = [];
  const given = <K extends keyof EntryFieldValues>(keys: readonly K[]) =>
    keys.filter((k) => v[k] !== undefined);

  const sizing = given(SIZING_FIELDS);
  if (sizing.length > 1) {
    out.push({
      path: [sizing[1]!],
      message: `one sizing mode per alert: ${sizing.join(', ')} were given (use one of ${SIZING_FIELDS.join(', ')})`,
    });
  }
  const sl = given(['stop_loss', 'stop_loss_pct', 'stop_loss_atr'] as const);
  if (sl.length > 1) {
    out.push({ path: [sl[1]!], message: `one stop-loss form per alert: ${sl.join(', ')} were given` });
  }
  const tp = given(['take_profit', 'take_profit_pct', 'take_profit_atr', 'take_profits'] as const);
  if (tp.length > 1) {
    out.push({ path: [tp[1]!], message: `one take-profit form per alert: ${tp.join(', ')} were given` });
  }
  if (v.take_profits) {
    const sum = v.take_profits.reduce((a, t) => a + t.share, 0);
    if (sum > 100 + 1e-9) {
      out.push({
        path: ['take_profits'],
        message: `take_profits shares sum to ${Number(sum.toFixed(6))} %; they must sum to at most 100 %`,
      });
    }
  }
  const trail = given(['trailing_pct', 'trailing_atr'] as const);
  if (trail.length > 1) {
    out.push({ path: [trail[1]!], message: 'trailing stop: give trailing_pct or trailing_atr, not both' });
  }
  const act = given(['trailing_activation', 'trailing_activation_pct'] as const);
  if (act.length > 1) {
    out.push({
      path: [act[1]!],
      message: 'trailing activation: give trailing_activation or trailing_activation_pct, not both',
    });
  }
  if (act.length > 0 && trail.length === 0) {
    out.push({ path: [act[0]!], message: `${act[0]} needs trailing_pct or trailing_atr` });
  }
  if (v.break_even !== undefined && v.break_even_pct !== undefined) {
    out.push({
      path: ['break_even_pct'],
      message: 'break-even: give break_even or break_even_pct, not both',
    });
  }
  if (v.break_even === 'tp1' && tp.length === 0) {
    out.push({ path: ['break_even'], message: 'break_even "tp1" needs a take-profit' });
  }
  if (v.risk_pct !== undefined && sl.length === 0) {
    out.push({
      path: ['risk_pct'],
      message: 'risk_pct sizes the entry from its stop: give stop_loss, stop_loss_pct or stop_loss_atr',
    });
  }
  return out;
}

/**
 * Fields the contract defines but the worker does not execute yet (none today). An alert carrying one is
 * refused at the webhook, so nothing runs without what it asked for.
 */
export const NOT_YET_EXECUTED_FIELDS: ReadonlyArray<keyof EntryFieldValues> = [];

/**
 * Trailing callback (% of the price) each venue takes. Binance USDⓈ-M "New Algo Order": callbackRate "min 0.1,
 * max 10 where 1 for 1%", in steps of 0.1. OKX "Place algo order" (move_order_stop): callbackRatio as a
 * fraction; its bounds are not in the docs text we could check, so the same 0.1–10 % is used (the stricter
 * reading; the simulator refuses beyond it with 51257), in steps of 0.01 %.
 */
export const TRAILING_CALLBACK_PCT = {
  binance: { min: 0.1, max: 10, step: 0.1 },
  okx: { min: 0.1, max: 10, step: 0.01 },
} as const;

/** Why a trailing callback of `pct` % cannot be placed on `exchange`; undefined when it can. */
export function trailingCallbackProblem(
  exchange: keyof typeof TRAILING_CALLBACK_PCT,
  pct: number,
): string | undefined {
  const b = TRAILING_CALLBACK_PCT[exchange];
  if (pct >= b.min - 1e-9 && pct <= b.max + 1e-9) return undefined;
  return `${exchange} takes a trailing callback of ${b.min}–${b.max} %; this one is ${Number(pct.toPrecision(6))} %`;
}

export function notYetExecutedIssues(v: EntryFieldValues): Issue[] {
  return NOT_YET_EXECUTED_FIELDS.filter((k) => v[k] !== undefined).map((k) => ({
    path: [k],
    message: `${k} is not executed by this version yet; the alert is refused rather than run without it`,
  }));
}
