import { DelayedError, Job, UnrecoverableError, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  isExitAction,
  orderJobProgressSchema,
  orderJobSchema,
  type OrderJob,
  type OrderJobProgress,
} from '@tradehook/contracts';
import { findOrdersBySignal, findOrdersBySignalAndLastMarketSend, type pg } from '@tradehook/db';
import { classifyExchangeError, exchangeErrorMessage, isClockSkew } from '@tradehook/exchange';
import type { Logger } from '@tradehook/logger';
import { publishSignalDone } from '@tradehook/queue';
import { recheckEntry, type RiskDefaults } from '@tradehook/risk';
import * as ccxt from 'ccxt';
import type { AccountRegistry } from '../accounts.ts';
import type { WorkerConfig } from '../config.ts';
import { ExecutionRejected, type ExecutionOutcome, type OrderExecutor } from '../execution/executor.ts';
import { finishedFields } from '../finished-fields.ts';
import { LevelError } from '../execution/levels.ts';
import {
  completeSignal,
  failStuckPredecessor,
  findBlockingPredecessors,
  findWaitingSuccessors,
  isTerminal,
  loadSignalState,
  markExecuting,
  type FinalStatus,
  type SignalState,
} from '@tradehook/db';

export interface OrderJobDeps {
  pool: pg.Pool;
  /**
   * Commits deferred (synchronous_commit off) for the `executing` mark: nothing is sent before runLeg's durable
   * markOrderSent, whose commit makes it durable too; lost in a crash before that, the job simply runs again.
   * The pool itself by default.
   */
  deferredPool?: pg.Pool;
  redis: Redis;
  queuePrefix: string;
  registry: AccountRegistry;
  executor: OrderExecutor;
  logger: Logger;
  config: Pick<
    WorkerConfig,
    | 'ORDER_MAX_ATTEMPTS'
    | 'ORDER_RETRY_BASE_MS'
    | 'ORDER_GATE_TIMEOUT_MS'
    | 'EXCHANGE'
    | 'LIVE_STATE_RECONCILE_MS'
  >;
  /** The global risk defaults (as risk has them): entries are re-checked against them before they are sent. */
  riskDefaults: RiskDefaults;
  /** This worker's own queue: successors waiting at the gate are promoted when their predecessor ends. */
  queue?: Queue;
  /** After a signal reached its terminal status (fill recording, metrics). */
  onCompleted?: (job: OrderJob, outcome: JobOutcome) => void;
}

/** How a job ends: the executor's outcome, or an entry refused by the risk re-check before anything was sent. */
export type JobOutcome = Omit<ExecutionOutcome, 'status'> & { status: FinalStatus };

/** Backoff of the ordering gate's re-checks: 10 ms doubling to 500 ms. */
/** A job for this signal that will still run (waiting, delayed, active): the signal is not stuck. */
async function hasPendingJob(queue: Queue | undefined, signalId: string): Promise<boolean> {
  if (!queue) return false;
  const job = await queue.getJob(signalId);
  if (!job) return false;
  return ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'].includes(await job.getState());
}

function gateDelay(checks: number): number {
  return Math.min(10 * 2 ** Math.min(checks, 10), 500);
}

