import type { SignalJob } from '@tradehook/contracts';
import type { Queryable } from '@tradehook/db';
import type { Logger } from '@tradehook/logger';
import { publishSignalDone, type Queue, type Redis } from '@tradehook/queue';
import { failUndecidedSignal } from './signal-store.ts';

export const ORPHAN_REASON =
  'lost before the risk check: the signal was recorded but its queue job is gone (ingress crash or Redis data loss); nothing was traded';

/** Job states in which the signal will still reach the risk check. */
const PENDING_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

/**
 * Finds signals still `queued` long after they arrived whose `signals` job no longer exists, and fails
 * them. Without this, one lost job would hold back every later signal of its (account, symbol) for ever,
 * because the worker's ordering gate waits for each predecessor to become terminal.
 */
export async function sweepOrphanedSignals(deps: {
  db: Queryable;
  signalsQueue: Queue<SignalJob>;
  redis: Redis;
  prefix: string;
  logger: Logger;
  now: number;
  olderThanMs: number;
  limit?: number;
}): Promise<string[]> {
  const { rows } = await deps.db.query<{ id: string; request_id: string }>(
    `SELECT id, request_id FROM signals
      WHERE status = 'queued' AND received_at < $1
      ORDER BY received_at LIMIT $2`,
    [new Date(deps.now - deps.olderThanMs), deps.limit ?? 200],
  );
  const failed: string[] = [];
  for (const row of rows) {
    const job = await deps.signalsQueue.getJob(row.id);
    if (job && PENDING_STATES.has(await job.getState())) continue;
    if (await failUndecidedSignal(deps.db, row.id, ORPHAN_REASON, new Date(deps.now))) {
      await publishSignalDone(deps.redis, deps.prefix, row.id);
      deps.logger.warn('orphaned signal failed', { signalId: row.id, requestId: row.request_id });
      failed.push(row.id);
    }
  }
  return failed;
}
