/**
 * Every BullMQ queue of the system, declared once: its name, the schema of its jobs and its job options
 * (retry policy, retention). Producers open queues and consumers open workers from these declarations, so
 * no service sets job options of its own.
 */
import { intFromEnv, z } from '@tradehook/config';
import {
  accountRequestJobSchema,
  limitEntryJobSchema,
  notificationEventJobSchema,
  orderJobSchema,
  QUEUES,
  signalJobSchema,
  type AccountRequestJob,
  type LimitEntryJob,
  type Exchange,
  type NotificationEventJob,
  type OrderJob,
  type SignalJob,
} from '@tradehook/contracts';
import type { JobsOptions } from 'bullmq';

export interface QueueDefinition<T> {
  name: string;
  /** What a job of this queue carries (consumers parse with it: jobs may outlive a deploy). */
  schema: z.ZodType<T>;
  /** Applied to every job added through a queue opened from this declaration. */
  jobOptions: JobsOptions;
}

/** Kept long enough to debug, bounded so Redis does not grow forever. */
const RETENTION = {
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
} satisfies JobsOptions;

/**
 * How often one order job is tried, read by both ends: risk adds `orders-<exchange>` jobs with these BullMQ
 * attempts (when the worker's processor throws), and the worker retries retryable exchange errors as often.
 */
export const DEFAULT_ORDER_ATTEMPTS = 5;
export const orderRetryEnvSchema = z.object({
  ORDER_MAX_ATTEMPTS: intFromEnv(1, 20).default(DEFAULT_ORDER_ATTEMPTS),
});

/** BullMQ's retry delay of an order job whose processor threw: 1 s, 2 s, 4 s, … (client order ids make it safe). */
const ORDER_BACKOFF = { type: 'exponential', delay: 1_000 } as const;

export const queueDefinitions = {
  /**
   * ingress → risk. One attempt: risk retries a transient failure inside its processor (RISK_MAX_TRIES) and
   * then fails the signal, so a signal never waits in BullMQ's backoff; lost jobs are re-added by risk's
   * orphan sweep.
   */
  signals: {
    name: QUEUES.signals,
    schema: signalJobSchema,
    jobOptions: { ...RETENTION, attempts: 1 },
  } satisfies QueueDefinition<SignalJob>,

  /** risk → the worker of `exchange`. */
  orders: (exchange: Exchange, attempts: number = DEFAULT_ORDER_ATTEMPTS): QueueDefinition<OrderJob> => ({
    name: QUEUES.orders(exchange),
    schema: orderJobSchema,
    jobOptions: { ...RETENTION, attempts, backoff: ORDER_BACKOFF },
  }),

  /** ingress → the worker of `exchange`, answered through the job's return value (read once, then gone). */
  accountRequests: (exchange: Exchange): QueueDefinition<AccountRequestJob> => ({
    name: QUEUES.accountRequests(exchange),
    schema: accountRequestJobSchema,
    jobOptions: {
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    },
  }),

  /**
   * worker → itself: a resting limit entry's cancel-after (a delayed job: it survives restarts) and its
   * re-checks after stream fills. Retried with backoff (a busy lock, an unreachable exchange).
   */
  limitEntries: (exchange: Exchange): QueueDefinition<LimitEntryJob> => ({
    name: QUEUES.limitEntries(exchange),
    schema: limitEntryJobSchema,
    jobOptions: { ...RETENTION, attempts: 8, backoff: { type: 'exponential', delay: 500 } },
  }),

  /**
   * any service → notifier: events to tell traders about. Tiny and consumed at once, so a short history; the
   * notifier's own delivery jobs on this queue set their retry policy where they are added (delivery.ts).
   */
  /** any service → notifier: events to tell traders about (small, consumed at once; a short history). */
  notifications: {
    name: QUEUES.notifications,
    schema: notificationEventJobSchema,
    jobOptions: {
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: RETENTION.removeOnFail,
      attempts: 3,
      backoff: { type: 'exponential', delay: 1_000 },
    },
  } satisfies QueueDefinition<NotificationEventJob>,
} as const;
