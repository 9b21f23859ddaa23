import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  entryFieldIssues,
  entryFieldsShape,
  notYetExecutedIssues,
  trailingCallbackProblem,
  type EntryFields,
  type EntryFieldValues,
} from './entry-fields.ts';
import { closeFieldIssues, closeFieldsShape, type CloseFieldValues } from './close-fields.ts';
import { orderTypeFieldsShape, orderTypeIssues, type OrderTypeFields } from './order-type-fields.ts';
import { symbolSchema } from './symbols.ts';

export const EXCHANGES = ['binance', 'okx'] as const;
export const exchangeSchema = z.enum(EXCHANGES);
export type Exchange = z.infer<typeof exchangeSchema>;

export const ENTRY_ACTIONS = ['long', 'short'] as const;
export const EXIT_ACTIONS = ['close_long', 'close_short', 'close_all'] as const;
export const ACTIONS = [...ENTRY_ACTIONS, ...EXIT_ACTIONS] as const;
export const actionSchema = z.enum(ACTIONS);
export type Action = z.infer<typeof actionSchema>;
export type EntryAction = (typeof ENTRY_ACTIONS)[number];

export function isExitAction(action: Action): boolean {
  return (EXIT_ACTIONS as readonly string[]).includes(action);
}

/** Account ids as used in URLs and alert messages. */
export const accountIdSchema = z
  .string()
  // Checked before trimming, so "\r\nh1" is refused rather than silently cleaned; only plain spaces
  // around the id (a copy-paste slip) are forgiven.
  .regex(/^ *[A-Za-z0-9_.-]* *$/, 'account_id may contain letters, digits, "_", "-" and "."')
  .trim()
  .min(1, 'account_id is required')
  .max(64, 'account_id is at most 64 characters');

/** TradingView placeholders arrive as strings ("{{close}}" → "50123.5"); "" means "not given". */
function numeric<T extends z.ZodType>(inner: T) {
  return z.preprocess((v) => {
    if (typeof v === 'string') {
      const t = v.trim();
      if (t === '') return undefined;
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : v;
    }
    return v === null ? undefined : v;
  }, inner);
}

/**
 * Outer bounds of any price or quantity an order can carry; the exact limits are per symbol (Binance
 * exchangeInfo PRICE_FILTER / LOT_SIZE, OKX instruments tickSz / lotSz / maxLmtSz) and the worker
 * checks them. Binance's USDⓈ-M exchangeInfo example lists BTCUSDT maxPrice "4529764", maxQty "1000" and
 * BLZUSDT minPrice "0.0001", maxQty "10000000"; these bounds are far outside that, so only broken alerts
 * (1e308, 5e-324) are refused here.
 */
export const NUMBER_BOUNDS = {
  price: { min: 1e-10, max: 1e9 },
  quantity: { min: 1e-10, max: 1e10 },
} as const;

const positive = (field: string, bounds: { min: number; max: number } = NUMBER_BOUNDS.price) =>
  z
    .number({ error: `${field} must be a number` })
    .finite()
    // abort: a negative value gets one message, not also the lower bound's.
    .positive({ error: `${field} must be greater than 0`, abort: true })
    .min(bounds.min, `${field} must be at least ${bounds.min}`)
    .max(bounds.max, `${field} must be at most ${bounds.max}`);

const lowercase = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);

/** Numeric alert ids ({{time}}, bar indices) are whole numbers that survive String() unchanged. */
const alertNumber = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Year 2286 in epoch ms: anything later is not a time an alert fired. */
const MAX_EPOCH_MS = 1e13;

/**
 * The webhook payload of the user's guide (API 레퍼런스 → WebhookPayload), plus optional extras:
 * `id`/`alert_id` (idempotency key), `timestamp` (when the alert fired, e.g. {{timenow}}) and `max_lag`
 * (seconds after which the alert is too old to trade). Unknown fields are ignored.
 */
