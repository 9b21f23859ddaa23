import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QUEUES,
  sequenceKey,
  type Exchange,
  type NormalisedSignal,
  type OrderJob,
  riskLimitsPatchSchema,
  type RiskLimitsPatch,
  type SignalJob,
} from '@tradehook/contracts';
import { createPgPool, insertQueuedSignal, patchRiskLimits, setGlobalHalt, type pg } from '@tradehook/db';
import { createLogger, winston } from '@tradehook/logger';
import {
  createQueue,
  createRedis,
  createWorker,
  type Queue,
  type Redis,
  type Worker,
} from '@tradehook/queue';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../tests/support/index.ts';
import { riskEnvSchema } from './config.ts';
import { createRiskService, type RiskService } from './service.ts';

/**
 * The risk service against real Postgres, Redis and BullMQ: signals go in through the `signals` queue the
 * way ingress puts them there; what risk forwarded is read by consuming `orders-<exchange>`.
 */

let db: TestDatabase;
let pool: pg.Pool;
let prefix: string;
let redis: Redis;
let signalsQueue: Queue<unknown>;
let service: RiskService;
const orderWorkers: Worker[] = [];
const forwarded = new Map<string, OrderJob>();
let forwardedCount = 0;
/** Every formatted log line of the service (after redaction). */
const logLines: string[] = [];
const logs = new winston.transports.Stream({
  stream: new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  }),
});
/** The service's clock (epoch ms). */
let clock = Date.parse('2026-03-10T12:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 4 });
  prefix = testQueuePrefix();
  redis = createRedis(TEST_REDIS_URL, 'worker');
  signalsQueue = createQueue(QUEUES.signals, redis, prefix);
  for (const exchange of ['binance', 'okx'] as const) {
    orderWorkers.push(
      createWorker<OrderJob>(
        QUEUES.orders(exchange),
        async (job) => {
          forwardedCount++;
          forwarded.set(job.data.signalId, job.data);
        },
        createRedis(TEST_REDIS_URL, 'worker'),
        prefix,
      ),
    );
  }
  const config = riskEnvSchema.parse({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_DIR: '',
    RISK_CONCURRENCY: '4',
    RISK_MAX_TRIES: '6',
    RISK_RETRY_BASE_MS: '50',
    RISK_ORPHAN_AFTER_MS: '60000',
    RISK_SWEEP_INTERVAL_MS: '0',
  });
  const logger = createLogger({ service: 'risk-test', level: 'info', transports: [logs] });
  logger.transports[0]!.silent = true; // console off, capture on
  service = createRiskService(config, {
    logger,
    now: () => clock,
  });
  await service.start();
});

