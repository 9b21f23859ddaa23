import type { Redis } from 'ioredis';
import { isExitAction, orderJobSchema, type OrderJob } from '@tradehook/contracts';
import { CredentialsOpener } from '@tradehook/credentials';
import { resealLegacyCredentials } from './reseal.ts';
import { createPgPool, type pg } from '@tradehook/db';
import { createLogger, type Logger } from '@tradehook/logger';
import {
  closeWithDeadline,
  createRedis,
  openQueue,
  openWorker,
  queueDefinitions,
  redisReady,
  type Worker,
} from '@tradehook/queue';
import {
  exchangeErrorMessage,
  RedisBudgetStore,
  stopPriceFeeds,
  withRequestPriority,
  type Priority,
} from '@tradehook/exchange';
import { riskDefaultsFromEnv } from '@tradehook/risk';
import { createAccountRequestProcessor } from './jobs/account-requests.ts';
import { AccountRegistry } from './accounts.ts';
import type { WorkerConfig } from './config.ts';
import { OrderExecutor } from './execution/executor.ts';
import { BreakEvenWatch } from './fills/break-even-watch.ts';
import { FillSync } from './fills/fill-sync.ts';
import { createOrderJobProcessor, failAbandonedSignal, type JobOutcome } from './jobs/process-order.ts';
import { LimitEntryJobs } from './jobs/limit-entry-jobs.ts';
import { createNotificationEmitter, type NotificationEmitter } from '@tradehook/notify';
import { createFillRecorder, signalFinished } from './notifications.ts';

export interface WorkerServiceDeps {
  config: WorkerConfig;
  logger?: Logger;
  /** Where notification events go (default: the `notifications` queue on REDIS_URL). */
  notifications?: NotificationEmitter;
}

export interface WorkerService {
  readonly config: WorkerConfig;
  readonly fillSync: FillSync;
  readonly registry: AccountRegistry;
  start(): Promise<void>;
  /**
   * Settles when the background pre-warm that start() began has finished (accounts found, contexts prepared);
   * `null` when pre-warm is off or start() has not run.
   */
  prewarmed(): Promise<{ accounts: number; prepared: number } | null>;
  /** Stops taking jobs, lets in-flight orders finish (up to SHUTDOWN_DEADLINE_MS), closes connections. */
  stop(): Promise<void>;
}

/**
 * The execution worker for one exchange: consumes `orders-<exchange>` (entries/exits) and
 * `account-requests-<exchange>` (status/verify), and runs the periodic fill sync. Usable in-process (tests)
 * and from main.ts.
 */