export const webhookPayloadSchema = z
  .object({
    account_id: accountIdSchema,
    exchange: z.preprocess(lowercase, exchangeSchema),
    action: z.preprocess(
      lowercase,
      z.enum(ACTIONS, { error: `action must be one of ${ACTIONS.join(', ')}` }),
    ),
    /** Optional only for close_all, the emergency exit: it closes every position of the account anyway. */
    symbol: symbolSchema.optional(),
    price: numeric(positive('price').optional()),
    quantity: numeric(positive('quantity', NUMBER_BOUNDS.quantity).optional()),
    leverage: numeric(
      z
        .number({ error: 'leverage must be a number' })
        .int('leverage must be a whole number')
        .min(1, 'leverage must be at least 1')
        .max(125, 'leverage must be at most 125')
        .optional(),
    ),
    stop_loss: numeric(positive('stop_loss').optional()),
    take_profit: numeric(positive('take_profit').optional()),
    secret: z.string({ error: 'secret is required' }).min(1, 'secret is required').max(256),
    id: z.union([z.string().trim().min(1).max(128), alertNumber]).optional(),
    alert_id: z.union([z.string().trim().min(1).max(128), alertNumber]).optional(),
    timestamp: z
      .union([z.string().trim().min(1).max(64), z.number().finite().positive().max(MAX_EPOCH_MS)])
      .optional(),
    max_lag: numeric(
      z
        .number()
        .int()
        .positive('max_lag must be a positive number of seconds')
        .max(86_400, 'max_lag is at most a day')
        .optional(),
    ),
    ...entryFieldsShape,
    ...closeFieldsShape,
    ...orderTypeFieldsShape,
  })
  .check((ctx) => {
    for (const issue of payloadFieldIssues(ctx.value, ctx.value.exchange))
      ctx.issues.push({ code: 'custom', input: ctx.value, ...issue });
    if (ctx.value.symbol === undefined && ctx.value.action !== 'close_all') {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value.symbol,
        path: ['symbol'],
        message: `symbol is required for ${ctx.value.action} (only close_all may omit it)`,
      });
    }
  });
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/**
 * The rules between an alert's fields, for a single alert and a group alert alike: sizing and protection
 * forms, fields not executed yet, close fields, limit-entry fields, the venue's trailing callback bounds (both venues' when the
 * exchange is not named: a group's members may be on either).
 */
export function payloadFieldIssues(
  v: EntryFieldValues & CloseFieldValues & OrderTypeFields & { action: Action },
  exchange: Exchange | undefined,
): Array<{ path: (string | number)[]; message: string }> {
  const out = [
    ...entryFieldIssues(v),
    ...notYetExecutedIssues(v),
    ...closeFieldIssues(v),
    ...orderTypeIssues(v),
  ];
  // A % callback is known here; one in ATR multiples only after the fill (the worker records that refusal).
  const trailing = v.trailing_pct;
  if (trailing !== undefined) {
    for (const venue of exchange ? [exchange] : (['binance', 'okx'] as const)) {
      const problem = trailingCallbackProblem(venue, trailing);
      if (problem) {
        out.push({ path: ['trailing_pct'], message: problem });
        break;
      }
    }
  }
  return out;
}

/** The symbol of a close_all sent without one: every symbol of the account (its own ordering key). */
export const ALL_SYMBOLS = '*';