async function delay(
  job: Job,
  token: string | undefined,
  ms: number,
  progress: OrderJobProgress,
): Promise<never> {
  await job.updateData({ ...(job.data as object), ...progress });
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

/**
 * One `orders-<exchange>` job: validate, wait for its predecessors (ordering gate), execute, record the outcome
 * on the signal exactly once and wake `?wait` listeners. Retryable exchange failures are retried here with
 * exponential backoff (the job stays delayed, the signal stays `executing`, so successors keep waiting);
 * after the last attempt — or on a final error — the signal ends `failed` with the exchange's message.
 */
export function createOrderJobProcessor(deps: OrderJobDeps) {
  const { pool, logger, config } = deps;

  /** Wakes the jobs that waited for this signal (best effort: their own backoff re-checks anyway). */
  async function wakeSuccessors(state: SignalState): Promise<void> {
    if (!deps.queue) return;
    for (const id of await findWaitingSuccessors(pool, state)) {
      const next = await Job.fromId(deps.queue, id);
      if (next && (await next.isDelayed())) await next.promote().catch(() => undefined);
    }
  }

  async function finish(job: OrderJob, outcome: JobOutcome, log: Logger, state: SignalState): Promise<void> {
    const written = await completeSignal(pool, job.signalId, outcome.status, outcome.reason, outcome.result);
    if (written) {
      await wakeSuccessors(state).catch((err: unknown) =>
        log.warn('could not wake successors', { error: String(err) }),
      );
      await publishSignalDone(deps.redis, deps.queuePrefix, job.signalId);
      log.info('signal finished', {
        ...finishedFields(job, outcome.result),
        status: outcome.status,
        reason: outcome.reason,
        latencyMs: Date.now() - job.receivedAt,
      });
      deps.onCompleted?.(job, outcome);
    }
  }

  function failed(job: OrderJob, reason: string): ExecutionOutcome {
    return {
      status: 'failed',
      reason,
      result: {
        success: false,
        exchange: job.signal.exchange,
        account_id: job.signal.account_id,
        action: job.signal.action,
        symbol: job.signal.symbol,
        results: {},
        error: reason,
      },
    };
  }

  /**
   * Nothing of this signal can have reached the exchange yet: not a re-run of a signal already `executing`
   * (crash, stalled job), not a retry after an exchange error, no order leg recorded.
   */
  function nothingSentYet(state: SignalState, progress: OrderJobProgress, legs: number): boolean {
    return state.status !== 'executing' && (progress.retryAttempt ?? 0) === 0 && legs === 0;
  }

  return async function processOrderJob(job: Job, token?: string): Promise<{ status: string } | undefined> {
    const parsed = orderJobSchema.safeParse(job.data);
    if (!parsed.success) {
      logger.error('malformed order job', { jobId: job.id, issues: parsed.error.issues.slice(0, 5) });
      throw new UnrecoverableError('malformed order job');
    }
    const data = parsed.data;
    const progress = orderJobProgressSchema.parse(job.data);
    const log = logger.child({ requestId: data.requestId, signalId: data.signalId, jobId: job.id });

    // Read together (one round trip, not three): the signal, whether any leg is recorded, the account — the
    // account read is only awaited once the gate has passed.
    const accountRead = deps.registry.get(data.signal.account_id);
    accountRead.catch(() => undefined); // awaited below; a job delayed at the gate drops it
    // With the legs, when the account's latest market order left, from whichever replica: this replica's
    // stream must show it before its state may decide (accounts.ts liveStateUnusable).
    const askedAt = Date.now();
    const [state, { legs, lastMarketOrderAgeMs: lastMarketAge }] = await Promise.all([
      loadSignalState(pool, data.signalId),
      findOrdersBySignalAndLastMarketSend(
        pool,
        { signalId: data.signalId, exchange: data.signal.exchange, accountId: data.signal.account_id },
        // Older sends need no check: this replica's reconcile has re-read the positions since.
        2 * config.LIVE_STATE_RECONCILE_MS,
      ),
    ]);
    // Local time of the send, at most the query's duration early (the database's now() is taken after askedAt):
    // measured after the answer instead, a push that came within that time after the send would look older.
    const lastMarketOrderAt = lastMarketAge === null ? undefined : askedAt - lastMarketAge;
    if (!state) {
      log.error('order job for an unknown signal; dropped');
      return { status: 'unknown_signal' };
    }
    if (isTerminal(state.status)) return { status: state.status }; // already done (duplicate or re-run)

    // ── ordering gate ──
    // Never runs out of order. A lost job is re-forwarded by risk's orphan sweep; a predecessor that is still
    // the only one ahead after ORDER_GATE_TIMEOUT_MS and never started is failed with a reason, then this runs.
    // One that started (`executing`) is waited for: its re-run finds what reached the exchange by client id.
    let gateNote: string | null = null;
    // The re-check below reads only, and none of its inputs (halts, limits, fills) is written by a predecessor's
    // completion: it starts with the gate's query (one round trip fewer) and is asked again if the gate had to
    // fail a stuck predecessor first.
    const recheckNeeded = !isExitAction(data.signal.action) && nothingSentYet(state, progress, legs.length);
    const recheck = () => {
      const read = recheckEntry(pool, data.signal, deps.riskDefaults, Date.now());
      read.catch(() => undefined); // awaited below, or dropped with a delayed job
      return read;
    };
    // Beside the gate's query, not after it. Not together with the signal's reads above, which would save one
    // more round trip but take up to four pooled connections per job at once (the pools of several workers
    // and ingress processes share PostgreSQL's max_connections).
    let refusalRead = recheckNeeded ? recheck() : null;
    for (;;) {
      const blockers = await findBlockingPredecessors(pool, state);
      const head = blockers[0];
      if (!head) break;
      const since = progress.gateSince ?? Date.now();
      const waited = Date.now() - since;
      const passable =
        blockers.length === 1 && head.status !== 'executing' && !(await hasPendingJob(deps.queue, head.id));
      if (waited < config.ORDER_GATE_TIMEOUT_MS || !passable) {
        const checks = (progress.gateChecks ?? 0) + 1;
        if (waited >= config.ORDER_GATE_TIMEOUT_MS && checks % 20 === 0) {
          log.warn('ordering gate still waiting', { waitedMs: waited, blockers: blockers.slice(0, 5) });
        }
        return delay(job, token, gateDelay(checks), { ...progress, gateSince: since, gateChecks: checks });
      }
      const reason = `stuck: still ${head.status} ${waited} ms after signal ${data.signalId} (next of its key) was ready; passed over by the ordering gate, nothing of it was sent`;
      if (await failStuckPredecessor(pool, head.id, reason)) {
        await publishSignalDone(deps.redis, deps.queuePrefix, head.id);
        gateNote = `ran after earlier signal ${head.id} (${head.action} ${head.symbol}) was failed as stuck after ${waited} ms`;
        if (recheckNeeded) refusalRead = recheck();
        log.warn('ordering gate failed a stuck predecessor', { blocker: head });
      }
    }

    // ── risk re-check ──
    // Risk decided ahead of the gate; a halt set since, or the loss realised by the close that just ran, must
    // still stop this entry. Exits always pass (docs/decisions/0004-risk-never-blocks-an-exit.md); once something may have been sent, the
    // signal is finished rather than abandoned half-way.
    if (refusalRead) {
      const refusal = await refusalRead;
      if (refusal) {
        const reason = `rejected at execution: ${refusal}`;
        const outcome: JobOutcome = { ...failed(data, reason), status: 'rejected' };
        if (gateNote) outcome.reason = `${reason}; ${gateNote}`;
        log.info('entry refused by the risk re-check', { reason: refusal });
        await finish(data, outcome, log, state);
        return { status: 'rejected' };
      }
    }

    // The `executing` mark is written while the executor decides; the first leg's send waits for it
    // (Execution.executing), and so does the signal's end below.
    const executing = markExecuting(deps.deferredPool ?? pool, data.signalId);
    executing.catch(() => undefined); // awaited by the first send or below
    const account = await accountRead;
    if (!account) {
      await executing;
      await finish(
        data,
        failed(data, `account ${data.signal.account_id} is not registered on ${config.EXCHANGE}`),
        log,
        state,
      );
      return { status: 'failed' };
    }

    let outcome: ExecutionOutcome;
    try {
      outcome = await deps.executor.execute(data, account, log, { legs, executing, lastMarketOrderAt });
    } catch (err) {
      await executing.catch(() => undefined); // before the retry's delay or the signal's end
      if (err instanceof ExecutionRejected || err instanceof LevelError) {
        outcome = failed(data, err.message);
      } else if (classifyExchangeError(err) === 'retryable') {
        const attempt = (progress.retryAttempt ?? 0) + 1;
        const message = exchangeErrorMessage(err);
        if (attempt < config.ORDER_MAX_ATTEMPTS) {
          if (isClockSkew(err)) await account.adapter.syncTime().catch(() => undefined);
          const wait = config.ORDER_RETRY_BASE_MS * 2 ** (attempt - 1);
          log.warn('retryable exchange error; retrying', { attempt, waitMs: wait, error: message });
          return delay(job, token, wait, { ...progress, retryAttempt: attempt });
        }
        log.error('retryable exchange error; attempts exhausted', { attempt, error: message });
        outcome = failed(data, `${message} (gave up after ${attempt} attempts)`);
      } else {
        if (err instanceof ccxt.OperationRejected || err instanceof ccxt.BadRequest)
          account.forgetExchangeState();
        const message = exchangeErrorMessage(err);
        log.warn('exchange refused the order', { error: message });
        outcome = failed(data, message);
      }
    }
    if (outcome.status === 'failed' && Object.keys(outcome.result.results).length === 0) {
      // What did reach the exchange before the failure (e.g. a flip's close) stays visible on the signal.
      const legs = await findOrdersBySignal(pool, data.signalId);
      if (legs.length) {
        outcome.result.results['orders'] = legs.map((o) => ({
          leg: o.leg,
          client_order_id: o.clientOrderId,
          order_id: o.exchangeOrderId,
          symbol: o.symbol,
          side: o.side,
          amount: o.amount,
          filled: o.filledAmount,
          average_price: o.averagePrice,
          status: o.status,
          error: o.error ?? undefined,
        }));
      }
    }
    if (gateNote) outcome.reason = outcome.reason ? `${outcome.reason}; ${gateNote}` : gateNote;
    await executing; // a failed mark fails this attempt, as before the mark was concurrent
    await finish(data, outcome, log, state);
    return { status: outcome.status };
  };
}

/**
 * A job that BullMQ itself gave up on (stalled too often, malformed, a bug): the signal must still end
 * terminal, never stay `executing` for ever.
 */
export async function failAbandonedSignal(
  deps: Pick<OrderJobDeps, 'pool' | 'redis' | 'queuePrefix' | 'logger'>,
  job: Job | undefined,
  error: Error,
): Promise<void> {
  const signalId = (job?.data as { signalId?: unknown } | undefined)?.signalId;
  if (typeof signalId !== 'string' || error instanceof DelayedError) return;
  // BullMQ emits 'failed' for every failed attempt; only the last one (or an unrecoverable/stalled one) counts.
  const last =
    Boolean(job?.finishedOn) || error.name === 'UnrecoverableError' || /stalled/i.test(error.message);
  if (!last) return;
  const reason = `worker gave up: ${error.message}`.slice(0, 500);
  const written = await completeSignal(deps.pool, signalId, 'failed', reason, {
    success: false,
    results: {},
    error: reason,
  }).catch(() => false);
  if (written) await publishSignalDone(deps.redis, deps.queuePrefix, signalId).catch(() => undefined);
}
