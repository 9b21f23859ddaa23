import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  issueSummary,
  signalJobSchema,
  type Exchange,
  type OrderJob,
  type SignalJob,
} from '@tradehook/contracts';
import {
  failApprovedSignal,
  failUndecidedSignal,
  loadSignalState,
  recordDecision,
  type Queryable,
  type SignalState,
} from '@tradehook/db';
import type { Logger } from '@tradehook/logger';
import { publishSignalChanged, publishSignalDone, type Queue, type Redis } from '@tradehook/queue';
import {
  evaluateSignal,
  limitsForApproved,
  loadAccountLimits,
  type RiskDecision,
  type RiskDefaults,
} from '@tradehook/risk';
import { observeStage } from '@tradehook/metrics/pipeline';
import { eventFromRiskRejection, type NotificationEmitter } from '@tradehook/notify';

export interface SignalProcessorDeps {
  db: Queryable;
  /** Connection for signal-done notifications. */
  redis: Redis;
  prefix: string;
  orderQueues: Record<Exchange, Queue<OrderJob>>;
  defaults: RiskDefaults;
  logger: Logger;
  now: () => number;
  /** Transient-failure retries (see RISK_MAX_TRIES). */
  retry: { maxTries: number; baseMs: number };
  /** Rejections are told to the trader (fire-and-forget). */
  notifications?: NotificationEmitter;
}