/** What the rest of the system sees of a webhook: normalised, never the secret. */
export const normalisedSignalSchema = z.object({
  account_id: accountIdSchema,
  exchange: exchangeSchema,
  action: actionSchema,
  /** ccxt unified symbol, e.g. BTC/USDT:USDT, or ALL_SYMBOLS for a close_all that named none. */
  symbol: z.union([z.string().min(3), z.literal('*')]),
  price: z.number().positive().optional(),
  quantity: z.number().positive().optional(),
  leverage: z.number().int().min(1).max(125).optional(),
  stop_loss: z.number().positive().optional(),
  take_profit: z.number().positive().optional(),
  alert_id: z.string().max(128).optional(),
  /** When the alert fired (epoch ms), if the alert said so. */
  sent_at: z.number().int().optional(),
  max_lag: z.number().int().positive().optional(),
  /** The account group the alert named, when this signal is one member's share of a group alert. */
  group_id: z.string().max(64).optional(),
  /** Per-alert sizing and protection (entry-fields.ts), copied as given. */
  ...entryFieldsShape,
  /** Partial close (close-fields.ts): with `quantity`, what part of the position a close closes. */
  ...closeFieldsShape,
  /** How the entry is placed (order-type-fields.ts), copied as given. */
  ...orderTypeFieldsShape,
});
export type NormalisedSignal = z.infer<typeof normalisedSignalSchema>;

export class TimestampFormatError extends Error {}

/** Parses `{{timenow}}` (ISO-8601), epoch seconds or epoch milliseconds. */
export function parseAlertTimestamp(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (Number.isFinite(n)) {
    const ms = Math.round(n < 1e12 ? n * 1000 : n);
    if (ms > MAX_EPOCH_MS) throw new TimestampFormatError(`timestamp "${value}" is out of range`);
    return ms;
  }
  const t = Date.parse(String(value));
  if (Number.isNaN(t)) throw new TimestampFormatError(`timestamp "${value}" is not ISO-8601 or epoch time`);
  return t;
}

/** Strips the secret and the idempotency aliases into one normalised signal. */
export function normaliseWebhook(payload: WebhookPayload): NormalisedSignal {
  const alertId = payload.alert_id ?? payload.id;
  const signal: NormalisedSignal = {
    account_id: payload.account_id,
    exchange: payload.exchange,
    action: payload.action,
    symbol: payload.symbol ?? ALL_SYMBOLS,
  };
  if (payload.price !== undefined) signal.price = payload.price;
  if (payload.quantity !== undefined) signal.quantity = payload.quantity;
  if (payload.leverage !== undefined) signal.leverage = payload.leverage;
  if (payload.stop_loss !== undefined) signal.stop_loss = payload.stop_loss;
  if (payload.take_profit !== undefined) signal.take_profit = payload.take_profit;
  if (alertId !== undefined) signal.alert_id = String(alertId);
  if (payload.timestamp !== undefined) signal.sent_at = parseAlertTimestamp(payload.timestamp);
  if (payload.max_lag !== undefined) signal.max_lag = payload.max_lag;
  const copied = [...Object.keys(entryFieldsShape), ...Object.keys(orderTypeFieldsShape)];
  for (const key of copied as Array<keyof EntryFields | keyof OrderTypeFields>) {
    if (payload[key] !== undefined) (signal as Record<string, unknown>)[key] = payload[key];
  }
  if (payload.close_pct !== undefined) signal.close_pct = payload.close_pct;
  return signal;
}

/** Per-(exchange, account, symbol) ordering key (docs/decisions/0003-order-per-account-symbol.md). */
export function sequenceKey(exchange: Exchange, accountId: string, symbol: string): string {
  return `${exchange}:${accountId}:${symbol}`;
}

/**
 * Deduplication key (docs/decisions/0002-deduplication.md): an explicit alert id wins; otherwise a hash of the normalised
 * signal (no secret) — the caller adds the time window.
 */
export function dedupKey(signal: NormalisedSignal): { key: string; explicit: boolean } {
  const scope = `${signal.exchange}:${signal.account_id}`;
  if (signal.alert_id !== undefined) return { key: `id:${scope}:${signal.alert_id}`, explicit: true };
  const canonical = JSON.stringify(Object.entries(signal).sort(([a], [b]) => a.localeCompare(b)));
  const hash = createHash('sha256').update(canonical).digest('base64url').slice(0, 32);
  return { key: `h:${scope}:${hash}`, explicit: false };
}
