import { Queue, QueueEvents, Worker, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { QueueDefinition } from './queues.ts';

/**
 * Redis connections and BullMQ factories. Producers on a request path fail fast (no offline queue, short
 * timeouts) so a Redis outage answers 503 within TradingView's 3 s instead of hanging; workers wait for
 * Redis forever (BullMQ requires maxRetriesPerRequest: null).
 */
export type RedisRole = 'producer' | 'worker';

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === 'producer'
      ? {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 2_000,
          commandTimeout: 2_000,
          retryStrategy: (times) => Math.min(times * 200, 2_000),
        }
      : { maxRetriesPerRequest: null, enableReadyCheck: true };
  return new Redis(url, { lazyConnect: false, ...options, ...extra });
}

/** Waits until a connection is ready (fail-fast producers cannot queue commands before that). */
export async function redisReady(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** A queue as declared in queues.ts, with its job options: what services add jobs through. */
export function openQueue<T>(definition: QueueDefinition<T>, connection: Redis, prefix: string): Queue<T> {
  return createQueue<T>(definition.name, connection, prefix, definition.jobOptions);
}

/** The consumer of a queue declared in queues.ts. */
export function openWorker<T, R = unknown>(
  definition: QueueDefinition<T>,
  processor: Processor<T, R>,
  connection: Redis,
  prefix: string,
  options: Omit<WorkerOptions, 'connection' | 'prefix'> = {},
): Worker<T, R> {
  return createWorker<T, R>(definition.name, processor, connection, prefix, options);
}

/** A queue by name (tests, tools); services use openQueue so their jobs get the declared options. */
export function createQueue<T = unknown>(
  name: string,
  connection: Redis,
  prefix: string,
  defaultJobOptions: JobsOptions = {},
): Queue<T> {
  return new Queue<T>(name, { connection, prefix, defaultJobOptions });
}

export function createWorker<T = unknown, R = unknown>(
  name: string,
  processor: Processor<T, R>,
  connection: Redis,
  prefix: string,
  options: Omit<WorkerOptions, 'connection' | 'prefix'> = {},
): Worker<T, R> {
  return new Worker<T, R>(name, processor, { connection, prefix, ...options });
}

export function createQueueEvents(name: string, connection: Redis, prefix: string): QueueEvents {
  return new QueueEvents(name, { connection, prefix });
}

/** Closes things in order with a hard deadline (worker.close() has none of its own). */
export async function closeWithDeadline(
  closers: Array<() => Promise<unknown>>,
  deadlineMs: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), deadlineMs);
  });
  const work = (async () => {
    for (const close of closers) await close().catch(() => undefined);
    return true;
  })();
  const done = await Promise.race([work, deadline]);
  clearTimeout(timer);
  return done;
}

export { Queue, QueueEvents, Worker, Redis };
export type { Job, JobsOptions } from 'bullmq';
export * from './signal-events.ts';
export * from './queues.ts';