export type SignalOutcome =
  | { outcome: 'approved'; limits: OrderJob['limits'] }
  | { outcome: 'rejected'; reason: string }
  | { outcome: 'already_decided'; status: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A bad job's signal id, if it names a plausible one (so that signal can be marked failed). */
function signalIdOf(data: unknown): string | null {
  const id = data && typeof data === 'object' ? (data as { signalId?: unknown }).signalId : undefined;
  return typeof id === 'string' && UUID.test(id) ? id : null;
}

/** Where the job and the row disagree, the job cannot be trusted to be about that signal. */
function mismatch(job: SignalJob, row: SignalState): string | null {
  const s = job.signal;
  const pairs: Array<[string, unknown, unknown]> = [
    ['exchange', s.exchange, row.exchange],
    ['account_id', s.account_id, row.accountId],
    ['action', s.action, row.action],
    ['symbol', s.symbol, row.symbol],
  ];
  const wrong = pairs.filter(([, a, b]) => a !== b).map(([k]) => k);
  return wrong.length ? `job data disagrees with the recorded signal (${wrong.join(', ')})` : null;
}

/**
 * Decides one `signals` job: records approved/rejected (+ reason) on the signals row, forwards approved
 * work to `orders-<exchange>` (jobId = signal id), and wakes `?wait` callers on a rejection.
 */
export function createSignalProcessor(deps: SignalProcessorDeps) {
  const { db, logger } = deps;

  async function failSignal(signalId: string, reason: string, log: Logger): Promise<void> {
    if (await failUndecidedSignal(db, signalId, reason, new Date(deps.now()))) {
      await publishSignalDone(deps.redis, deps.prefix, signalId);
      log.warn('signal failed in risk', { reason });
    }
  }

  async function forward(job: SignalJob, limits: OrderJob['limits'], decidedAt: number): Promise<void> {
    const orderJob: OrderJob = { ...job, limits, riskDecidedAt: decidedAt };
    // jobId = signal id: a redelivered signals job cannot create a second order job while the first exists.
    await deps.orderQueues[job.signal.exchange].add('order', orderJob, { jobId: job.signalId });
  }

  /** The row was approved (or started) earlier but the order job may not exist (crash, Redis loss): forward again. */
  async function reforward(job: SignalJob, log: Logger): Promise<SignalOutcome> {
    const account = await loadAccountLimits(db, job.signal.exchange, job.signal.account_id, deps.defaults);
    if (!account) {
      // Approved, but the account has gone since: nothing can be sent. Not 'queued' any more, so record directly.
      await failApprovedSignal(
        db,
        job.signalId,
        'account_not_found: the account was deleted after the signal was approved',
      );
      await publishSignalDone(deps.redis, deps.prefix, job.signalId);
      return { outcome: 'rejected', reason: 'account deleted after approval' };
    }
    const limits = limitsForApproved(job.signal, account);
    await forward(job, limits, deps.now());
    log.info('approved signal forwarded again', { limits });
    return { outcome: 'approved', limits };
  }

  return async function processSignalJob(job: Job<unknown>, token?: string): Promise<SignalOutcome> {
    const parsed = signalJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const reason = `malformed signal job: ${issueSummary(parsed.error, { root: '(job)', limit: 5 })}`;
      const signalId = signalIdOf(job.data);
      const log = logger.child({ jobId: job.id, ...(signalId ? { signalId } : {}) });
      if (signalId) await failSignal(signalId, reason, log);
      log.error('malformed signal job', { reason });
      throw new UnrecoverableError(reason);
    }
    const data = parsed.data;
    const log = logger.child({ requestId: data.requestId, signalId: data.signalId });

    try {
      // The decision's reads only read: they start with the state read (one round trip fewer) and are dropped
      // when the signal turns out not to be `queued`.
      const now = deps.now();
      const evaluation = evaluateSignal(db, data.signal, deps.defaults, now);
      evaluation.catch(() => undefined); // awaited below, or dropped
      const row = await loadSignalState(db, data.signalId);
      if (!row) throw new UnrecoverableError(`signal ${data.signalId} is not recorded in the database`);
      const wrong = mismatch(data, row);
      if (wrong) {
        await failSignal(data.signalId, wrong, log);
        throw new UnrecoverableError(wrong);
      }
      // `executing`: the order job was lost mid-flight (Redis data loss); the worker finds what reached the
      // exchange by client id and finishes the signal.
      if (row.status === 'approved' || row.status === 'executing') return await reforward(data, log);
      if (row.status !== 'queued') {
        log.info('signal already decided; job ignored', { status: row.status });
        return { outcome: 'already_decided', status: row.status };
      }

      const decision: RiskDecision = await evaluation;
      const recorded = await recordDecision(
        db,
        data.signalId,
        decision.approved
          ? { status: 'approved', reason: decision.note ?? null }
          : { status: 'rejected', reason: decision.reason },
        new Date(now),
      );
      if (!recorded) {
        // A concurrent delivery of the same job decided first; follow what it recorded.
        const current = await loadSignalState(db, data.signalId);
        if (current?.status === 'approved') return await reforward(data, log);
        return { outcome: 'already_decided', status: current?.status ?? 'missing' };
      }
      observeStage('decided', data.receivedAt, now);
      const fields = {
        action: data.signal.action,
        symbol: data.signal.symbol,
        exchange: data.signal.exchange,
        accountId: data.signal.account_id,
        queuedMs: now - data.receivedAt,
      };
      if (decision.approved) {
        await forward(data, decision.limits, now);
        // Live views only (dashboard): a lost message is harmless, so it never fails the decision.
        await publishSignalChanged(deps.redis, deps.prefix, data.signalId).catch(() => undefined);
        log.info('signal approved', { ...fields, limits: decision.limits, note: decision.note });
        return { outcome: 'approved', limits: decision.limits };
      }
      await publishSignalDone(deps.redis, deps.prefix, data.signalId);
      deps.notifications?.emit(eventFromRiskRejection(data, decision, now));
      log.info('signal rejected', { ...fields, reason: decision.reason });
      return { outcome: 'rejected', reason: decision.reason };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const tries = job.attemptsStarted;
      if (!(err instanceof UnrecoverableError) && token && tries < deps.retry.maxTries) {
        // Retry here rather than through BullMQ attempts: the signals job options belong to ingress, and a
        // delayed retry does not consume one. Wall-clock time, not the decision clock.
        const delay = Math.min(30_000, deps.retry.baseMs * 2 ** (tries - 1));
        log.warn('risk check failed; retrying', { err: message, try: tries, retryInMs: delay });
        await job.moveToDelayed(Date.now() + delay, token);
        throw new DelayedError();
      }
      // Never leave a signal `queued` for ever: the worker's ordering gate would wait on it.
      await failSignal(data.signalId, `risk check failed: ${message}`, log).catch((e: Error) =>
        log.error('could not record the risk failure', { err: e.message }),
      );
      throw err;
    }
  };
}
