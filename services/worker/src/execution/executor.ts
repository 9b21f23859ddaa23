/**
 * Carries out one approved signal on the exchange. Every leg is planned as an `orders` row before it is sent;
 * a retry of the same job finds the rows and resumes (adopting what already reached the exchange) instead of
 * deciding again from a position that its own earlier attempt created.
 */
import type { OrderJob } from '@tradehook/contracts';
import type { pg } from '@tradehook/db';
import type { Logger } from '@tradehook/logger';
import type { AccountContext } from '../accounts.ts';
import { CandleCache } from './candles.ts';
import type { ExecConfig, Execution, JobStart, LimitEntryScheduler } from './context.ts';
import { enter } from './entries.ts';
import { closeAll, closeSide } from './exits.ts';
import type { ExecutionOutcome } from './views.ts';

export { ExecutionRejected, type ExecutionOutcome, type OrderDetails } from './views.ts';
export { LevelError } from './levels.ts';

export class OrderExecutor {
  constructor(
    private readonly pool: pg.Pool,
    private readonly config: ExecConfig,
    /** ATR candles, shared by all accounts of the process. */
    readonly candles = new CandleCache(),
    /** Follows limit entries that rest on the book (absent: such entries are refused). */
    private readonly limitEntries?: LimitEntryScheduler,
    /** Commits deferred, for the planned legs (see Execution.deferredPool); the pool itself by default. */
    private readonly deferredPool: pg.Pool = pool,
  ) {}

  /** What every leg of one job needs (also the follow-ups of a resting limit entry). */
  execution(job: OrderJob, account: AccountContext, log: Logger): Execution {
    const { pool, deferredPool, config, candles, limitEntries } = this;
    return { pool, deferredPool, config, candles, job, account, log, limitEntries };
  }

  /** `started`: what the job read and started before (its legs, its `executing` mark); see Execution. */
  async execute(
    job: OrderJob,
    account: AccountContext,
    log: Logger,
    started: JobStart = {},
  ): Promise<ExecutionOutcome> {
    await account.adapter.loadMarkets();
    const x = { ...this.execution(job, account, log), ...started };
    const action = job.signal.action;
    if (action === 'close_all') return closeAll(x);
    if (action === 'close_long') return closeSide(x, 'long');
    if (action === 'close_short') return closeSide(x, 'short');
    return enter(x, action);
  }
}
