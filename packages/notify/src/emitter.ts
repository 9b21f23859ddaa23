import {
  notificationEventSchema,
  type NotificationEvent,
  type NotificationEventJob,
} from '@tradehook/contracts';
import type { Logger } from '@tradehook/logger';
import { notificationEvents } from '@tradehook/metrics/pipeline';
import { createRedis, openQueue, queueDefinitions, type Queue, type Redis } from '@tradehook/queue';

/**
 * Producer side of the `notifications` queue. `emit` never throws and never makes its caller wait: an order, a
 * risk decision or an admin request goes on whether Redis, the queue or the notifier is there or not. A
 * notification that cannot be enqueued within `timeoutMs` is dropped, logged and counted.
 */
export interface NotificationEmitter {
  emit(event: NotificationEvent): void;
  /** Resolves when every emit so far has been enqueued or dropped (tests, shutdown). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface EmitterOptions {
  redisUrl: string;
  queuePrefix: string;
  logger: Logger;
  /** Longest an enqueue may take before the event is dropped. */
  timeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not enqueued within ${ms} ms`)), ms);
    }),
  ]);
}

export function createNotificationEmitter(options: EmitterOptions): NotificationEmitter {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? 1_000;
  // A connection of its own, fail-fast: a Redis outage costs each emit at most timeoutMs, in the background.
  const redis: Redis = createRedis(options.redisUrl, 'producer', { commandTimeout: timeoutMs });
  redis.on('error', () => undefined); // reported per dropped event below, not per reconnect attempt
  const queue: Queue<NotificationEventJob> = openQueue(
    queueDefinitions.notifications,
    redis,
    options.queuePrefix,
  );
  queue.on('error', () => undefined);
  const pending = new Set<Promise<void>>();

  function emit(event: NotificationEvent): void {
    const parsed = notificationEventSchema.safeParse(event);
    if (!parsed.success) {
      // A bug in the caller; never worth failing what it was doing.
      logger.warn('malformed notification event dropped', { kind: event.kind, issues: parsed.error.issues });
      notificationEvents.inc({ kind: event.kind, outcome: 'dropped' });
      return;
    }
    const done = withTimeout(queue.add('event', { event: parsed.data }), timeoutMs).then(
      () => void notificationEvents.inc({ kind: event.kind, outcome: 'enqueued' }),
      (err: unknown) => {
        notificationEvents.inc({ kind: event.kind, outcome: 'dropped' });
        logger.warn('notification dropped: could not enqueue', {
          kind: event.kind,
          error: err instanceof Error ? err.message : String(err),
        });
      },
    );
    pending.add(done);
    void done.finally(() => pending.delete(done));
  }

  return {
    emit,
    async settled() {
      await Promise.all([...pending]);
    },
    async close() {
      await Promise.all([...pending]);
      await queue.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}