export function createWorkerService(deps: WorkerServiceDeps): WorkerService {
  const { config } = deps;
  const logger =
    deps.logger ??
    createLogger({
      service: `worker-${config.EXCHANGE}`,
      level: config.LOG_LEVEL,
      logDir: config.LOG_DIR || undefined,
    });
  // PostgreSQL connections per worker process: WORKER_PG_POOL_MAX + half of it, whatever WORKER_CONCURRENCY is
  // (a job holds one only for a statement); replicas and ingress processes share max_connections.
  const pool: pg.Pool = createPgPool(config.DATABASE_URL, {
    max: Math.min(config.WORKER_CONCURRENCY + 2, config.WORKER_PG_POOL_MAX),
    onError: (err) => logger.error('postgres pool error', { error: err.message }),
  });
  // Writes that a durable commit always follows before an order leaves (docs/decisions/0027-deferred-commits.md).
  const deferredPool: pg.Pool = createPgPool(config.DATABASE_URL, {
    max: Math.max(
      1,
      Math.min(Math.ceil(config.WORKER_CONCURRENCY / 2), Math.ceil(config.WORKER_PG_POOL_MAX / 2)),
    ),
    commit: 'deferred',
    onError: (err) => logger.error('postgres pool error', { error: err.message }),
  });
  const workerConnection: Redis = createRedis(config.REDIS_URL, 'worker');
  const requestConnection: Redis = createRedis(config.REDIS_URL, 'worker');
  const limitConnection: Redis = createRedis(config.REDIS_URL, 'worker');
  const commands: Redis = createRedis(config.REDIS_URL, 'worker');
  const notifications =
    deps.notifications ??
    createNotificationEmitter({ redisUrl: config.REDIS_URL, queuePrefix: config.QUEUE_PREFIX, logger });
  // Fails fast when Redis is down: the budget then falls back to this replica's share (budget.ts).
  const budgetConnection: Redis | undefined =
    config.EXCHANGE_RATE_LIMIT && config.EXCHANGE_BUDGET_REDIS
      ? createRedis(config.REDIS_URL, 'producer', { commandTimeout: 500 })
      : undefined;
  budgetConnection?.on('error', (err) => logger.debug('request budget redis error', { error: err.message }));
  const opener = new CredentialsOpener(config.CREDENTIALS_PRIVATE_KEY);
  const registry = new AccountRegistry(pool, {
    exchange: config.EXCHANGE,
    opener,
    apiUrl: config.EXCHANGE === 'binance' ? config.BINANCE_API_URL : config.OKX_API_URL,
    timeoutMs: config.EXCHANGE_TIMEOUT_MS,
    enableRateLimit: config.EXCHANGE_RATE_LIMIT,
    recvWindowMs: config.EXCHANGE_RECV_WINDOW_MS,
    settleMs: config.ORDER_SETTLE_MS,
    egressIp: config.EXCHANGE_EGRESS_IP,
    budget: {
      store: budgetConnection && new RedisBudgetStore(budgetConnection, config.QUEUE_PREFIX),
      fallbackShare: config.EXCHANGE_BUDGET_FALLBACK_SHARE,
      scale: config.EXCHANGE_BUDGET_SCALE,
    },
    live: config.LIVE_STATE
      ? { keepAliveMs: config.LIVE_STATE_KEEPALIVE_MS, reconcileIntervalMs: config.LIVE_STATE_RECONCILE_MS }
      : undefined,
    onOrderDone: (account, order) => {
      void fillSync.onStreamOrderDone(account, order);
      void limitEntries.onStreamOrder(account, order);
    },
    onOrderPartFill: (account, order) => void limitEntries.onStreamOrder(account, order),
    onTrades: (account, trades) => void fillSync.onStreamTrades(account, trades),
  });
  const limitQueueDef = queueDefinitions.limitEntries(config.EXCHANGE);
  const limitQueue = openQueue(limitQueueDef, commands, config.QUEUE_PREFIX);
  const limitEntries = new LimitEntryJobs({
    exchange: config.EXCHANGE,
    pool,
    redis: commands,
    queuePrefix: config.QUEUE_PREFIX,
    queue: limitQueue,
    registry,
    logger,
  });
  const fillSync = new FillSync({
    exchange: config.EXCHANGE,
    pool,
    redis: commands,
    queuePrefix: config.QUEUE_PREFIX,
    registry,
    logger,
    intervalMs: config.FILL_SYNC_INTERVAL_MS,
    lookbackDays: config.FILL_SYNC_LOOKBACK_DAYS,
    recordFills: createFillRecorder(notifications),
    restingEntries: limitEntries,
    breakEvenFeePct: config.BREAK_EVEN_FEE_PCT,
  });
  const breakEvenWatch = new BreakEvenWatch({
    exchange: config.EXCHANGE,
    pool,
    redis: commands,
    queuePrefix: config.QUEUE_PREFIX,
    registry,
    logger,
    intervalMs: config.BREAK_EVEN_WATCH_MS,
    feePct: config.BREAK_EVEN_FEE_PCT,
    priceMaxAgeMs: config.PRICE_MAX_AGE_MS,
  });

  /**
   * Tell the trader; record the trades of what was just executed: from the stream when it is live
   * (onStreamTrades), else read by REST now (best effort either way: the periodic sync catches up).
   */
  const afterCompletion = (job: OrderJob, outcome: JobOutcome) => {
    signalFinished(pool, notifications, job, outcome);
    if (outcome.status !== 'executed') return;
    const symbols = job.signal.action === 'close_all' ? undefined : [job.signal.symbol];
    // The context that just executed the job is cached: no second read of the account row.
    const cached = registry.cached(job.signal.account_id);
    if (cached?.live?.freshness().streaming) return;
    void (cached ? Promise.resolve(cached) : registry.get(job.signal.account_id))
      .then((account) =>
        account ? withRequestPriority('sync', () => fillSync.syncAccount(account, symbols)) : 0,
      )
      .catch((err: unknown) => logger.warn('fill recording after execution failed', { error: String(err) }));
  };

  const executor = new OrderExecutor(pool, config, undefined, limitEntries, deferredPool);
  const ordersQueue = queueDefinitions.orders(config.EXCHANGE, config.ORDER_MAX_ATTEMPTS);
  const ownQueue = openQueue(ordersQueue, commands, config.QUEUE_PREFIX);
  const processOrder = createOrderJobProcessor({
    queue: ownQueue,
    pool,
    deferredPool,
    redis: commands,
    queuePrefix: config.QUEUE_PREFIX,
    registry,
    executor,
    logger,
    config,
    riskDefaults: riskDefaultsFromEnv(config),
    onCompleted: afterCompletion,
  });
  const processRequest = createAccountRequestProcessor({ pool, registry, logger, notifications });
  // Every request a job makes is ranked by the job (docs/decisions/0013-one-request-budget-per-venue.md):
  // an exit's position and order reads go ahead of fill sync, not just its final order.
  const jobPriority = (job: { data: unknown }): Priority => {
    const parsed = orderJobSchema.safeParse(job.data);
    return parsed.success && isExitAction(parsed.data.signal.action) ? 'exit' : 'order';
  };
  const processOrderRanked: typeof processOrder = (job, token) =>
    withRequestPriority(jobPriority(job), () => processOrder(job, token));
  const processRequestRanked: typeof processRequest = (job) =>
    withRequestPriority('status', () => processRequest(job));

  let orderWorker: Worker | undefined;
  let requestWorker: Worker | undefined;
  let limitWorker: Worker | undefined;
  let prewarm: Promise<{ accounts: number; prepared: number } | null> = Promise.resolve(null);
  let stopping = false;

  return {
    config,
    fillSync,
    registry,
    prewarmed: () => prewarm,
    async start() {
      await redisReady(commands);
      await pool.query('SELECT 1');
      // Upgrade of the stored credentials format (v1 → v2 sealed boxes); a no-op once done.
      const resealed = await resealLegacyCredentials(pool, config.EXCHANGE, opener);
      if (resealed > 0)
        logger.info('re-sealed stored credentials in the current format', { accounts: resealed });
      orderWorker = openWorker(ordersQueue, processOrderRanked, workerConnection, config.QUEUE_PREFIX, {
        concurrency: config.WORKER_CONCURRENCY,
        lockDuration: config.WORKER_LOCK_DURATION_MS,
        stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
        // A crash mid-order re-runs the job; runLeg looks orders up by client id, so re-runs are safe.
        maxStalledCount: 5,
      });
      orderWorker.on('failed', (job, err) => {
        logger.error('order job failed', { jobId: job?.id, error: err.message });
        void failAbandonedSignal(
          { pool, redis: commands, queuePrefix: config.QUEUE_PREFIX, logger },
          job,
          err,
        );
      });
      orderWorker.on('error', (err) => logger.error('order worker error', { error: err.message }));
      requestWorker = openWorker(
        queueDefinitions.accountRequests(config.EXCHANGE),
        processRequestRanked,
        requestConnection,
        config.QUEUE_PREFIX,
        { concurrency: Math.max(2, Math.ceil(config.WORKER_CONCURRENCY / 2)) },
      );
      requestWorker.on('error', (err) =>
        logger.error('account request worker error', { error: err.message }),
      );
      limitWorker = openWorker(
        limitQueueDef,
        (job) => withRequestPriority('order', () => limitEntries.process(job, executor)),
        limitConnection,
        config.QUEUE_PREFIX,
        { concurrency: 2 },
      );
      limitWorker.on('error', (err) => logger.error('limit entry worker error', { error: err.message }));
      await Promise.all([
        orderWorker.waitUntilReady(),
        requestWorker.waitUntilReady(),
        limitWorker.waitUntilReady(),
      ]);
      // The sync timer and everything it starts run as background reads.
      withRequestPriority('sync', () => fillSync.start());
      breakEvenWatch.start();
      const marketsLoaded = [false, true].map((testnet) =>
        registry
          .warmUp(testnet)
          .catch((err: unknown) => logger.debug('market warm-up failed', { testnet, error: String(err) })),
      );
      if (config.ACCOUNT_PREWARM_CONCURRENCY > 0) {
        // In the background: jobs are taken already; an account not prepared yet is built on its first job.
        prewarm = Promise.all(marketsLoaded)
          .then(() =>
            registry.prewarm(
              config.ACCOUNT_PREWARM_CONCURRENCY,
              (accountId, err) =>
                logger.warn('account pre-warm failed; it will be prepared on its first job', {
                  accountId,
                  error: exchangeErrorMessage(err),
                }),
              () => stopping,
            ),
          )
          .then(
            (summary) => {
              logger.info('accounts pre-warmed', summary);
              // Then their streams, a few at a time, without holding the pre-warm (see startStreams).
              void registry
                .startStreams(config.ACCOUNT_PREWARM_CONCURRENCY, () => stopping)
                .then((streaming) => logger.info('account streams started', { accounts: streaming }));
              return summary;
            },
            (err: unknown) => {
              logger.warn('account pre-warm failed', { error: String(err) });
              return null;
            },
          );
      }
      logger.info('worker started', {
        exchange: config.EXCHANGE,
        concurrency: config.WORKER_CONCURRENCY,
        apiUrlOverride: Boolean(config.EXCHANGE === 'binance' ? config.BINANCE_API_URL : config.OKX_API_URL),
      });
    },
    async stop() {
      stopping = true;
      const clean = await closeWithDeadline(
        [
          async () => {
            // Stop taking jobs first; close() waits for the in-flight ones.
            await Promise.all([
              orderWorker?.close(),
              requestWorker?.close(),
              limitWorker?.close(),
              fillSync.stop(),
              breakEvenWatch.stop(),
            ]);
          },
        ],
        config.SHUTDOWN_DEADLINE_MS,
      );
      if (!clean) {
        logger.warn(
          'shutdown deadline passed with jobs still running; they will be re-run after the stalled check',
        );
        await Promise.all([
          orderWorker?.close(true),
          requestWorker?.close(true),
          limitWorker?.close(true),
        ]).catch(() => undefined);
      }
      await ownQueue.close().catch(() => undefined);
      await limitQueue.close().catch(() => undefined);
      await registry.close();
      await stopPriceFeeds().catch(() => undefined);
      if (!deps.notifications) await notifications.close();
      await pool.end().catch(() => undefined);
      await deferredPool.end().catch(() => undefined);
      for (const c of [workerConnection, requestConnection, limitConnection, commands, budgetConnection])
        c?.disconnect();
      logger.info('worker stopped', { clean });
    },
  };
}
