import { z } from 'zod';
import { PROTECTIVE_LEGS } from './orders.ts';
import { exchangeSchema } from './webhook.ts';

/**
 * What the notifier tells a trader about. Events carry only what a message shows — ids, symbols, sizes,
 * prices, readable reasons — never a credential: channel tokens live in the notifier's own configuration.
 */
const reasonSchema = z
  .string()
  .transform((s) => (s.length > 500 ? `${s.slice(0, 497)}...` : s))
  .pipe(z.string().min(1));
const price = z.number().finite().nullable();

const accountEvent = {
  /** Epoch ms when it happened. */
  at: z.number().int(),
  exchange: exchangeSchema,
  accountId: z.string().min(1).max(64),
};

export const notificationEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('signal_executed'),
    ...accountEvent,
    signalId: z.uuid(),
    action: z.string().min(1),
    symbol: z.string().min(1),
    side: z.enum(['long', 'short']).nullable(),
    amount: price,
    price,
    stopLoss: price,
    takeProfit: price,
    /** Warnings recorded with the outcome (e.g. a take-profit the exchange refused). */
    note: reasonSchema.nullable(),
  }),
  z.object({
    kind: z.literal('signal_failed'),
    ...accountEvent,
    signalId: z.uuid(),
    action: z.string().min(1),
    symbol: z.string().min(1),
    reason: reasonSchema,
  }),
  z.object({
    kind: z.literal('signal_rejected'),
    ...accountEvent,
    signalId: z.uuid(),
    action: z.string().min(1),
    symbol: z.string().min(1),
    reason: reasonSchema,
    /** `risk` before it was forwarded; `execution` by the worker's re-check. */
    stage: z.enum(['risk', 'execution']),
  }),
  z.object({
    kind: z.literal('daily_loss_cap'),
    ...accountEvent,
    signalId: z.uuid(),
    symbol: z.string().min(1),
    reason: reasonSchema,
  }),
  z.object({
    kind: z.literal('position_unprotected'),
    ...accountEvent,
    signalId: z.uuid(),
    symbol: z.string().min(1),
    reason: reasonSchema,
    /** true: closed again at once (protected or flat); false: left open without its stop (policy `keep`). */
    flattened: z.boolean(),
  }),
  z.object({
    kind: z.literal('protection_hit'),
    ...accountEvent,
    symbol: z.string().min(1),
    leg: z.enum(PROTECTIVE_LEGS),
    amount: z.number().finite(),
    /** Volume-weighted fill price. */
    price: z.number().finite(),
    realizedPnl: z.number().finite(),
    fee: z.number().finite(),
  }),
  z.object({
    kind: z.literal('kill_switch'),
    at: z.number().int(),
    /** Absent = the global switch. */
    exchange: exchangeSchema.optional(),
    accountId: z.string().min(1).max(64).optional(),
    on: z.boolean(),
    reason: reasonSchema.nullable(),
  }),
  z.object({
    kind: z.literal('key_problem'),
    ...accountEvent,
    problem: z.enum(['check_failed', 'revoked']),
    reason: reasonSchema,
  }),
  z.object({
    kind: z.literal('component_down'),
    at: z.number().int(),
    exchange: exchangeSchema.optional(),
    accountId: z.string().min(1).max(64).optional(),
    /** e.g. `worker-binance`, `stream binance:main`. */
    component: z.string().min(1).max(128),
    /** false = it is back. */
    down: z.boolean(),
    /** How long it was (or has been) down. */
    seconds: z.number().nonnegative(),
  }),
]);
export type NotificationEvent = z.infer<typeof notificationEventSchema>;
export type NotificationKind = NotificationEvent['kind'];
export const NOTIFICATION_KINDS = notificationEventSchema.options.map((o) => o.shape.kind.value);

/**
 * `notifications` queue. `event` jobs: one event from any service. `deliver` jobs: the notifier's own batch of one
 * channel; the events buffered for it are moved into `events` when it first runs, so retries resend the same batch.
 */
export const notificationEventJobSchema = z.object({ event: notificationEventSchema });
export type NotificationEventJob = z.infer<typeof notificationEventJobSchema>;

export const notificationDeliverJobSchema = z.object({
  channel: z.string().min(1).max(200),
  events: z.array(notificationEventSchema).optional(),
});
export type NotificationDeliverJob = z.infer<typeof notificationDeliverJobSchema>;
