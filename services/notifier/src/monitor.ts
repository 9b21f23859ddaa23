import { EXCHANGES, QUEUES, type NotificationEvent } from '@tradehook/contracts';
import { OutageTracker } from '@tradehook/notify';
import { createQueue, type Queue, type Redis } from '@tradehook/queue';

/**
 * Watches that risk and each exchange's workers are connected to their queues (BullMQ's worker list) and reports
 * one gone for longer than NOTIFY_DOWN_AFTER_S. Only components seen at least once are watched (the seen mark is
 * kept in Redis across notifier restarts), so an exchange nobody runs a worker for never raises an alarm.
 */
export interface ComponentMonitor {
  /** One observation round (also run every interval once started). */
  check(now?: number): Promise<void>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function createComponentMonitor(deps: {
  redis: Redis;
  prefix: string;
  downAfterMs: number;
  emit: (event: NotificationEvent) => void;
}): ComponentMonitor {
  const watched: Array<{ component: string; queue: Queue; tracker: OutageTracker }> = [
    { component: 'risk', queueName: QUEUES.signals },
    ...EXCHANGES.map((ex) => ({ component: `worker-${ex}`, queueName: QUEUES.orders(ex) })),
  ].map(({ component, queueName }) => ({
    component,
    queue: createQueue(queueName, deps.redis, deps.prefix),
    tracker: new OutageTracker(component, deps.downAfterMs, deps.emit),
  }));
  const seenKey = `${deps.prefix}:notify:seen`;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function check(now = Date.now()): Promise<void> {
    const seen = new Set(await deps.redis.smembers(seenKey));
    for (const w of watched) {
      const up = (await w.queue.getWorkersCount()) > 0;
      if (up && !seen.has(w.component)) await deps.redis.sadd(seenKey, w.component);
      if (up || seen.has(w.component)) w.tracker.observe(up, now);
    }
  }

  return {
    check,
    start(intervalMs) {
      if (deps.downAfterMs <= 0 || timer) return;
      timer = setInterval(() => {
        running ??= check()
          .catch(() => undefined) // Redis away: nothing can be observed; the next round tries again
          .finally(() => (running = undefined));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
      await Promise.all(watched.map((w) => w.queue.close().catch(() => undefined)));
    },
  };
}
