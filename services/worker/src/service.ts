import type { Redis } from 'ioredis';
import type { OrderJob } from '@tradehook/contracts';
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
import { exchangeErrorMessage } from '@tradehook/exchange';
import { riskDefaultsFromEnv } from '@tradehook/risk';
import { createAccountRequestProcessor } from './account-requests.ts';
import { AccountRegistry } from './accounts.ts';
import type { WorkerConfig } from './config.ts';
import { OrderExecutor } from './execute.ts';
import { FillSync } from './fill-sync.ts';
import { createOrderJobProcessor, failAbandonedSignal, type JobOutcome } from './process-order.ts';

export interface WorkerServiceDeps {
  config: WorkerConfig;
  logger?: Logger;
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
  const pool: pg.Pool = createPgPool(config.DATABASE_URL, {
    max: Math.max(4, config.WORKER_CONCURRENCY + 2),
    onError: (err) => logger.error('postgres pool error', { error: err.message }),
  });
  const workerConnection: Redis = createRedis(config.REDIS_URL, 'worker');
  const requestConnection: Redis = createRedis(config.REDIS_URL, 'worker');
  const commands: Redis = createRedis(config.REDIS_URL, 'worker');
  const opener = new CredentialsOpener(config.CREDENTIALS_PRIVATE_KEY);
  const registry = new AccountRegistry(pool, {
    exchange: config.EXCHANGE,
    opener,
    apiUrl: config.EXCHANGE === 'binance' ? config.BINANCE_API_URL : config.OKX_API_URL,
    timeoutMs: config.EXCHANGE_TIMEOUT_MS,
    enableRateLimit: config.EXCHANGE_RATE_LIMIT,
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
  });

  /** Record the trades of what was just executed (best effort: the periodic sync catches up). */
  const recordFills = (job: OrderJob, outcome: JobOutcome) => {
    if (outcome.status !== 'executed') return;
    const symbols = job.signal.action === 'close_all' ? undefined : [job.signal.symbol];
    // The context that just executed the job is cached: no second read of the account row.
    const cached = registry.cached(job.signal.account_id);
    void (cached ? Promise.resolve(cached) : registry.get(job.signal.account_id))
      .then((account) => (account ? fillSync.syncAccount(account, symbols) : 0))
      .catch((err: unknown) => logger.warn('fill recording after execution failed', { error: String(err) }));
  };

  const ordersQueue = queueDefinitions.orders(config.EXCHANGE, config.ORDER_MAX_ATTEMPTS);
  const ownQueue = openQueue(ordersQueue, commands, config.QUEUE_PREFIX);
  const processOrder = createOrderJobProcessor({
    queue: ownQueue,
    pool,
    redis: commands,
    queuePrefix: config.QUEUE_PREFIX,
    registry,
    executor: new OrderExecutor(pool, config),
    logger,
    config,
    riskDefaults: riskDefaultsFromEnv(config),
    onCompleted: recordFills,
  });
  const processRequest = createAccountRequestProcessor({ pool, registry, logger });

  let orderWorker: Worker | undefined;
  let requestWorker: Worker | undefined;
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
      orderWorker = openWorker(ordersQueue, processOrder, workerConnection, config.QUEUE_PREFIX, {
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
        processRequest,
        requestConnection,
        config.QUEUE_PREFIX,
        { concurrency: Math.max(2, Math.ceil(config.WORKER_CONCURRENCY / 2)) },
      );
      requestWorker.on('error', (err) =>
        logger.error('account request worker error', { error: err.message }),
      );
      await Promise.all([orderWorker.waitUntilReady(), requestWorker.waitUntilReady()]);
      fillSync.start();
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
            await Promise.all([orderWorker?.close(), requestWorker?.close(), fillSync.stop()]);
          },
        ],
        config.SHUTDOWN_DEADLINE_MS,
      );
      if (!clean) {
        logger.warn(
          'shutdown deadline passed with jobs still running; they will be re-run after the stalled check',
        );
        await Promise.all([orderWorker?.close(true), requestWorker?.close(true)]).catch(() => undefined);
      }
      await ownQueue.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      for (const c of [workerConnection, requestConnection, commands]) c.disconnect();
      logger.info('worker stopped', { clean });
    },
  };
}
