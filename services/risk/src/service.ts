import { EXCHANGES, type Exchange, type OrderJob, type SignalJob } from '@tradehook/contracts';
import { createPgPool, type pg } from '@tradehook/db';
import { createLogger, type Logger } from '@tradehook/logger';
import {
  closeWithDeadline,
  createRedis,
  openQueue,
  openWorker,
  queueDefinitions,
  type Queue,
  type Redis,
  type Worker,
} from '@tradehook/queue';
import { riskDefaultsFromEnv } from '@tradehook/risk';
import { createNotificationEmitter, type NotificationEmitter } from '@tradehook/notify';
import type { RiskConfig } from './config.ts';
import { sweepOrphanedSignals } from './orphan-sweeper.ts';
import { createSignalProcessor, type SignalOutcome } from './signal-processor.ts';

export interface RiskServiceOptions {
  logger?: Logger;
  /** Clock (epoch ms); tests move it across day boundaries. */
  now?: () => number;
  /** Where notification events go (default: the `notifications` queue on REDIS_URL). */
  notifications?: NotificationEmitter;
}

export interface RiskService {
  start(): Promise<void>;
  /** Re-forwards non-final signals whose job is gone (also every RISK_SWEEP_INTERVAL_MS); returns their ids. */
  sweepOrphans(): Promise<string[]>;
  /** Stops taking jobs, lets running decisions finish (up to the deadline), closes connections. */
  stop(deadlineMs?: number): Promise<boolean>;
}

/** The risk service: consumes `signals`, decides, forwards approved work to `orders-<exchange>`. */
export function createRiskService(config: RiskConfig, options: RiskServiceOptions = {}): RiskService {
  const logger =
    options.logger ?? createLogger({ service: 'risk', level: config.LOG_LEVEL, logDir: config.LOG_DIR });
  const now = options.now ?? Date.now;
  let running:
    | {
        pool: pg.Pool;
        redis: Redis;
        workerConnection: Redis;
        orderQueues: Record<Exchange, Queue<OrderJob>>;
        worker: Worker<unknown, SignalOutcome>;
        signalsQueue: Queue<SignalJob>;
        sweepTimer: NodeJS.Timeout | undefined;
        notifications: NotificationEmitter;
      }
    | undefined;

  let sweeping: Promise<string[]> | undefined;
  function sweepOrphans(): Promise<string[]> {
    const r = running;
    if (!r) return Promise.resolve([]);
    // One sweep at a time; a caller during a sweep shares its result.
    sweeping ??= sweepOrphanedSignals({
      db: r.pool,
      signalsQueue: r.signalsQueue,
      orderQueues: r.orderQueues,
      redis: r.redis,
      prefix: config.QUEUE_PREFIX,
      logger,
      now: now(),
      olderThanMs: config.RISK_ORPHAN_AFTER_MS,
    }).finally(() => (sweeping = undefined));
    return sweeping;
  }

  return {
    async start() {
      if (running) return;
      const pool = createPgPool(config.DATABASE_URL, {
        max: config.RISK_CONCURRENCY + 2,
        onError: (err) => logger.error('postgres pool error', { err: err.message }),
      });
      // Background service: wait for Redis rather than fail fast.
      const redis = createRedis(config.REDIS_URL, 'worker');
      redis.on('error', (err: Error) => logger.warn('redis error', { err: err.message }));
      const workerConnection = createRedis(config.REDIS_URL, 'worker');
      workerConnection.on('error', (err: Error) => logger.warn('redis worker error', { err: err.message }));

      const orderQueues = {} as Record<Exchange, Queue<OrderJob>>;
      for (const exchange of EXCHANGES) {
        const attempts = config.ORDER_JOB_ATTEMPTS ?? config.ORDER_MAX_ATTEMPTS;
        orderQueues[exchange] = openQueue(
          queueDefinitions.orders(exchange, attempts),
          redis,
          config.QUEUE_PREFIX,
        );
      }
      const notifications =
        options.notifications ??
        createNotificationEmitter({ redisUrl: config.REDIS_URL, queuePrefix: config.QUEUE_PREFIX, logger });
      const processor = createSignalProcessor({
        notifications,
        db: pool,
        redis,
        prefix: config.QUEUE_PREFIX,
        orderQueues,
        defaults: riskDefaultsFromEnv(config),
        logger,
        now,
        retry: { maxTries: config.RISK_MAX_TRIES, baseMs: config.RISK_RETRY_BASE_MS },
      });
      const worker = openWorker<unknown, SignalOutcome>(
        queueDefinitions.signals,
        processor,
        workerConnection,
        config.QUEUE_PREFIX,
        { concurrency: config.RISK_CONCURRENCY },
      );
      worker.on('error', (err) => logger.error('signals worker error', { err: err.message }));
      worker.on('failed', (job, err) =>
        logger.warn('signals job failed', {
          jobId: job?.id,
          attemptsMade: job?.attemptsMade,
          err: err.message,
        }),
      );
      // The orphan sweep re-adds lost signals jobs through it.
      const signalsQueue = openQueue(queueDefinitions.signals, redis, config.QUEUE_PREFIX);
      const sweepTimer =
        config.RISK_SWEEP_INTERVAL_MS > 0
          ? setInterval(() => {
              sweepOrphans().catch((err: Error) => logger.warn('orphan sweep failed', { err: err.message }));
            }, config.RISK_SWEEP_INTERVAL_MS).unref()
          : undefined;
      running = {
        pool,
        redis,
        workerConnection,
        orderQueues,
        worker,
        signalsQueue,
        sweepTimer,
        notifications,
      };
      await worker.waitUntilReady();
      logger.info('risk service started', {
        concurrency: config.RISK_CONCURRENCY,
        defaults: riskDefaultsFromEnv(config),
        prefix: config.QUEUE_PREFIX,
      });
    },

    sweepOrphans,

    async stop(deadlineMs = config.SHUTDOWN_DEADLINE_MS) {
      const r = running;
      if (!r) return true;
      running = undefined;
      clearInterval(r.sweepTimer);
      const clean = await closeWithDeadline(
        [
          () => r.worker.close(),
          ...Object.values(r.orderQueues).map((q) => () => q.close()),
          () => r.signalsQueue.close(),
          () => (options.notifications ? Promise.resolve() : r.notifications.close()),
          async () => {
            r.redis.disconnect();
            r.workerConnection.disconnect();
          },
          () => r.pool.end(),
        ],
        deadlineMs,
      );
      if (!clean) {
        // Deadline passed with work still running: force the connections shut; BullMQ re-delivers the job.
        r.redis.disconnect();
        r.workerConnection.disconnect();
        await r.pool.end().catch(() => undefined);
      }
      logger.info('risk service stopped', { clean });
      return clean;
    },
  };
}
