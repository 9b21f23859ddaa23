/**
 * Risk decision benchmark against real Postgres and Redis:
 *   pnpm exec tsx bench/risk-decisions.ts [burst=3000] [sequential=200]
 * (PG admin URL and Redis from TEST_PG_ADMIN_URL / TEST_REDIS_URL, as the tests use.)
 * Every account has a daily loss cap and max open positions, so each entry costs the full set of queries.
 * Measures: burst throughput (decisions/s) and the one-at-a-time latency enqueue → decision recorded.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  QUEUES,
  sequenceKey,
  type NormalisedSignal,
  type SignalJob,
} from '../packages/contracts/src/index.ts';
import {
  applyMigrations,
  createPgPool,
  insertQueuedSignal,
  pg,
  patchRiskLimits,
} from '../packages/db/src/index.ts';
import { createLogger } from '../packages/logger/src/index.ts';
import { createQueue, createRedis } from '../packages/queue/src/index.ts';
import { databaseUrl, TEST_PG_ADMIN_URL, TEST_REDIS_URL } from '../tests/support/env.ts';
import { createRiskService, riskEnvSchema } from '../services/risk/src/index.ts';

const BURST = Number(process.argv[2] ?? 3000);
const SEQUENTIAL = Number(process.argv[3] ?? 200);
const ACCOUNTS = 20;

const name = `tradehook_bench_risk_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const url = databaseUrl(name);
const prefix = `{th-bench-${randomBytes(4).toString('hex')}}`;
const pool = createPgPool(url, { max: 8, onError: (err) => console.error('bench pool:', err.message) });
const redis = createRedis(TEST_REDIS_URL, 'worker');
const signals = createQueue<SignalJob>(QUEUES.signals, redis, prefix, { removeOnComplete: true });
const config = riskEnvSchema.parse({
  DATABASE_URL: url,
  REDIS_URL: TEST_REDIS_URL,
  QUEUE_PREFIX: prefix,
  LOG_DIR: '',
  RISK_SWEEP_INTERVAL_MS: '0',
  RISK_CONCURRENCY: process.env.RISK_CONCURRENCY ?? '16',
});
const service = createRiskService(config, { logger: createLogger({ service: 'risk-bench', silent: true }) });

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

try {
  await applyMigrations(url);
  for (let a = 0; a < ACCOUNTS; a++) {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO accounts (id, exchange, account_id, api_key_masked, credentials, credentials_key_id)
       VALUES ($1, 'binance', $2, 'x', '\\x00'::bytea, 'k')`,
      [id, `bench${a}`],
    );
    await patchRiskLimits(pool, id, { daily_loss_cap: 1000, max_open_positions: 50, max_leverage: 20 });
    for (let f = 0; f < 50; f++) {
      await pool.query(
        `INSERT INTO fills (id, exchange, account_id, trade_id, symbol, side, price, amount, fee, realized_pnl, time)
         VALUES ($1, 'binance', $2, $3, $4, 'buy', 100, 1, 0.1, -1, now() - ($5 || ' minutes')::interval)`,
        [randomUUID(), `bench${a}`, randomUUID(), `S${f % 10}/USDT:USDT`, String(f * 10)],
      );
    }
  }
  await service.start();

  let n = 0;
  async function makeJob(receivedAt: number): Promise<SignalJob> {
    const i = n++;
    const signal: NormalisedSignal = {
      account_id: `bench${i % ACCOUNTS}`,
      exchange: 'binance',
      action: i % 5 === 4 ? 'close_all' : 'long',
      symbol: `S${i % 10}/USDT:USDT`,
      leverage: 5,
    };
    const id = randomUUID();
    const seqKey = sequenceKey('binance', signal.account_id, signal.symbol);
    await insertQueuedSignal(pool, {
      id,
      signal,
      dedupKey: id,
      seqKey,
      requestId: id,
      sourceIp: null,
      receivedAt: new Date(receivedAt),
    });
    return { signalId: id, requestId: id, receivedAt, signal };
  }
  const undecided = async () =>
    Number((await pool.query(`SELECT count(*) FROM signals WHERE status = 'queued'`)).rows[0].count);

  // Burst: all rows first, then all jobs at once; time until every decision is recorded.
  const jobs: SignalJob[] = [];
  for (let i = 0; i < BURST; i++) jobs.push(await makeJob(Date.now()));
  const t0 = performance.now();
  await signals.addBulk(jobs.map((data) => ({ name: 'signal', data, opts: { jobId: data.signalId } })));
  while ((await undecided()) > 0) await new Promise((r) => setTimeout(r, 20));
  const burstMs = performance.now() - t0;

  // One at a time: enqueue → risk_decided_at (both wall clock of this host).
  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const job = await makeJob(Date.now());
    const sent = Date.now();
    await signals.add('signal', job, { jobId: job.signalId });
    for (;;) {
      const { rows } = await pool.query(
        `SELECT risk_decided_at FROM signals WHERE id = $1 AND status <> 'queued'`,
        [job.signalId],
      );
      if (rows[0]) {
        latencies.push((rows[0].risk_decided_at as Date).getTime() - sent);
        break;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  latencies.sort((a, b) => a - b);
  const outcomes = (
    await pool.query(`SELECT status, count(*)::int AS n FROM signals GROUP BY status ORDER BY status`)
  ).rows;
  console.log(
    JSON.stringify(
      {
        concurrency: config.RISK_CONCURRENCY,
        burst: { signals: BURST, ms: Math.round(burstMs), perSecond: Math.round((BURST / burstMs) * 1000) },
        sequential: {
          signals: SEQUENTIAL,
          p50Ms: pct(latencies, 50),
          p95Ms: pct(latencies, 95),
          p99Ms: pct(latencies, 99),
          maxMs: latencies[latencies.length - 1],
        },
        outcomes,
      },
      null,
      2,
    ),
  );
} finally {
  const clean = await service.stop();
  if (!clean) console.error('risk service did not stop within its deadline');
  await signals.obliterate({ force: true }).catch(() => undefined);
  for (const exchange of ['binance', 'okx'] as const) {
    const q = createQueue(QUEUES.orders(exchange), redis, prefix);
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  await signals.close();
  redis.disconnect();
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}
