import { existsSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { benchAccounts, seedAccounts, type BenchAccount, type BenchEnvironment } from '../lib/environment.ts';
import { runPaced, type SentRecord } from '../lib/load.ts';
import type { MemoryBook } from '../lib/memory-book.ts';
import {
  startIngress,
  startRisk,
  startSimulatorProcess,
  redisCpuMs,
  startWorkerProcess,
  waitForQueueWorkers,
  type Ingress,
  type Simulator,
} from '../lib/pipeline.ts';
import { cpuMeter, REPO_ROOT, type ManagedProcess } from '../lib/processes.ts';
import type { BurstFigures, E2eSeries, Outcome, ScalingFigures, StageFigures } from '../lib/results.ts';
import type { Sizes } from '../lib/scale.ts';
import { summarise } from '../lib/stats.ts';
import { readTimelines, TERMINAL, waitForStatuses, type SignalTimeline } from '../lib/timeline.ts';
import type { BodySpec } from '../load/webhook-bodies.ts';

/**
 * Benchmarks 3, 4 and 6 (and the pipeline half of 5): ingress, risk and N workers as processes, the
 * simulator as a process, alerts posted over HTTP, figures read back from Postgres and the simulator's
 * order log.
 */
type Wanted = Set<'e2e' | 'scaling' | 'burst' | 'memory'>;
const EXCHANGE = 'binance' as const;
const SYMBOL = 'BTCUSDT';
// Above the simulator's BTC minimum notional (100 USDT at 60,000).
const QUANTITY = 0.002;
/**
 * The end-to-end series add to open positions, each entry with its own SL and TP, and Binance holds at most
 * 10 open conditional orders per symbol (MAX_NUM_ALGO_ORDERS: the worker refuses the 6th add before sending
 * it): its alerts are spread over five symbols, each sized above its minimum notional at the
 * simulator's default price, so no (account, symbol) receives more than MAX_ADDS_PER_SYMBOL entries.
 */
const E2E_QUANTITIES: Record<string, number> = {
  BTCUSDT: QUANTITY,
  ETHUSDT: 0.01,
  SOLUSDT: 1,
  XRPUSDT: 10,
  DOGEUSDT: 50,
};
const MAX_ADDS_PER_SYMBOL = 5;

interface Pipeline {
  env: BenchEnvironment;
  sim: Simulator;
  ingress: Ingress;
  risk: ManagedProcess;
  workers: ManagedProcess[];
  memory: MemoryBook;
  log: (msg: string) => void;
}

async function createSimAccounts(sim: Simulator, accounts: BenchAccount[]): Promise<void> {
  for (const a of accounts) {
    await sim.control('POST', '/_sim/accounts', {
      exchange: EXCHANGE,
      api_key: a.apiKey,
      api_secret: a.apiSecret,
      balance: 100_000,
    });
  }
}

async function addAccounts(
  p: Pipeline,
  count: number,
  tag: string,
  settings: { allowAdd?: boolean } = {},
): Promise<BenchAccount[]> {
  const accounts = benchAccounts(count, tag);
  await seedAccounts(p.env, EXCHANGE, accounts, settings);
  await createSimAccounts(p.sim, accounts);
  return accounts;
}

async function startWorkers(
  p: Pipeline,
  count: number,
  concurrency: number,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  for (let i = p.workers.length; i < count; i++) {
    p.workers.push(
      startWorkerProcess(p.env, {
        exchange: EXCHANGE,
        simulatorUrl: p.sim.url,
        name: `worker-${i + 1}`,
        extraEnv: {
          WORKER_CONCURRENCY: String(concurrency),
          EXCHANGE_RATE_LIMIT: exchangeRateLimit(),
          ...extraEnv,
        },
      }),
    );
  }
  for (const w of p.workers) await waitForQueueWorkers(p.env, `orders-${EXCHANGE}`, p.workers.length, w);
  // One row for "a worker process": the first one's memory stands for each.
  const first = p.workers[0];
  if (first) await p.memory.recordIdle('worker (each)', first.pid, 0);
}

async function stopWorkers(p: Pipeline): Promise<void> {
  await Promise.all(p.workers.map((w) => w.stop()));
  p.workers = [];
}

function bodies(
  p: Pipeline,
  accounts: BenchAccount[],
  runId: string,
  actions: string[],
  quantities: Record<string, number> = { [SYMBOL]: QUANTITY },
): BodySpec {
  return {
    exchange: EXCHANGE,
    accounts: accounts.map((a) => a.accountId),
    symbols: Object.keys(quantities),
    secret: p.env.webhookSecret,
    actions,
    quantity: quantities,
    runId,
  };
}

/** First request per account: a close with nothing open (a no-op) so every worker's account cache is warm. */
async function warmAccounts(p: Pipeline, accounts: BenchAccount[], runId: string): Promise<void> {
  const sent = await runPaced({
    url: p.ingress.webhookUrl,
    count: accounts.length,
    intervalMs: 5,
    bodies: bodies(p, accounts, runId, ['close_long']),
  });
  const n = accepted(sent, 'warm-up', []);
  await waitForStatuses(p.env, runId, n, TERMINAL, 60_000 + accounts.length * 200);
}

/**
 * How many alerts the ingress accepted (202); refusals and timeouts become a note rather than aborting the
 * benchmark, and the figures cover the accepted alerts. Throws only when none was accepted.
 */
function accepted(sent: SentRecord[], what: string, notes: string[]): number {
  const refused = sent.filter((r) => r.status !== 202);
  if (refused.length) {
    const kinds = new Map<string, number>();
    for (const r of refused) {
      const k = r.error ?? `HTTP ${r.status}`;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    const list = [...kinds.entries()].map(([k, n]) => `${n} × ${k}`).join(', ');
    notes.push(
      `${what}: ${refused.length} of ${sent.length} alerts were not accepted by the ingress (${list}).`,
    );
  }
  const n = sent.length - refused.length;
  if (n === 0) throw new Error(`${what}: no alert was accepted (${notes.at(-1) ?? ''})`);
  return n;
}

/** client order id → arrival time at the simulator (epoch ms). */
async function simArrivals(sim: Simulator): Promise<Map<string, number>> {
  const { orders } = await sim.control<{
    orders: Array<{ client_id: string | null; arrival_ms: number | null }>;
  }>('GET', `/_sim/orders?exchange=${EXCHANGE}`);
  const map = new Map<string, number>();
  for (const o of orders) if (o.client_id && o.arrival_ms !== null) map.set(o.client_id, o.arrival_ms);
  return map;
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? Number.NaN : a - b);

function statusesOf(rows: SignalTimeline[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

function failureNotes(rows: SignalTimeline[]): string[] {
  const reasons = new Map<string, number>();
  for (const r of rows) {
    if (r.status === 'executed') continue;
    const key = `${r.status}: ${r.reason ?? '(no reason)'}`.slice(0, 160);
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  return [...reasons.entries()].slice(0, 5).map(([k, n]) => `${n} × ${k}`);
}

/** One steady series: `count` alerts at `rate`/s over `accounts`, measured stage by stage. */
async function e2eSeries(
  p: Pipeline,
  accounts: BenchAccount[],
  rate: number,
  count: number,
  runId: string,
  notes: string[],
): Promise<E2eSeries> {
  const stopSampling = p.memory.sampleDuring(`end-to-end (${rate} alerts/s)`, processes(p));
  let sent: SentRecord[];
  const cpu = await meterPipelineCpu(p);
  let acceptedCount = 0;
  try {
    sent = await runPaced({
      url: p.ingress.webhookUrl,
      count,
      intervalMs: 1000 / rate,
      bodies: bodies(p, accounts, runId, ['long'], E2E_QUANTITIES),
    });
    acceptedCount = accepted(sent, `${rate} alerts/s`, notes);
    await waitForStatuses(p.env, runId, acceptedCount, TERMINAL, 60_000 + count * 200);
  } finally {
    stopSampling();
  }
  const cpuPerAlert = await cpu(acceptedCount);
  const rows = await readTimelines(p.env, runId);
  const arrivals = await simArrivals(p.sim);
  const matched = rows.filter((r) => r.clientOrderId !== null && arrivals.has(r.clientOrderId));
  const arrival = (r: SignalTimeline) => arrivals.get(r.clientOrderId as string) as number;
  notes.push(...failureNotes(rows).map((n) => `${rate} alerts/s: ${n}`));
  return {
    signals: rows.length,
    ordersMatched: matched.length,
    rate,
    total: summarise(matched.map((r) => arrival(r) - r.receivedAt)),
    stages: [
      {
        name: 'ingress → risk decided (received_at → risk_decided_at)',
        summary: summarise(matched.map((r) => diff(r.riskDecidedAt, r.receivedAt))),
      },
      {
        name: 'risk → worker start (→ exec_started_at)',
        summary: summarise(matched.map((r) => diff(r.execStartedAt, r.riskDecidedAt))),
      },
      {
        name: 'worker → order sent (→ orders.sent_at)',
        summary: summarise(matched.map((r) => diff(r.sentAt, r.execStartedAt))),
      },
      {
        name: 'order sent → arrival at simulator',
        summary: summarise(matched.map((r) => arrival(r) - (r.sentAt ?? Number.NaN))),
      },
      {
        name: 'signal completed (received_at → completed_at)',
        summary: summarise(matched.map((r) => diff(r.completedAt, r.receivedAt))),
      },
    ],
    ack: summarise(sent.map((r) => r.ackMs)),
    statuses: statusesOf(rows),
    cpuPerAlert,
  };
}

async function runE2e(p: Pipeline, sizes: Sizes): Promise<Outcome<StageFigures>> {
  const command = 'BENCH_ONLY=e2e pnpm bench';
  // Accounts with one symbol each, every alert a `long` that adds to the position (allow_add on): each alert
  // is one entry order whatever order two alerts of one account arrive in. (Alternating long/close_long
  // turned alerts 1 s apart into no-ops whenever an overloaded ingress received them out of order.)
  const accounts = await addAccounts(p, sizes.e2eAccounts, 'e2e', { allowAdd: true });
  const keys = accounts.length * Object.keys(E2E_QUANTITIES).length;
  const addsPerKey = Math.ceil(sizes.e2eLightCount / keys) + Math.ceil(sizes.e2eCount / keys);
  if (addsPerKey > MAX_ADDS_PER_SYMBOL)
    throw new Error(
      `e2e: up to ${addsPerKey} entries per (account, symbol) would exceed Binance's 10 open stop orders per symbol; lower BENCH_SCALE`,
    );
  await startWorkers(p, 2, sizesWorkerConcurrency());
  p.log(`e2e: 2 workers started; warming ${accounts.length} accounts`);
  await warmAccounts(p, accounts, `${p.env.runId}-e2ew-`);
  const notes: string[] = [];
  // First a light load that builds no backlog: the pipeline's own latency.
  p.log(`e2e: ${sizes.e2eLightCount} alerts at ${sizes.e2eLightRate}/s`);
  const light = await e2eSeries(
    p,
    accounts,
    sizes.e2eLightRate,
    sizes.e2eLightCount,
    `${p.env.runId}-e2el-`,
    notes,
  );
  p.log(`e2e: ${sizes.e2eCount} alerts at ${sizes.e2eRate}/s`);
  const steady = await e2eSeries(p, accounts, sizes.e2eRate, sizes.e2eCount, `${p.env.runId}-e2e-`, notes);
  return {
    status: 'measured',
    command,
    notes: [
      `Every alert is a \`long\` on one of ${Object.keys(E2E_QUANTITIES).join(', ')} (round-robin, at most ${addsPerKey} entries per symbol: Binance holds 10 open stop orders per symbol) for one of ${accounts.length} accounts (allow_add on, ATR SL/TP on as by default); WORKER_CONCURRENCY=${sizesWorkerConcurrency()}, EXCHANGE_RATE_LIMIT=${exchangeRateLimit()} (ccxt throttle; BENCH_EXCHANGE_RATE_LIMIT=true to turn on); LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'info'}.`,
      ...notes,
    ],
    workers: p.workers.length,
    ...steady,
    light,
  };
}

/**
 * The workers' request budget: off by default, with the simulator's rate limits off too (bench/lib/pipeline.ts);
 * BENCH_EXCHANGE_RATE_LIMIT=true measures with the real-exchange setting against the real limits.
 */
function exchangeRateLimit(): string {
  return process.env.BENCH_EXCHANGE_RATE_LIMIT === 'true' ? 'true' : 'false';
}

function sizesWorkerConcurrency(): number {
  return Number(process.env.BENCH_WORKER_CONCURRENCY ?? 8);
}

async function runScaling(p: Pipeline, sizes: Sizes): Promise<Outcome<ScalingFigures>> {
  const command = 'BENCH_ONLY=scaling pnpm bench';
  const latencyMs = 100;
  const concurrency = sizesWorkerConcurrency();
  await p.sim.control('POST', '/_sim/latency', { ms: latencyMs });
  const connection = new Redis(p.env.redisUrl, { maxRetriesPerRequest: null });
  const orders = new Queue(`orders-${EXCHANGE}`, { connection, prefix: p.env.queuePrefix });
  const points: ScalingFigures['points'] = [];
  const notes: string[] = [];
  try {
    for (const n of sizes.workerCounts) {
      await stopWorkers(p);
      // Fresh accounts per point (one alert each: no ordering gate between them, no open position).
      const accounts = await addAccounts(p, sizes.scalingSignals, `sc${n}`);
      const runId = `${p.env.runId}-sc${n}-`;
      // Queue paused while risk fills it and the workers start, so all N begin together.
      await orders.pause();
      const sent = await runPaced({
        url: p.ingress.webhookUrl,
        count: accounts.length,
        intervalMs: 2,
        bodies: bodies(p, accounts, runId, ['long']),
      });
      const m = accepted(sent, `${n} worker(s)`, notes);
      await waitForStatuses(p.env, runId, m, ['approved', ...TERMINAL], 120_000);
      // No account pre-warm here: every replica would prepare every account of every earlier point
      // (hundreds of ccxt clients) while the timed queue drains, which measures start-up, not scaling.
      await startWorkers(p, n, concurrency, { ACCOUNT_PREWARM_CONCURRENCY: '0' });
      p.log(`scaling: ${n} worker(s), ${accounts.length} signals`);
      const cpu = await meterPipelineCpu(p);
      await orders.resume();
      const stopSampling = p.memory.sampleDuring(
        `worker scaling (${n} workers, 100 ms exchange latency)`,
        processes(p),
      );
      try {
        await waitForStatuses(p.env, runId, m, TERMINAL, 120_000 + accounts.length * 2_000);
      } finally {
        stopSampling();
      }
      const cpuPerAlert = await cpu(m);
      const rows = await readTimelines(p.env, runId);
      const first = Math.min(...rows.map((r) => r.execStartedAt ?? Number.POSITIVE_INFINITY));
      const last = Math.max(...rows.map((r) => r.completedAt ?? 0));
      const seconds = (last - first) / 1000;
      const signalsPerSecond = rows.length / seconds;
      // Per-worker throughput of the first (smallest) point is the reference.
      const perWorker = points[0] ? points[0].signalsPerSecond / points[0].workers : signalsPerSecond / n;
      points.push({
        workers: n,
        seconds,
        signalsPerSecond,
        efficiency: signalsPerSecond / (n * perWorker),
        statuses: statusesOf(rows),
        cpuPerAlert,
      });
      notes.push(...failureNotes(rows).map((x) => `${n} worker(s): ${x}`));
    }
  } finally {
    await orders.resume().catch(() => undefined);
    await orders.close();
    connection.disconnect();
    await p.sim.control('POST', '/_sim/latency', { ms: 0 });
  }
  return {
    status: 'measured',
    command,
    notes: [
      'Every point starts cold workers on fresh accounts: each account’s first job also loads its ccxt client (markets, position mode) through the 100 ms simulator.',
      'Account pre-warm is off in this scenario (ACCOUNT_PREWARM_CONCURRENCY=0): with it, every replica prepares every account of all earlier points (hundreds of ccxt clients, ≈ 30 ms CPU each) while the timed queue drains — on 2 cores that start-up cost, which grows with replicas × accounts, dominated the figures (31 % efficiency at 4 workers in the run that had it on).',
      ...notes,
    ],
    latencyMs,
    concurrency,
    signals: sizes.scalingSignals,
    points,
  };
}

async function runBurst(p: Pipeline, sizes: Sizes): Promise<Outcome<BurstFigures>> {
  const command = 'BENCH_ONLY=burst pnpm bench';
  await startWorkers(p, 2, sizesWorkerConcurrency());
  const accounts = await addAccounts(p, sizes.burstSignals, 'burst');
  await warmAccounts(p, accounts, `${p.env.runId}-bw-`);
  const runId = `${p.env.runId}-burst-`;
  p.log(`burst: ${accounts.length} alerts for ${accounts.length} accounts within one second`);
  const stopSampling = p.memory.sampleDuring(`burst (${accounts.length} alerts in 1 s)`, processes(p));
  let sent: SentRecord[];
  const notes: string[] = [];
  const cpu = await meterPipelineCpu(p);
  let acceptedCount = 0;
  try {
    sent = await runPaced({
      url: p.ingress.webhookUrl,
      count: accounts.length,
      intervalMs: 1000 / accounts.length,
      bodies: bodies(p, accounts, runId, ['long']),
    });
    acceptedCount = accepted(sent, 'burst', notes);
    await waitForStatuses(p.env, runId, acceptedCount, TERMINAL, 120_000);
  } finally {
    stopSampling();
  }
  const cpuPerAlert = await cpu(acceptedCount);
  const rows = await readTimelines(p.env, runId);
  const arrivals = await simArrivals(p.sim);
  const matched = rows.filter((r) => r.clientOrderId !== null && arrivals.has(r.clientOrderId));
  const arrival = (r: SignalTimeline) => arrivals.get(r.clientOrderId as string) as number;
  const firstSent = Math.min(...sent.map((r) => r.sentAt));
  const lastSent = Math.max(...sent.map((r) => r.sentAt));
  return {
    status: 'measured',
    command,
    notes: [...notes, ...failureNotes(rows)],
    signals: accounts.length,
    accounts: accounts.length,
    sendWindowMs: lastSent - firstSent,
    drainMs: matched.length ? Math.max(...matched.map(arrival)) - firstSent : Number.NaN,
    ordersArrived: matched.length,
    perSignal: summarise(matched.map((r) => arrival(r) - r.receivedAt)),
    statuses: statusesOf(rows),
    cpuPerAlert,
  };
}

/** CPU per alert of every pipeline process (workers summed) and of Redis, over one measured stretch. */
async function meterPipelineCpu(p: Pipeline): Promise<(alerts: number) => Promise<Record<string, number>>> {
  const stop = cpuMeter([
    { name: 'ingress', pid: p.ingress.process.pid },
    { name: 'risk', pid: p.risk.pid },
    ...p.workers.map((w) => ({ name: 'workers (all)', pid: w.pid })),
    { name: 'exchange-sim', pid: p.sim.process.pid },
  ]);
  const redisBefore = await redisCpuMs(p.env.redisUrl);
  return async (alerts) => {
    const used: Record<string, number> = {
      ...stop(),
      redis: (await redisCpuMs(p.env.redisUrl)) - redisBefore,
    };
    return Object.fromEntries(Object.entries(used).map(([k, v]) => [k, v / Math.max(1, alerts)]));
  };
}

function processes(p: Pipeline): Array<{ name: string; pid: number }> {
  return [
    { name: 'ingress', pid: p.ingress.process.pid },
    { name: 'risk', pid: p.risk.pid },
    ...p.workers.slice(0, 1).map((w) => ({ name: 'worker (each)', pid: w.pid })),
    { name: 'exchange-sim', pid: p.sim.process.pid },
  ];
}

export async function runPipelineScenarios(
  env: BenchEnvironment,
  sizes: Sizes,
  memory: MemoryBook,
  wanted: Wanted,
  log: (msg: string) => void,
): Promise<{ e2e: Outcome<StageFigures>; scaling: Outcome<ScalingFigures>; burst: Outcome<BurstFigures> }> {
  const commands = {
    e2e: 'BENCH_ONLY=e2e pnpm bench',
    scaling: 'BENCH_ONLY=scaling pnpm bench',
    burst: 'BENCH_ONLY=burst pnpm bench',
  };
  const notRun = (reason: string) => ({
    e2e: { status: 'not-measured' as const, command: commands.e2e, reason },
    scaling: { status: 'not-measured' as const, command: commands.scaling, reason },
    burst: { status: 'not-measured' as const, command: commands.burst, reason },
  });
  const missing = [
    'services/risk/src/main.ts',
    'services/worker/src/main.ts',
    'packages/exchange-sim/src/main.ts',
  ].filter((f) => !existsSync(path.join(REPO_ROOT, f)));
  if (missing.length) return notRun(`not available in this checkout: ${missing.join(', ')}`);

  const skipped = (k: keyof typeof commands) => ({
    status: 'not-measured' as const,
    command: commands[k],
    reason: 'not selected in this run (BENCH_ONLY)',
  });
  const failed = (k: keyof typeof commands, err: unknown) => {
    log(`${k} failed: ${(err as Error).message}`);
    return {
      status: 'not-measured' as const,
      command: commands[k],
      reason: `failed: ${(err as Error).message.split('\n').slice(0, 4).join(' ')}`,
    };
  };

  const sim = await startSimulatorProcess();
  await memory.recordIdle('exchange-sim', sim.process.pid, 0);
  let p: Pipeline | undefined;
  try {
    const [ingressStart, riskStart] = await Promise.allSettled([startIngress(env), startRisk(env)]);
    if (ingressStart.status === 'rejected' || riskStart.status === 'rejected') {
      if (ingressStart.status === 'fulfilled') await ingressStart.value.process.stop();
      if (riskStart.status === 'fulfilled') await riskStart.value.stop();
      throw ingressStart.status === 'rejected'
        ? ingressStart.reason
        : (riskStart as PromiseRejectedResult).reason;
    }
    const ingress = ingressStart.value;
    const risk = riskStart.value;
    log('pipeline: simulator, ingress and risk started');
    const pipeline: Pipeline = { env, sim, ingress, risk, workers: [], memory, log };
    p = pipeline;
    await memory.recordIdle('ingress', ingress.process.pid);
    await memory.recordIdle('risk', risk.pid);

    // A scenario that throws is reported as failed; the others still run.
    const run = async <T>(k: keyof typeof commands, go: () => Promise<Outcome<T>>): Promise<Outcome<T>> => {
      try {
        return await go();
      } catch (err) {
        return failed(k, err);
      }
    };
    // The memory figures come from the end-to-end run, so it runs for either.
    let e2e: Outcome<StageFigures> = skipped('e2e');
    if (wanted.has('e2e') || wanted.has('memory')) {
      e2e = await run('e2e', () => runE2e(pipeline, sizes));
      if (!wanted.has('e2e') && e2e.status === 'measured') e2e = skipped('e2e');
    }
    const burst: Outcome<BurstFigures> = wanted.has('burst')
      ? await run('burst', () => runBurst(pipeline, sizes))
      : skipped('burst');
    const scaling: Outcome<ScalingFigures> = wanted.has('scaling')
      ? await run('scaling', () => runScaling(pipeline, sizes))
      : skipped('scaling');
    return { e2e, scaling, burst };
  } finally {
    if (p) {
      await stopWorkers(p);
      await p.risk.stop();
      await p.ingress.process.stop();
    }
    await sim.process.stop();
  }
}
