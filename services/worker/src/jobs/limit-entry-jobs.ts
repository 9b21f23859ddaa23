/**
 * The `limit-entries-<exchange>` queue (docs/decisions/0025-limit-entries.md): one delayed `expire` job per
 * resting limit entry (its cancel-after, kept in Redis so it survives a restart), and `check` jobs added when
 * the stream shows the entry filling (first) or the periodic REST round finds it still open (backup). Every
 * job runs limit-follow-up.ts under a per-signal lock, after the signal itself ended.
 */
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { limitEntryJobSchema, type Exchange, type LimitEntryJob } from '@tradehook/contracts';
import { isTerminal, loadSignalState, type pg } from '@tradehook/db';
import type { OrderInfo } from '@tradehook/exchange';
import type { Logger } from '@tradehook/logger';
import { Job, type Queue } from 'bullmq';
import type { AccountContext, AccountRegistry } from '../accounts.ts';
import type { LimitEntryScheduler } from '../execution/context.ts';
import type { OrderExecutor } from '../execution/executor.ts';
import { followRestingEntry } from '../execution/limit-follow-up.ts';
import { OUR_CLIENT_ID } from '../fills/fill-sync.ts';

export interface LimitEntryJobsDeps {
  exchange: Exchange;
  pool: pg.Pool;
  redis: Redis;
  queuePrefix: string;
  queue: Queue<LimitEntryJob>;
  registry: AccountRegistry;
  logger: Logger;
}

/** Retried by BullMQ with backoff (declared in packages/queue). */
class NotYet extends Error {}

export class LimitEntryJobs implements LimitEntryScheduler {
  constructor(private readonly deps: LimitEntryJobsDeps) {}

  async schedule(data: LimitEntryJob): Promise<void> {
    // The job id is the signal id: a retried order job schedules once; the stream finds the data by it.
    await this.deps.queue.add('expire', data, {
      jobId: data.order.signalId,
      delay: Math.max(0, data.cancelAt - Date.now()),
    });
  }

  /** A pushed order: our limit entry (it has an expire job) that filled further is checked at once. */
  async onStreamOrder(_account: AccountContext, order: OrderInfo): Promise<void> {
    const ours = OUR_CLIENT_ID.exec(order.clientOrderId ?? '');
    if (!ours || ours[2] !== 'E' || order.conditional) return;
    await this.check(order, `s${order.filled ?? 0}`).catch((err: unknown) =>
      this.deps.logger.warn('limit entry stream check not queued', { error: String(err) }),
    );
  }

  /** The REST backup: every limit entry of the account still open is checked (from the fill sync's round). */
  async reconcile(account: AccountContext): Promise<number> {
    const { rows } = await this.deps.pool.query<{ client_order_id: string; symbol: string }>(
      `SELECT client_order_id, symbol FROM orders
        WHERE exchange = $1::"Exchange" AND account_id = $2 AND leg = 'entry' AND type = 'limit' AND status = 'open'`,
      [this.deps.exchange, account.settings.accountId],
    );
    for (const r of rows) await this.check({ clientOrderId: r.client_order_id }, `r${randomUUID()}`);
    return rows.length;
  }

  private async check(order: Pick<OrderInfo, 'clientOrderId'>, tag: string): Promise<void> {
    const signalTag = OUR_CLIENT_ID.exec(order.clientOrderId ?? '')?.[1];
    if (!signalTag) return;
    const { rows } = await this.deps.pool.query<{ signal_id: string }>(
      `SELECT signal_id FROM orders WHERE client_order_id = $1 AND type = 'limit'`,
      [order.clientOrderId],
    );
    const signalId = rows[0]?.signal_id;
    if (!signalId) return;
    const expire = await Job.fromId<LimitEntryJob>(this.deps.queue, signalId);
    // None: an IOC/FOK. Completed: the cancel-after ran, the entry's follow-up is over.
    if (!expire || (await expire.isCompleted())) return;
    await this.deps.queue.add('check', expire.data, { jobId: `${signalId}-${tag}` });
  }

  /** The queue's processor. */
  async process(job: Job<LimitEntryJob>, executor: OrderExecutor): Promise<unknown> {
    const data = limitEntryJobSchema.parse(job.data);
    const { signalId, signal } = data.order;
    const log = this.deps.logger.child({ signalId, limitJob: job.name });
    const state = await loadSignalState(this.deps.pool, signalId);
    if (!state) return { skipped: 'unknown signal' };
    // The order job owns the entry until the signal ends; its last look may predate this fill.
    if (!isTerminal(state.status)) throw new NotYet(`signal ${signalId} is still ${state.status}`);
    // A signal that failed after its entry was booked: nothing more is placed, but the remainder still goes.
    const executed = state.status === 'executed';
    if (!executed && job.name !== 'expire') return { skipped: state.status };
    const account = await this.deps.registry.get(signal.account_id);
    if (!account) return { skipped: 'account not registered' };
    const lockKey = `${this.deps.queuePrefix}:limit-entry:${signalId}`;
    const token = randomUUID();
    if ((await this.deps.redis.set(lockKey, token, 'PX', 60_000, 'NX')) !== 'OK')
      throw new NotYet(`limit entry ${signalId} is being followed elsewhere`);
    try {
      await account.adapter.loadMarkets();
      const x = executor.execution(data.order, account, log);
      return await followRestingEntry(x, data, job.name === 'expire', executed);
    } finally {
      if ((await this.deps.redis.get(lockKey)) === token) await this.deps.redis.del(lockKey);
    }
  }
}
