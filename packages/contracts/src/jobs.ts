import { z } from 'zod';
import { exchangeSchema, normalisedSignalSchema, type Exchange } from './webhook.ts';

/** Queue names: the only place they are spelled. */
export const QUEUES = {
  signals: 'signals',
  orders: (exchange: Exchange) => `orders-${exchange}` as const,
  /** Request/reply work answered by the workers (account status, key checks). */
  accountRequests: (exchange: Exchange) => `account-requests-${exchange}` as const,
  /** A resting limit entry's follow-ups (fills to protect, its cancel-after), worker → itself. */
  limitEntries: (exchange: Exchange) => `limit-entries-${exchange}` as const,
  /** Events to tell traders about (any service → notifier); see notifications.ts. */
  notifications: 'notifications',
} as const;

/**
 * BullMQ prefix with a Redis Cluster hash tag, so every key of every queue lands in one slot
 * (docs/decisions/0008-queue-transport-not-truth.md).
 */
export const DEFAULT_QUEUE_PREFIX = '{tradehook}';

/**
 * `signals` queue: ingress → risk. Ids and normalised instructions only: never a secret. The signal's
 * per-key sequence number is not carried: the ordering gate reads it from its row in Postgres.
 */
export const signalJobSchema = z.object({
  signalId: z.uuid(),
  requestId: z.string().min(1).max(128),
  /** Ingress receive time, epoch ms (latency accounting, staleness). */
  receivedAt: z.number().int(),
  signal: normalisedSignalSchema,
});
export type SignalJob = z.infer<typeof signalJobSchema>;

/** Limits the worker must still enforce after sizing (risk cannot size: it has no prices). */
export const orderLimitsSchema = z.object({
  /** Leverage to set for an entry, after risk's cap/clamp; absent = account default. */
  leverage: z.number().int().min(1).max(125).optional(),
  maxLeverage: z.number().int().min(1).max(125),
  /** Max notional (quote currency) of the resulting position; absent = no limit. */
  maxPositionNotional: z.number().positive().optional(),
  /** Max number of open positions on the account after the entry; absent = no limit. */
  maxOpenPositions: z.number().int().positive().optional(),
});
export type OrderLimits = z.infer<typeof orderLimitsSchema>;

/** `orders-<exchange>` queues: risk → worker. */
export const orderJobSchema = signalJobSchema.extend({
  limits: orderLimitsSchema,
  riskDecidedAt: z.number().int(),
});
export type OrderJob = z.infer<typeof orderJobSchema>;

/** `account-requests-<exchange>` queues: ingress → worker, answered through the job's return value. */
export const accountRequestJobSchema = z.object({
  kind: z.enum(['status', 'verify']),
  exchange: exchangeSchema,
  accountId: z.string().min(1),
  requestId: z.string().min(1).max(128),
});
export type AccountRequestJob = z.infer<typeof accountRequestJobSchema>;

/** The guide's account status shape (테스트 및 검증 → 계정 상태 확인). */
export const accountStatusSchema = z.object({
  account_id: z.string(),
  exchange: exchangeSchema,
  balance: z.object({
    asset: z.string(),
    available_balance: z.number(),
    total_balance: z.number(),
  }),
  positions: z.array(
    z.object({
      symbol: z.string(),
      side: z.enum(['long', 'short']),
      contracts: z.number(),
      amount: z.number(),
      entry_price: z.number().nullable(),
      mark_price: z.number().nullable(),
      unrealized_pnl: z.number().nullable(),
      leverage: z.number().nullable(),
    }),
  ),
  open_orders: z.array(
    z.object({
      id: z.string(),
      client_order_id: z.string().nullable(),
      symbol: z.string(),
      side: z.string(),
      type: z.string(),
      amount: z.number().nullable(),
      price: z.number().nullable(),
      trigger_price: z.number().nullable(),
      reduce_only: z.boolean(),
    }),
  ),
});
export type AccountStatus = z.infer<typeof accountStatusSchema>;

/** A worker's key check at registration. */
export const keyCheckSchema = z.object({
  ok: z.boolean(),
  /** Readable reason when not ok (never a secret). */
  message: z.string().optional(),
  canRead: z.boolean(),
  canTrade: z.boolean().nullable(),
  /** null where the exchange does not expose it. */
  canWithdraw: z.boolean().nullable(),
  positionMode: z.enum(['oneway', 'hedge']).nullable(),
  checkedAt: z.string(),
});
export type KeyCheck = z.infer<typeof keyCheckSchema>;

/**
 * Bookkeeping a worker keeps in its own `orders-<exchange>` job between runs (BullMQ job data): when the
 * ordering gate first made it wait, and how many retryable failures it has had.
 */
export const orderJobProgressSchema = z.object({
  gateSince: z.number().int().optional(),
  gateChecks: z.number().int().nonnegative().optional(),
  retryAttempt: z.number().int().nonnegative().optional(),
});
export type OrderJobProgress = z.infer<typeof orderJobProgressSchema>;

/**
 * `limit-entries-<exchange>` queue: a limit entry that rests on the book. `expire` is delayed to its
 * cancel-after (so it survives a worker restart); `check` re-reads it after a fill seen on the stream. Both
 * carry the order job, whose signal says how to protect what fills.
 */
export const limitEntryJobSchema = z.object({
  order: orderJobSchema,
  side: z.enum(['long', 'short']),
  hedge: z.boolean(),
  /** When the remainder is cancelled, epoch ms. */
  cancelAt: z.number().int(),
});
export type LimitEntryJob = z.infer<typeof limitEntryJobSchema>;
