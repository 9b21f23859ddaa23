import { signalJobSchema, type Exchange, type OrderJob, type SignalJob } from '@tradehook/contracts';
import { failUndecidedSignal, findStaleUnfinishedSignals, type Queryable } from '@tradehook/db';
import type { Logger } from '@tradehook/logger';
import { publishSignalDone, type Queue, type Redis } from '@tradehook/queue';

export const ORPHAN_REASON =
  'lost before the risk check: the signal was recorded but its queue job is gone and could not be rebuilt; nothing was traded';

/** Job states in which the signal will still be worked on. */
const PENDING_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

type AnyQueue = Queue<SignalJob> | Queue<OrderJob>;

/** True when the queue holds a job for this signal that will still run; a finished one is removed. */
async function pendingIn(queue: AnyQueue, signalId: string): Promise<boolean> {
  const job = await queue.getJob(signalId);
  if (!job) return false;
  if (PENDING_STATES.has(await job.getState())) return true;
  // A finished job under the same id would make the re-forwarding add() a no-op.
  await job.remove().catch(() => undefined);
  return false;
}

/**
 * Postgres is the truth: every signal that is not final long after it arrived, and whose job is in neither
 * `signals` nor `orders-<exchange>` (ingress crash, Redis losing its last writes), is forwarded again as a
 * `signals` job rebuilt from its row. Risk then decides it (`queued`) or re-forwards it to the worker
 * (`approved`/`executing`), where the order legs are looked up on the exchange by client id, so a re-run
 * never sends twice. Without this, the worker's ordering gate would wait on the lost signal for ever.
 */
export async function sweepOrphanedSignals(deps: {
  db: Queryable;
  signalsQueue: Queue<SignalJob>;
  orderQueues: Record<Exchange, Queue<OrderJob>>;
  redis: Redis;
  prefix: string;
  logger: Logger;
  now: number;
  olderThanMs: number;
  limit?: number;
}): Promise<string[]> {
  const rows = await findStaleUnfinishedSignals(
    deps.db,
    new Date(deps.now - deps.olderThanMs),
    deps.limit ?? 200,
  );
  const swept: string[] = [];
  for (const row of rows) {
    const orders = deps.orderQueues[row.exchange];
    if (await pendingIn(deps.signalsQueue, row.id)) continue;
    if (orders && (await pendingIn(orders, row.id))) continue;
    const job = signalJobSchema.safeParse({
      signalId: row.id,
      requestId: row.requestId,
      receivedAt: row.receivedAt.getTime(),
      signal: row.payload,
    });
    if (job.success) {
      await deps.signalsQueue.add('signal', job.data, { jobId: row.id });
      deps.logger.warn('signal without a job forwarded again', {
        signalId: row.id,
        requestId: row.requestId,
        status: row.status,
      });
      swept.push(row.id);
    } else if (await failUndecidedSignal(deps.db, row.id, ORPHAN_REASON, new Date(deps.now))) {
      await publishSignalDone(deps.redis, deps.prefix, row.id);
      deps.logger.warn('orphaned signal failed', { signalId: row.id, requestId: row.requestId });
      swept.push(row.id);
    }
  }
  return swept;
}
