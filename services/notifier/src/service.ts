import { createLogger, type Logger } from '@tradehook/logger';
import { createNotificationEmitter, type NotificationEmitter } from '@tradehook/notify';
import {
  closeWithDeadline,
  createRedis,
  openQueue,
  openWorker,
  queueDefinitions,
  redisReady,
  type Queue,
  type Redis,
  type Worker,
} from '@tradehook/queue';
import type { NotifierConfig } from './config.ts';
import { createDeliveryProcessor } from './delivery.ts';
import { createComponentMonitor, type ComponentMonitor } from './monitor.ts';
import { buildRouter, type Router } from './routing.ts';

export interface NotifierService {
  readonly router: Router;
  readonly monitor: ComponentMonitor;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The notifier (docs/decisions/0018-notifications-service.md): consumes `notifications`, batches per channel,
 * sends through Telegram / Discord / a webhook, and reports workers that went away. Holds the channel
 * credentials; no other service has them.
 */
export function createNotifierService(
  config: NotifierConfig,
  options: { logger?: Logger } = {},
): NotifierService {
  const logger =
    options.logger ??
    createLogger({ service: 'notifier', level: config.LOG_LEVEL, logDir: config.LOG_DIR || undefined });
  const router = buildRouter(config); // a bad NOTIFY_ROUTES stops the start with a readable ConfigError
  const commands: Redis = createRedis(config.REDIS_URL, 'worker');
  const workerConnection: Redis = createRedis(config.REDIS_URL, 'worker');
  for (const c of [commands, workerConnection])
    c.on('error', (err: Error) => logger.warn('redis error', { err: err.message }));
  const queue: Queue = openQueue(queueDefinitions.notifications, commands, config.QUEUE_PREFIX);
  const emitter: NotificationEmitter = createNotificationEmitter({
    redisUrl: config.REDIS_URL,
    queuePrefix: config.QUEUE_PREFIX,
    logger,
  });
  const monitor = createComponentMonitor({
    redis: commands,
    prefix: config.QUEUE_PREFIX,
    downAfterMs: config.NOTIFY_DOWN_AFTER_S * 1000,
    emit: (event) => emitter.emit(event),
  });
  const processor = createDeliveryProcessor({
    queue,
    redis: commands,
    prefix: config.QUEUE_PREFIX,
    router,
    logger,
    windowMs: config.NOTIFY_BATCH_WINDOW_MS,
    batchMax: config.NOTIFY_BATCH_MAX,
    attempts: config.NOTIFY_MAX_ATTEMPTS,
    retryBaseMs: config.NOTIFY_RETRY_BASE_MS,
  });
  let worker: Worker | undefined;

  return {
    router,
    monitor,
    async start() {
      await redisReady(commands);
      worker = openWorker(queueDefinitions.notifications, processor, workerConnection, config.QUEUE_PREFIX, {
        concurrency: 4,
      });
      worker.on('error', (err) => logger.error('notifications worker error', { err: err.message }));
      await worker.waitUntilReady();
      monitor.start(config.NOTIFY_MONITOR_INTERVAL_MS);
      logger.info('notifier started', {
        // Channel keys only (telegram:<chat id>, discord, webhook): never a token or URL.
        channels: [...router.channels.keys()],
        locale: config.NOTIFY_LOCALE,
        windowMs: config.NOTIFY_BATCH_WINDOW_MS,
      });
    },
    async stop() {
      const clean = await closeWithDeadline(
        [() => monitor.stop(), async () => worker?.close(), () => emitter.close(), () => queue.close()],
        config.SHUTDOWN_DEADLINE_MS,
      );
      if (!clean) await worker?.close(true).catch(() => undefined);
      commands.disconnect();
      workerConnection.disconnect();
      logger.info('notifier stopped', { clean });
    },
  };
}
