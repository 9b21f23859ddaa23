/**
 * One worker-level test file's world: a private database, the simulator, in-process workers with their queues,
 * and a way to run an approved signal to its end. Its `close()` undoes all of it.
 */
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import type { Exchange, NormalisedSignal } from '@tradehook/contracts';
import { createPgPool, type pg } from '@tradehook/db';
import { startSimulator, type Simulator } from '@tradehook/exchange-sim';
import { createQueue, createRedis, type Queue } from '@tradehook/queue';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../tests/support/index.ts';
import type { WorkerService } from '../src/service.ts';
import {
  approvedSignal,
  enqueueOrder,
  ordersQueueName,
  startTestWorker,
  waitForSignal,
  type SimAccount,
  type SignalOutcome,
} from './support.ts';

export interface WorkerSuite {
  db: TestDatabase;
  pool: pg.Pool;
  sim: Simulator;
  /** The public key accounts are sealed with (createSimAccount). */
  publicKey: string;
  /** The orders queue of `exchange`'s worker (or of a worker added under its own prefix). */
  queue(exchange: Exchange, prefix?: string): Queue;
  /** Another worker under its own queue prefix (so its own Redis locks), e.g. with other settings. */
  addWorker(exchange: Exchange, prefix: string, env: Record<string, string>): Promise<void>;
  /** Enqueues an approved signal and waits for its end; `results` is its trace's `results`. */
  run(
    account: SimAccount,
    fields: Omit<NormalisedSignal, 'account_id' | 'exchange'>,
    queue?: Queue,
  ): Promise<SignalOutcome & { signalId: string; results: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startWorkerSuite(o: {
  name: string;
  exchanges: readonly Exchange[];
  env?: Record<string, string>;
}): Promise<WorkerSuite> {
  const db = await createTestDatabase();
  const pool = createPgPool(db.url, { max: 4 });
  const sim = await startSimulator({ rateLimits: { enabled: false } });
  const keys = generateCredentialsKeyPair();
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  const base = testQueuePrefix();
  const services: WorkerService[] = [];
  const queues = new Map<string, Queue>();
  const prefixes = new Set<string>();

  const addWorker = async (exchange: Exchange, prefix: string, env: Record<string, string>) => {
    prefixes.add(prefix);
    services.push(
      await startTestWorker({
        exchange,
        databaseUrl: db.url,
        redisUrl: TEST_REDIS_URL,
        simUrl: sim.url,
        queuePrefix: prefix,
        credentialsPrivateKey: keys.privateKey,
        name: `worker-${exchange}-${o.name}`,
        env,
      }),
    );
    queues.set(`${exchange}|${prefix}`, createQueue(ordersQueueName(exchange), redis, prefix));
  };
  for (const exchange of o.exchanges) await addWorker(exchange, base, o.env ?? {});

  const queue = (exchange: Exchange, prefix = base) => {
    const q = queues.get(`${exchange}|${prefix}`);
    if (!q) throw new Error(`no ${exchange} worker under ${prefix}`);
    return q;
  };
  return {
    db,
    pool,
    sim,
    publicKey: keys.publicKey,
    queue,
    addWorker,
    async run(account, fields, q = queue(account.exchange)) {
      const job = await approvedSignal(pool, account, fields);
      await enqueueOrder(q, job);
      const out = await waitForSignal(pool, job.signalId, 40_000);
      const results = (out.result?.['results'] ?? {}) as Record<string, unknown>;
      return { ...out, signalId: job.signalId, results };
    },
    async close() {
      await Promise.all(services.map((s) => s.stop()));
      for (const q of queues.values()) await q.close();
      redis.disconnect();
      await sim.close();
      await pool.end();
      for (const p of prefixes) await deleteRedisPrefix(p);
      await db.drop();
    },
  };
}
