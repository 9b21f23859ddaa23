import {
  EXCHANGES,
  QUEUES,
  type AccountRequestJob,
  type Exchange,
  type SignalJob,
} from '@tradehook/contracts';
import { CredentialsSealer } from '@tradehook/credentials';
import { createPgPool, createPrisma, type pg, type PrismaClient } from '@tradehook/db';
import { createLogger, type Logger } from '@tradehook/logger';
import {
  closeWithDeadline,
  openQueue,
  queueDefinitions,
  createQueueEvents,
  createRedis,
  redisReady,
  SignalChangeFeed,
  SignalDoneListener,
  type Queue,
  type QueueEvents,
  type Redis,
} from '@tradehook/queue';
import { createServiceMetrics, registerQueueMetrics, type ServiceMetrics } from '@tradehook/metrics';
import { createNotificationEmitter, type NotificationEmitter } from '@tradehook/notify';
import { AccountCache } from './account-cache.ts';
import type { IngressConfig } from './config.ts';

/** Everything the ingress app needs, built once in main.ts (or by a test) and passed to createApp. */
export interface IngressDeps {
  config: IngressConfig;
  logger: Logger;
  prisma: PrismaClient;
  /** Plain pg for the webhook's one-round-trip insert and the hot-path account lookup. */
  pgPool: pg.Pool;
  /** Fail-fast producer connection: dedup keys, rate-limit counters, enqueueing. */
  redis: Redis;
  queues: {
    signals: Queue<SignalJob>;
    accountRequests: Record<Exchange, Queue<AccountRequestJob>>;
  };
  /** Completion events of the account-request queues (request/reply with the workers). */
  accountRequestEvents: Record<Exchange, QueueEvents>;
  signalDone: SignalDoneListener;
  /** Signal changes for the dashboard's live updates (subscribes only while a page listens). */
  signalChanges: SignalChangeFeed;
  sealer: CredentialsSealer;
  accountCache: AccountCache;
  /** Prometheus metrics of this process (served by main.ts on METRICS_PORT). */
  metrics: ServiceMetrics;
  /** Kill-switch changes are told to the traders (fire-and-forget `notifications` queue). */
  notifications: NotificationEmitter;
  /** Closes every connection above (called by main.ts on shutdown, and by tests). */
  close(deadlineMs?: number): Promise<boolean>;
}

export interface BuildDepsOptions {
  logger?: Logger;
  /** Overrides for tests (e.g. a signals queue on a connection the test can cut). */
  signalsQueue?: Queue<SignalJob>;
}

export async function buildIngressDeps(
  config: IngressConfig,
  options: BuildDepsOptions = {},
): Promise<IngressDeps> {
  const logger =
    options.logger ?? createLogger({ service: 'ingress', level: config.LOG_LEVEL, logDir: config.LOG_DIR });
  const prefix = config.QUEUE_PREFIX;
  const prisma = createPrisma(config.DATABASE_URL);
  const pgPool = createPgPool(config.DATABASE_URL, {
    max: 20,
    onError: (err) => logger.error('postgres pool error', { err: err.message }),
  });

  const redis = createRedis(config.REDIS_URL, 'producer');
  redis.on('error', (err: Error) => logger.warn('redis producer error', { err: err.message }));
  // QueueEvents and the pub/sub subscriber hold blocking/subscribed connections of their own.
  const blocking: Redis[] = [];
  const workerConnection = () => {
    const conn = createRedis(config.REDIS_URL, 'worker');
    conn.on('error', (err: Error) => logger.warn('redis listener error', { err: err.message }));
    blocking.push(conn);
    return conn;
  };
  await redisReady(redis);

  const signals = options.signalsQueue ?? openQueue(queueDefinitions.signals, redis, prefix);
  const accountRequests = {} as Record<Exchange, Queue<AccountRequestJob>>;
  const accountRequestEvents = {} as Record<Exchange, QueueEvents>;
  for (const exchange of EXCHANGES) {
    accountRequests[exchange] = openQueue(queueDefinitions.accountRequests(exchange), redis, prefix);
    accountRequestEvents[exchange] = createQueueEvents(
      QUEUES.accountRequests(exchange),
      workerConnection(),
      prefix,
    );
  }
  const signalDone = new SignalDoneListener(workerConnection(), prefix);
  const signalChanges = new SignalChangeFeed(workerConnection(), prefix);
  await Promise.all([
    signalDone.start(),
    ...Object.values(accountRequestEvents).map((e) => e.waitUntilReady()),
  ]);

  const sealer = new CredentialsSealer(config.CREDENTIALS_PUBLIC_KEY);
  const accountCache = new AccountCache(pgPool, config.ACCOUNT_CACHE_TTL_MS);
  const metrics = createServiceMetrics('ingress');
  const closeQueueMetrics = registerQueueMetrics(metrics.registry, redis, prefix);
  const notifications = createNotificationEmitter({
    redisUrl: config.REDIS_URL,
    queuePrefix: prefix,
    logger,
  });

  return {
    config,
    logger,
    prisma,
    pgPool,
    redis,
    queues: { signals, accountRequests },
    accountRequestEvents,
    signalDone,
    signalChanges,
    sealer,
    accountCache,
    metrics,
    notifications,
    close: (deadlineMs = config.SHUTDOWN_DEADLINE_MS) =>
      closeWithDeadline(
        [
          () => signalDone.stop(),
          () => signalChanges.stop(),
          ...Object.values(accountRequestEvents).map((e) => () => e.close()),
          () => signals.close(),
          closeQueueMetrics,
          () => notifications.close(),
          ...Object.values(accountRequests).map((q) => () => q.close()),
          async () => {
            redis.disconnect();
            for (const conn of blocking) conn.disconnect();
          },
          () => prisma.$disconnect(),
          () => pgPool.end(),
        ],
        deadlineMs,
      ),
  };
}