afterAll(async () => {
  await service?.stop();
  for (const w of orderWorkers) await w.close();
  await signalsQueue?.close();
  redis?.disconnect();
  await pool?.end();
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

async function createAccount(
  accountId: string,
  options: { exchange?: Exchange; defaultLeverage?: number; limits?: RiskLimitsPatch } = {},
): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO accounts (id, exchange, account_id, api_key_masked, credentials, credentials_key_id, default_leverage)
     VALUES ($1, $2::"Exchange", $3, 'abcd…wxyz', '\\x00'::bytea, 'test-key', $4)`,
    [id, options.exchange ?? 'binance', accountId, options.defaultLeverage ?? null],
  );
  if (options.limits) await patchRiskLimits(pool, id, riskLimitsPatchSchema.parse(options.limits));
  return id;
}

async function addFill(
  accountId: string,
  fill: { symbol?: string; side?: 'buy' | 'sell'; amount?: number; pnl?: number; fee?: number; time: string },
) {
  await pool.query(
    `INSERT INTO fills (id, exchange, account_id, trade_id, symbol, side, price, amount, fee, realized_pnl, time)
     VALUES ($1, 'binance', $2, $3, $4, $5, 50000, $6, $7, $8, $9)`,
    [
      randomUUID(),
      accountId,
      randomUUID(),
      fill.symbol ?? 'BTC/USDT:USDT',
      fill.side ?? 'sell',
      fill.amount ?? 0.01,
      fill.fee ?? 0,
      fill.pnl ?? 0,
      fill.time,
    ],
  );
}

/** What ingress does: the queued row (with its sequence number), then the job with jobId = signal id. */
async function submit(
  accountId: string,
  over: Partial<NormalisedSignal> = {},
  options: { receivedAt?: number; enqueue?: boolean; jobDelayMs?: number } = {},
): Promise<string> {
  const signal: NormalisedSignal = {
    account_id: accountId,
    exchange: 'binance',
    action: 'long',
    symbol: 'BTC/USDT:USDT',
    ...over,
  };
  const id = randomUUID();
  const receivedAt = options.receivedAt ?? clock;
  const seqKey = sequenceKey(signal.exchange, signal.account_id, signal.symbol);
  await insertQueuedSignal(pool, {
    id,
    signal,
    dedupKey: `test:${id}`,
    seqKey,
    requestId: `req-${id.slice(0, 8)}`,
    sourceIp: null,
    receivedAt: new Date(receivedAt),
  });
  if (options.enqueue === false) return id;
  const job: SignalJob = {
    signalId: id,
    requestId: `req-${id.slice(0, 8)}`,
    receivedAt,
    signal,
  };
  await signalsQueue.add('signal', job, { jobId: id, delay: options.jobDelayMs });
  return id;
}

interface Decided {
  status: string;
  reason: string | null;
  risk_decided_at: Date | null;
  completed_at: Date | null;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function decided(signalId: string): Promise<Decided> {
  return until(`a decision on ${signalId}`, async () => {
    const { rows } = await pool.query<Decided>(
      `SELECT status, reason, risk_decided_at, completed_at FROM signals WHERE id = $1`,
      [signalId],
    );
    const row = rows[0];
    return row && row.status !== 'queued' ? row : undefined;
  });
}

async function expectRejected(signalId: string, reason: RegExp): Promise<void> {
  const row = await decided(signalId);
  expect(row.status).toBe('rejected');
  expect(row.reason).toMatch(reason);
  expect(row.risk_decided_at?.getTime()).toBe(clock);
  expect(row.completed_at?.getTime()).toBe(clock);
}

async function expectForwarded(signalId: string): Promise<OrderJob> {
  const row = await decided(signalId);
  expect(row.status, row.reason ?? '').toBe('approved');
  return until(`order job ${signalId}`, async () => forwarded.get(signalId));
}

describe('risk service', () => {
  it('approves an entry within limits and forwards it with the limits the worker must enforce', async () => {
    await createAccount('plain', {
      defaultLeverage: 7,
      limits: { max_position_notional: 5000, max_open_positions: 3 },
    });
    const id = await submit('plain', { stop_loss: 48000 });
    const job = await expectForwarded(id);
    expect(job).toMatchObject({
      signalId: id,
      riskDecidedAt: clock,
      signal: { action: 'long', symbol: 'BTC/USDT:USDT', stop_loss: 48000 },
      limits: { leverage: 7, maxLeverage: 20, maxPositionNotional: 5000, maxOpenPositions: 3 },
    });
    expect(
      (
        await pool.query(`SELECT risk_decided_at FROM signals WHERE id = $1`, [id])
      ).rows[0].risk_decided_at.getTime(),
    ).toBe(clock);
  });

  it('an unknown account is rejected with a reason, exits included', async () => {
    await expectRejected(
      await submit('nobody'),
      /^account_not_found: account "nobody" on binance is not registered/,
    );
    await expectRejected(await submit('nobody', { action: 'close_all' }), /^account_not_found/);
  });

  // Each limit: an entry is refused with a stored reason, an exit on the same account goes through.
  const limitCases: Array<{
    name: string;
    setup: (accountId: string) => Promise<unknown>;
    entry: Partial<NormalisedSignal>;
    reason: RegExp;
  }> = [
    {
      name: 'symbol allow-list',
      setup: (a) => createAccount(a, { limits: { symbol_allow_list: ['ETHUSDT.P', 'SOL-USDT-SWAP'] } }),
      entry: {},
      reason:
        /^symbol_not_allowed: BTC\/USDT:USDT is not in the account's symbol allow-list \(ETH\/USDT:USDT, SOL\/USDT:USDT\)/,
    },
    {
      name: 'max leverage (policy reject)',
      setup: (a) => createAccount(a, { limits: { max_leverage: 10 } }),
      entry: { leverage: 15 },
      reason: /^leverage_above_max: leverage 15x is above the account maximum 10x/,
    },
    {
      name: 'max position notional (quantity × price known upfront)',
      setup: (a) => createAccount(a, { limits: { max_position_notional: 1000 } }),
      entry: { quantity: 0.05, price: 50000 },
      reason:
        /^position_notional_above_max: order notional 2500.00 .* above the maximum position notional 1000.00/,
    },
    {
      name: 'max open positions (from recorded fills)',
      setup: async (a) => {
        await createAccount(a, { limits: { max_open_positions: 2 } });
        await addFill(a, { symbol: 'ETH/USDT:USDT', side: 'buy', amount: 1, time: '2026-03-01T00:00:00Z' });
        await addFill(a, { symbol: 'SOL/USDT:USDT', side: 'sell', amount: 3, time: '2026-03-01T00:00:00Z' });
        // Opened and closed again: not open.
        await addFill(a, { symbol: 'XRP/USDT:USDT', side: 'buy', amount: 5, time: '2026-03-01T00:00:00Z' });
        await addFill(a, { symbol: 'XRP/USDT:USDT', side: 'sell', amount: 5, time: '2026-03-02T00:00:00Z' });
      },
      entry: {},
      reason:
        /^max_open_positions_reached: 2 positions are open .*\(ETH\/USDT:USDT, SOL\/USDT:USDT\); the maximum is 2/,
    },
    {
      name: 'daily loss cap',
      setup: async (a) => {
        await createAccount(a, { limits: { daily_loss_cap: 100 } });
        await addFill(a, { pnl: -120, fee: 1, time: '2026-03-10T01:00:00Z' });
      },
      entry: {},
      reason:
        /^daily_loss_cap_reached: today's realised PnL \(2026-03-10, UTC\) is -121.00 USDT including 1.00 fees/,
    },
    {
      name: 'account halt (trading_enabled = false)',
      setup: (a) => createAccount(a, { limits: { trading_enabled: false } }),
      entry: {},
      reason: /^account_halted: trading is disabled for this account/,
    },
    {
      name: 'stale signal (sent_at + max_lag)',
      setup: (a) => createAccount(a),
      entry: { sent_at: clock - 90_000, max_lag: 60 },
      reason: /^stale: the alert was sent 90 s before the risk check, more than its max_lag of 60 s/,
    },
  ];

  it.each(limitCases)(
    '$name refuses an entry and lets every exit through',
    async ({ name, setup, entry, reason }) => {
      const account = `acct-${name.replace(/[^a-z]+/gi, '-').slice(0, 30)}`;
      await setup(account);
      await expectRejected(await submit(account, entry), reason);
      await expectRejected(await submit(account, { ...entry, action: 'short' }), reason);
      for (const action of ['close_long', 'close_short', 'close_all'] as const) {
        const exit = await expectForwarded(await submit(account, { ...entry, action }));
        expect(exit.signal.action).toBe(action);
        expect(exit.limits.leverage).toBeUndefined();
      }
    },
  );

  it('leverage above the max: rejected under "reject", clamped under "clamp" (reason records the clamp)', async () => {
    await createAccount('lev-reject', { limits: { max_leverage: 5 } });
    await createAccount('lev-clamp', { limits: { max_leverage: 5, leverage_policy: 'clamp' } });
    await expectRejected(await submit('lev-reject', { leverage: 6 }), /^leverage_above_max/);
    expect((await expectForwarded(await submit('lev-reject', { leverage: 5 }))).limits).toEqual({
      leverage: 5,
      maxLeverage: 5,
    });
    const clampedId = await submit('lev-clamp', { leverage: 50 });
    expect((await expectForwarded(clampedId)).limits).toEqual({ leverage: 5, maxLeverage: 5 });
    expect((await decided(clampedId)).reason).toBe('leverage 50x clamped to the account maximum 5x');
    // Default max (20, the guide's expert bound) when the account sets none; default leverage capped by it.
    await createAccount('lev-default', { defaultLeverage: 25 });
    expect((await expectForwarded(await submit('lev-default'))).limits).toEqual({
      leverage: 20,
      maxLeverage: 20,
    });
    await expectRejected(await submit('lev-default', { leverage: 21 }), /above the account maximum 20x/);
  });

  it('daily loss counts fees and resets at the next day', async () => {
    await createAccount('daily', { limits: { daily_loss_cap: 100 } });
    await addFill('daily', { pnl: -96, fee: 3, time: '2026-03-10T03:00:00Z' });
    // Yesterday's loss does not count.
    await addFill('daily', { pnl: -500, fee: 0, time: '2026-03-09T23:59:59.999Z' });
    // A winning fill tomorrow does not count either.
    await addFill('daily', { pnl: 1000, time: '2026-03-11T00:00:00Z' });
    await expectForwarded(await submit('daily')); // -99: still inside the budget
    await addFill('daily', { pnl: 0, fee: 1, time: '2026-03-10T04:00:00Z' }); // the fee alone reaches -100
    await expectRejected(
      await submit('daily'),
      /^daily_loss_cap_reached: .* is -100.00 USDT including 4.00 fees.*resume at 2026-03-11T00:00:00.000Z/,
    );
    await expectForwarded(await submit('daily', { action: 'close_long' }));

    const saved = clock;
    try {
      clock = Date.parse('2026-03-10T23:59:59.999Z');
      await expectRejected(await submit('daily'), /^daily_loss_cap_reached/);
      clock = Date.parse('2026-03-11T00:00:00Z');
      await expectForwarded(await submit('daily')); // new day: +1000 counts now, and nothing else
    } finally {
      clock = saved;
    }
  });

  it('the day boundary follows the account time zone (Asia/Seoul) or the global default (UTC)', async () => {
    await createAccount('tz-utc', { limits: { daily_loss_cap: 50 } });
    await createAccount('tz-seoul', { limits: { daily_loss_cap: 50, timezone: 'Asia/Seoul' } });
    for (const a of ['tz-utc', 'tz-seoul']) {
      // 14:00 UTC = 23:00 in Seoul on 2026-03-10.
      await addFill(a, { pnl: -60, time: '2026-03-10T14:00:00Z' });
    }
    const saved = clock;
    try {
      clock = Date.parse('2026-03-10T14:30:00Z'); // same day in both zones
      await expectRejected(await submit('tz-utc'), /2026-03-10, UTC/);
      await expectRejected(
        await submit('tz-seoul'),
        /2026-03-10, Asia\/Seoul.*resume at 2026-03-10T15:00:00.000Z/,
      );
      clock = Date.parse('2026-03-10T16:00:00Z'); // 01:00 on 2026-03-11 in Seoul, still 2026-03-10 in UTC
      await expectRejected(await submit('tz-utc'), /^daily_loss_cap_reached/);
      await expectForwarded(await submit('tz-seoul'));
    } finally {
      clock = saved;
    }
  });

  it('global halt blocks every entry of every account until resumed; exits still pass', async () => {
    await createAccount('halt-a');
    await createAccount('halt-b', { exchange: 'okx' });
    await setGlobalHalt(pool, { halted: true, reason: 'maintenance', since: new Date(clock).toISOString() });
    try {
      await expectRejected(
        await submit('halt-a'),
        /^halted: trading is halted for all accounts \(maintenance\)/,
      );
      await expectRejected(await submit('halt-b', { exchange: 'okx', action: 'short' }), /^halted/);
      await expectForwarded(await submit('halt-a', { action: 'close_all' }));
      const okxExit = await expectForwarded(
        await submit('halt-b', { exchange: 'okx', action: 'close_short' }),
      );
      expect(okxExit.signal.exchange).toBe('okx');
    } finally {
      await setGlobalHalt(pool, { halted: false, reason: null, since: null });
    }
    await expectForwarded(await submit('halt-a'));
    await expectForwarded(await submit('halt-b', { exchange: 'okx' }));
  });

  it('per-account halt and resume', async () => {
    const rowId = await createAccount('acct-halt');
    await patchRiskLimits(pool, rowId, { trading_enabled: false });
    await expectRejected(await submit('acct-halt'), /^account_halted/);
    await patchRiskLimits(pool, rowId, { trading_enabled: true });
    await expectForwarded(await submit('acct-halt'));
  });

  it('a malformed job fails with a reason (its signal too) and the service keeps deciding', async () => {
    await createAccount('after-bad');
    const garbage = await signalsQueue.add('signal', { hello: 'world' }, { jobId: randomUUID() });
    // A job naming a real signal but missing fields: that signal is marked failed.
    const named = await submit('after-bad');
    // ...but its own job is already queued; mark a second signal via a bad job before its good one exists.
    const victim = randomUUID();
    await insertQueuedSignal(pool, {
      id: victim,
      signal: { account_id: 'after-bad', exchange: 'binance', action: 'long', symbol: 'BTC/USDT:USDT' },
      dedupKey: `test:${victim}`,
      seqKey: 'binance:after-bad:BTC/USDT:USDT',
      requestId: 'req-victim',
      sourceIp: null,
      receivedAt: new Date(clock),
    });
    const bad = await signalsQueue.add('signal', { signalId: victim, receivedAt: 'nope' }, { jobId: victim });
    const failedReason = (jobId: string) =>
      until(
        `job ${jobId} to fail`,
        async () => (await signalsQueue.getJob(jobId))?.failedReason || undefined,
      );
    expect(await failedReason(garbage.id!)).toMatch(/^malformed signal job: signalId: .*; requestId: /);
    expect(await failedReason(bad.id!)).toMatch(/^malformed signal job: .*receivedAt/);
    const victimRow = await decided(victim);
    expect(victimRow.status).toBe('failed');
    expect(victimRow.reason).toMatch(/^malformed signal job: /);
    // The service is still running: good jobs before and after are decided.
    await expectForwarded(named);
    await expectForwarded(await submit('after-bad'));
  });

  it('a redelivered job neither re-decides nor forwards twice; an approved-but-unforwarded signal is forwarded', async () => {
    await createAccount('redeliver');
    const id = await submit('redeliver');
    const first = await expectForwarded(id);
    const countBefore = forwardedCount;
    const { rows } = await pool.query(`SELECT status, risk_decided_at FROM signals WHERE id = $1`, [id]);
    const job = {
      signalId: id,
      requestId: first.requestId,
      receivedAt: first.receivedAt,
      signal: first.signal,
    };
    // The worker has taken it on: a late duplicate of the signals job must not touch the row nor send twice.
    await pool.query(`UPDATE signals SET status = 'executing' WHERE id = $1`, [id]);
    const again = await signalsQueue.add('signal', job, { jobId: `${id}-again` });
    expect(await until('redelivery', async () => ((await again.isCompleted()) ? true : undefined))).toBe(
      true,
    );
    // Re-forwarded under the same order job id, which still exists: BullMQ adds nothing.
    expect((await signalsQueue.getJob(`${id}-again`))?.returnvalue).toMatchObject({ outcome: 'approved' });
    const after = await pool.query(`SELECT status, risk_decided_at FROM signals WHERE id = $1`, [id]);
    expect(after.rows[0]).toEqual({ ...rows[0], status: 'executing' });
    expect(forwardedCount).toBe(countBefore);

    // Crash between recording "approved" and enqueueing: the retry forwards it.
    await createAccount('crashy');
    const crashed = randomUUID();
    const signal: NormalisedSignal = {
      account_id: 'crashy',
      exchange: 'binance',
      action: 'long',
      symbol: 'BTC/USDT:USDT',
      leverage: 3,
    };
    await insertQueuedSignal(pool, {
      id: crashed,
      signal,
      dedupKey: `test:${crashed}`,
      seqKey: 'binance:crashy:BTC/USDT:USDT',
      requestId: 'req-crashy',
      sourceIp: null,
      receivedAt: new Date(clock),
    });
    await pool.query(`UPDATE signals SET status = 'approved', risk_decided_at = now() WHERE id = $1`, [
      crashed,
    ]);
    await signalsQueue.add(
      'signal',
      {
        signalId: crashed,
        requestId: 'req-crashy',
        receivedAt: clock,
        signal,
      },
      { jobId: crashed },
    );
    expect((await until('re-forward', async () => forwarded.get(crashed))).limits).toEqual({
      leverage: 3,
      maxLeverage: 20,
    });
  });

  it('a transient database error is retried; when the tries run out the signal fails with the reason', async () => {
    await createAccount('flaky');
    const jobTries = async (jobId: string) => (await signalsQueue.getJob(jobId))?.attemptsStarted ?? 0;
    await pool.query('ALTER TABLE risk_limits RENAME TO risk_limits_away');
    let recovered: string;
    try {
      recovered = await submit('flaky');
      await until('a retry', async () => ((await jobTries(recovered)) >= 2 ? true : undefined));
      const { rows } = await pool.query(`SELECT status FROM signals WHERE id = $1`, [recovered]);
      expect(rows[0].status).toBe('queued');
    } finally {
      await pool.query('ALTER TABLE risk_limits_away RENAME TO risk_limits');
    }
    await expectForwarded(recovered);

    await pool.query('ALTER TABLE risk_limits RENAME TO risk_limits_away');
    try {
      const doomed = await submit('flaky');
      const row = await decided(doomed);
      expect(row.status).toBe('failed');
      expect(row.reason).toMatch(/^risk check failed: relation "risk_limits" does not exist/);
      expect(await jobTries(doomed)).toBe(6);
      expect(forwarded.has(doomed)).toBe(false);
    } finally {
      await pool.query('ALTER TABLE risk_limits_away RENAME TO risk_limits');
    }
    await expectForwarded(await submit('flaky'));
  });

  it('re-forwards every non-final signal whose job was lost (queued, approved, executing), never a pending one', async () => {
    await createAccount('orphans');
    const old = clock - 3 * 60_000;
    const lost = await submit('orphans', {}, { receivedAt: old, enqueue: false });
    // Approved/executing rows whose order job vanished with Redis' last second of writes.
    const lostApproved = await submit(
      'orphans',
      { symbol: 'XRP/USDT:USDT' },
      { receivedAt: old, enqueue: false },
    );
    const lostExecuting = await submit(
      'orphans',
      { symbol: 'ADA/USDT:USDT' },
      { receivedAt: old, enqueue: false },
    );
    await pool.query(`UPDATE signals SET status = 'approved' WHERE id = $1`, [lostApproved]);
    await pool.query(`UPDATE signals SET status = 'executing', updated_at = received_at WHERE id = $1`, [
      lostExecuting,
    ]);
    const pending = await submit(
      'orphans',
      { symbol: 'ETH/USDT:USDT' },
      { receivedAt: old, jobDelayMs: 600_000 },
    );
    const young = await submit(
      'orphans',
      { symbol: 'SOL/USDT:USDT' },
      { receivedAt: clock - 10_000, enqueue: false },
    );
    try {
      expect((await service.sweepOrphans()).sort()).toEqual([lost, lostApproved, lostExecuting].sort());
      // Decided by risk as if it had just arrived, and sent on to the worker.
      const row = await decided(lost);
      expect(row.status).toBe('approved');
      await expectForwarded(lost);
      await expectForwarded(lostApproved);
      await until('the executing signal forwarded again', async () => forwarded.get(lostExecuting));
      const { rows } = await pool.query(
        `SELECT id, status FROM signals WHERE id = ANY($1::uuid[]) ORDER BY id`,
        [[pending, young]],
      );
      expect(rows.map((r) => r.status)).toEqual(['queued', 'queued']);
    } finally {
      await (await signalsQueue.getJob(pending))?.remove();
    }
  });
});
