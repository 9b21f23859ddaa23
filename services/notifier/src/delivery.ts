import {
  notificationDeliverJobSchema,
  notificationEventJobSchema,
  notificationEventSchema,
  type NotificationDeliverJob,
  type NotificationEvent,
} from '@tradehook/contracts';
import type { Logger } from '@tradehook/logger';
import { notificationDeliveries, notificationEvents } from '@tradehook/metrics/pipeline';
import { DelayedError, UnrecoverableError } from 'bullmq';
import type { Job, Queue, Redis } from '@tradehook/queue';
import { DeliveryError } from './channels.ts';
import type { Router } from './routing.ts';

/**
 * The `notifications` queue's consumer. An `event` job is routed and appended to each of its channels' buffers
 * (a Redis list); the first event of a window also adds that channel's `deliver` job, delayed to the window's end
 * (job id = channel + window, so the rest of the burst adds nothing). A `deliver` job takes up to NOTIFY_BATCH_MAX
 * buffered events into its own data — so every retry sends the same batch — and sends them as one message.
 * 429 waits for the receiver's retry_after without spending an attempt; 5xx/network errors spend one, with backoff.
 */
export interface DeliveryDeps {
  queue: Queue;
  redis: Redis;
  prefix: string;
  router: Router;
  logger: Logger;
  windowMs: number;
  batchMax: number;
  /** Attempts per message on 5xx/network errors, exponential backoff from retryBaseMs. */
  attempts: number;
  retryBaseMs: number;
  /** Longest a 429 may make a batch wait in total before it counts as failed. */
  maxRateLimitWaitMs?: number;
}

/** Job ids may not contain ':'; channel keys do (telegram:<chat>). */
const idPart = (key: string) => key.replace(/[^A-Za-z0-9_@-]/g, '_');

export function bufferKey(prefix: string, channel: string): string {
  return `${prefix}:notify:buffer:${channel}`;
}

/** Deliver job data, plus the notifier's own bookkeeping of 429 waits. */
type DeliverData = NotificationDeliverJob & { rateLimitedMs?: number };

export function createDeliveryProcessor(deps: DeliveryDeps) {
  const { redis, prefix, router, logger } = deps;
  const maxRateLimitWaitMs = deps.maxRateLimitWaitMs ?? 15 * 60_000;

  async function scheduleDeliver(channel: string, now = Date.now()): Promise<void> {
    const window = Math.floor(now / deps.windowMs);
    await deps.queue.add(
      'deliver',
      { channel },
      {
        jobId: `deliver-${idPart(channel)}-${window}`,
        delay: (window + 1) * deps.windowMs - now,
        attempts: deps.attempts,
        backoff: { type: 'exponential', delay: deps.retryBaseMs },
      },
    );
  }

  async function acceptEvent(event: NotificationEvent): Promise<{ channels: string[] }> {
    const channels = router.route(event).filter((c) => router.channels.has(c));
    notificationEvents.inc({ kind: event.kind, outcome: channels.length ? 'routed' : 'unrouted' });
    for (const channel of channels) {
      await redis.rpush(bufferKey(prefix, channel), JSON.stringify(event));
      await scheduleDeliver(channel);
    }
    return { channels };
  }

  /** Moves up to batchMax buffered events into the job (once: a retry finds them in its data). */
  async function takeBatch(job: Job, data: DeliverData): Promise<NotificationEvent[]> {
    if (data.events) return data.events;
    const key = bufferKey(prefix, data.channel);
    const result = await redis
      .multi()
      .lrange(key, 0, deps.batchMax - 1)
      .ltrim(key, deps.batchMax, -1)
      .llen(key)
      .exec();
    const raw = (result?.[0]?.[1] as string[] | undefined) ?? [];
    const left = Number(result?.[2]?.[1] ?? 0);
    const events = raw.flatMap((r) => {
      let value: unknown;
      try {
        value = JSON.parse(r);
      } catch {
        return [];
      }
      const parsed = notificationEventSchema.safeParse(value);
      return parsed.success ? [parsed.data] : [];
    });
    await job.updateData({ ...data, events });
    // A burst bigger than one batch: the rest goes in the next window's message.
    if (left > 0) await scheduleDeliver(data.channel, Date.now() + deps.windowMs);
    return events;
  }

  async function deliver(job: Job, token: string | undefined, data: DeliverData): Promise<{ sent: number }> {
    const channel = router.channels.get(data.channel);
    if (!channel) throw new UnrecoverableError(`channel ${data.channel} is not configured any more`);
    const events = await takeBatch(job, data);
    if (events.length === 0) return { sent: 0 };
    try {
      await channel.send(events);
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError(String(err), true);
      if (e.retryAfterMs !== undefined && token) {
        const waited = (data.rateLimitedMs ?? 0) + e.retryAfterMs;
        if (waited <= maxRateLimitWaitMs) {
          notificationDeliveries.inc({ channel: channel.type, outcome: 'retry' });
          logger.warn('notification rate-limited; waiting as told', {
            channel: channel.key,
            retryAfterMs: e.retryAfterMs,
          });
          await job.updateData({ ...data, events, rateLimitedMs: waited });
          await job.moveToDelayed(Date.now() + e.retryAfterMs, token);
          throw new DelayedError();
        }
      }
      const last = !e.retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      notificationDeliveries.inc({ channel: channel.type, outcome: last ? 'failed' : 'retry' });
      const log = last ? logger.error.bind(logger) : logger.warn.bind(logger);
      log(last ? 'notification delivery failed' : 'notification delivery failed; will retry', {
        channel: channel.key,
        events: events.length,
        kinds: [...new Set(events.map((ev) => ev.kind))],
        attempt: job.attemptsMade + 1,
        error: e.message,
      });
      // The failed job (its events and this reason) stays in the queue's failed set: the record of what was lost.
      throw e.retryable ? new Error(e.message) : new UnrecoverableError(e.message);
    }
    notificationDeliveries.inc({ channel: channel.type, outcome: 'sent' });
    return { sent: events.length };
  }

  return async function processNotificationJob(job: Job, token?: string): Promise<unknown> {
    if (job.name === 'event') {
      const parsed = notificationEventJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('malformed notification event');
      return acceptEvent(parsed.data.event);
    }
    if (job.name === 'deliver') {
      const parsed = notificationDeliverJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('malformed deliver job');
      return deliver(job, token, { ...parsed.data, rateLimitedMs: (job.data as DeliverData).rateLimitedMs });
    }
    throw new UnrecoverableError(`unknown notification job ${job.name}`);
  };
}
