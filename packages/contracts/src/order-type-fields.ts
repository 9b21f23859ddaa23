import { z } from 'zod';
import { numericInput } from './entry-fields.ts';

/**
 * How an entry is placed (issue "trade like the field expects", item 5): at market (the default, as before)
 * or as a limit order at `limit_price` with a time-in-force, optionally post-only, cancelled after
 * `cancel_after` seconds. `price` keeps its meaning (the alert's reference price). Cross-field rules in
 * `orderTypeIssues`; the worker's side in services/worker/src/execution/limit-entries.ts
 * (docs/decisions/0025-limit-entries.md).
 */

export const ORDER_TYPES = ['market', 'limit'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];
/** Binance USDⓈ-M timeInForce GTC/IOC/FOK; OKX ordType limit/ioc/fok (GTX / post_only via `post_only`). */
export const TIMES_IN_FORCE = ['GTC', 'IOC', 'FOK'] as const;
export type TimeInForceField = (typeof TIMES_IN_FORCE)[number];

export const CANCEL_AFTER_BOUNDS = {
  /** Below that the cancel would race the order's own placement and first fills. */
  min: 5,
  /** A week: an entry resting longer no longer answers the alert that asked for it. */
  max: 7 * 86_400,
  /** A GTC / post-only entry given no cancel_after rests at most a day. */
  default: 86_400,
} as const;

const text = (v: unknown) => (typeof v === 'string' ? v.trim() || undefined : v === null ? undefined : v);

export const orderTypeFieldsShape = {
  order_type: z
    .preprocess(
      (v) => (typeof v === 'string' ? text(v.toLowerCase()) : text(v)),
      z.enum(ORDER_TYPES, { error: `order_type must be one of ${ORDER_TYPES.join(', ')}` }).optional(),
    )
    .optional(),
  /** The limit order's price (Binance/OKX tick size applied by the worker). */
  limit_price: numericInput(
    z
      .number({ error: 'limit_price must be a number' })
      .finite({ error: 'limit_price must be a number' })
      .positive({ error: 'limit_price must be greater than 0', abort: true })
      .min(1e-10, 'limit_price must be at least 1e-10')
      .max(1e9, 'limit_price must be at most 1000000000')
      .optional(),
  ),
  time_in_force: z
    .preprocess(
      (v) => (typeof v === 'string' ? text(v.toUpperCase()) : text(v)),
      z
        .enum(TIMES_IN_FORCE, { error: `time_in_force must be one of ${TIMES_IN_FORCE.join(', ')}` })
        .optional(),
    )
    .optional(),
  /** Maker only: the exchange refuses (Binance -5022) or cancels (OKX) an order that would take. */
  post_only: z
    .preprocess(
      (v) => {
        const t = typeof v === 'string' ? v.trim().toLowerCase() : v;
        if (t === '' || t === null) return undefined;
        return t === 'true' ? true : t === 'false' ? false : t;
      },
      z.boolean({ error: 'post_only must be true or false' }).optional(),
    )
    .optional(),
  /** Seconds after placement at which the unfilled remainder is cancelled. */
  cancel_after: numericInput(
    z
      .number({ error: 'cancel_after must be a number of seconds' })
      .int('cancel_after must be a whole number of seconds')
      .min(CANCEL_AFTER_BOUNDS.min, `cancel_after must be at least ${CANCEL_AFTER_BOUNDS.min} seconds`)
      .max(
        CANCEL_AFTER_BOUNDS.max,
        `cancel_after must be at most ${CANCEL_AFTER_BOUNDS.max} seconds (a week)`,
      )
      .optional(),
  ),
} as const;

export const orderTypeFieldsSchema = z.object(orderTypeFieldsShape);
export type OrderTypeFields = z.infer<typeof orderTypeFieldsSchema>;

type Issue = { path: (string | number)[]; message: string };

/** The rules between the fields (and the action); empty when valid. */
export function orderTypeIssues(v: OrderTypeFields & { action?: string }): Issue[] {
  const out: Issue[] = [];
  const limitOnly = (['limit_price', 'time_in_force', 'post_only', 'cancel_after'] as const).filter(
    (k) => v[k] !== undefined,
  );
  if (v.order_type !== 'limit') {
    for (const k of limitOnly) out.push({ path: [k], message: `${k} needs order_type "limit"` });
    return out;
  }
  if (v.action !== undefined && v.action !== 'long' && v.action !== 'short')
    out.push({ path: ['order_type'], message: 'order_type "limit" is for entries (long, short) only' });
  if (v.limit_price === undefined)
    out.push({ path: ['limit_price'], message: 'order_type "limit" needs limit_price' });
  const immediate = v.time_in_force === 'IOC' || v.time_in_force === 'FOK';
  if (v.post_only === true && immediate)
    out.push({
      path: ['post_only'],
      message: `post_only rests on the book; it cannot be combined with time_in_force ${v.time_in_force}`,
    });
  if (v.cancel_after !== undefined && immediate)
    out.push({
      path: ['cancel_after'],
      message: `time_in_force ${v.time_in_force} never rests, so cancel_after does not apply`,
    });
  return out;
}

/** Does this signal's entry rest on the book (GTC or post-only limit)? */
export function entryMayRest(v: OrderTypeFields): boolean {
  return v.order_type === 'limit' && v.time_in_force !== 'IOC' && v.time_in_force !== 'FOK';
}

/** Seconds the entry may rest before its remainder is cancelled. */
export function cancelAfterSeconds(v: OrderTypeFields): number {
  return v.cancel_after ?? CANCEL_AFTER_BOUNDS.default;
}
