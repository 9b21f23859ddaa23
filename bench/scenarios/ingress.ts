import type { BenchEnvironment } from '../lib/environment.ts';
import { deleteRedisPrefix } from '../../tests/support/redis.ts';
import { benchAccounts, clearSignals, seedAccounts } from '../lib/environment.ts';
import { runCannon, type CannonResult } from '../lib/load.ts';
import type { MemoryBook } from '../lib/memory-book.ts';
import { redisCpuMs, startBaseline, startIngress } from '../lib/pipeline.ts';
import { cpuMeter } from '../lib/processes.ts';
import type { AckFigures, CeilingFigures, Outcome, RunStats } from '../lib/results.ts';
import type { Sizes } from '../lib/scale.ts';
import type { BodySpec } from '../load/webhook-bodies.ts';

/**
 * Benchmarks 1 and 2: the ingress alone (risk and workers stopped, so it has the machine to itself the way
 * the bare-Express ceiling does), against the real Postgres and Redis.
 */
function toStats(r: CannonResult, acceptedStatus: string): RunStats {
  const accepted = r.byStatus[acceptedStatus] ?? 0;
  return {
    rps: accepted / r.durationSec,
    accepted,
    total: r.total,
    byStatus: r.byStatus,
    errors: r.errors,
    latencyMs: r.latency,
  };
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : Number.NaN;
};

export async function runIngressScenarios(
  env: BenchEnvironment,
  sizes: Sizes,
  memory: MemoryBook,
): Promise<{ ceiling: Outcome<CeilingFigures>; ack: Outcome<AckFigures> }> {
  const ceilingCommand = 'BENCH_ONLY=ceiling pnpm bench';
  const ackCommand = 'BENCH_ONLY=ack pnpm bench';
  // Ten accounts × four symbols: forty sequence keys, as a handful of users with a few charts each.
  const accounts = benchAccounts(10, 'ing');
  await seedAccounts(env, 'binance', accounts);
  const bodies: BodySpec = {
    exchange: 'binance',
    accounts: accounts.map((a) => a.accountId),
    symbols: ['BTCUSDT', 'ETHUSDT.P', 'BINANCE:SOLUSDT.P', 'XRP/USDT:USDT'],
    secret: env.webhookSecret,
    actions: ['long', 'close_long'],
    quantity: { BTCUSDT: 0.002, 'ETHUSDT.P': 0.01, 'BINANCE:SOLUSDT.P': 1, 'XRP/USDT:USDT': 10 },
    runId: `${env.runId}-ing`,
  };
  // Started together to save time; a failure of one is raised after the other is stopped again.
  const [baselineStart, ingressStart] = await Promise.allSettled([
    startBaseline(),
    startIngress(env, 'ingress-alone', env.ingressOnlyQueuePrefix),
  ]);
  if (baselineStart.status === 'rejected' || ingressStart.status === 'rejected') {
    if (baselineStart.status === 'fulfilled') await baselineStart.value.process.stop();
    if (ingressStart.status === 'fulfilled') await ingressStart.value.process.stop();
    throw baselineStart.status === 'rejected'
      ? baselineStart.reason
      : (ingressStart as PromiseRejectedResult).reason;
  }
  const baseline = baselineStart.value;
  const ingress = ingressStart.value;
  await memory.recordIdle('ingress', ingress.process.pid);
  await memory.recordIdle('baseline-express', baseline.process.pid);
  try {
    // Warm-up: JIT, connection pools, prepared statements; not recorded.
    const warm = { connections: sizes.connections, durationSec: Math.min(2, sizes.loadSeconds) };
    await runCannon({
      url: baseline.webhookUrl,
      ...warm,
      bodies: { ...bodies, runId: `${bodies.runId}-wb` },
    });
    const warmIngress = await runCannon({
      url: ingress.webhookUrl,
      ...warm,
      bodies: { ...bodies, runId: `${bodies.runId}-wi` },
    });
    if ((warmIngress.byStatus['202'] ?? 0) === 0) {
      const reason = `ingress accepted nothing during warm-up (statuses ${JSON.stringify(warmIngress.byStatus)})`;
      return {
        ceiling: { status: 'not-measured', command: ceilingCommand, reason },
        ack: { status: 'not-measured', command: ackCommand, reason },
      };
    }

    // 1. Ceiling: alternate baseline and ingress runs so drifting background load hits both alike.
    const baselineRuns: RunStats[] = [];
    const ingressRuns: RunStats[] = [];
    const stopSampling = memory.sampleDuring('saturation (ceiling run)', [
      { name: 'ingress', pid: ingress.process.pid },
      { name: 'baseline-express', pid: baseline.process.pid },
    ]);
    const cpu = cpuMeter([
      { name: 'ingress', pid: ingress.process.pid },
      { name: 'bare Express', pid: baseline.process.pid },
    ]);
    const redisCpuBefore = await redisCpuMs(env.redisUrl);
    for (let round = 0; round < sizes.ceilingRounds; round++) {
      const run = { connections: sizes.connections, durationSec: sizes.loadSeconds };
      baselineRuns.push(
        toStats(
          await runCannon({
            url: baseline.webhookUrl,
            ...run,
            bodies: { ...bodies, runId: `${bodies.runId}-b${round}` },
          }),
          '200',
        ),
      );
      ingressRuns.push(
        toStats(
          await runCannon({
            url: ingress.webhookUrl,
            ...run,
            bodies: { ...bodies, runId: `${bodies.runId}-i${round}` },
          }),
          '202',
        ),
      );
    }
    stopSampling();
    const cpuUsed = cpu();
    const redisUsed = (await redisCpuMs(env.redisUrl)) - redisCpuBefore;
    const answered = (runs: RunStats[]) => runs.reduce((n, r) => n + r.total, 0);
    const ingressAnswered = answered(ingressRuns);
    const cpuPerRequest = {
      ingress: (cpuUsed['ingress'] ?? 0) / ingressAnswered,
      'bare Express': (cpuUsed['bare Express'] ?? 0) / answered(baselineRuns),
      // Redis serves only the ingress here (the baseline never touches it).
      'redis (for the ingress)': redisUsed / ingressAnswered,
    };
    const baselineRps = median(baselineRuns.map((r) => r.rps));
    const ingressAcceptedRps = median(ingressRuns.map((r) => r.rps));
    const ceiling: Outcome<CeilingFigures> = {
      status: 'measured',
      command: ceilingCommand,
      notes: [],
      connections: sizes.connections,
      secondsPerRun: sizes.loadSeconds,
      rounds: sizes.ceilingRounds,
      baseline: baselineRuns,
      ingress: ingressRuns,
      baselineRps,
      ingressAcceptedRps,
      ratio: ingressAcceptedRps / baselineRps,
      cpuPerRequest,
    };

    // 2. Ack latency at fixed offered rates (autocannon corrects for coordinated omission) and at saturation.
    const points: AckFigures['points'] = [];
    for (const rate of [200, 1000]) {
      const r = await runCannon({
        url: ingress.webhookUrl,
        connections: sizes.connections,
        durationSec: sizes.loadSeconds,
        overallRate: rate,
        bodies: { ...bodies, runId: `${bodies.runId}-r${rate}` },
      });
      points.push({ label: `${rate} req/s`, targetRate: rate, stats: toStats(r, '202') });
    }
    const saturated = ingressRuns[ingressRuns.length - 1] as RunStats;
    points.push({
      label: `saturation (${sizes.connections} connections)`,
      targetRate: null,
      stats: saturated,
    });
    return {
      ceiling,
      ack: { status: 'measured', command: ackCommand, notes: [], points },
    };
  } finally {
    await ingress.process.stop();
    await baseline.process.stop();
    // Its rows would otherwise sit in every later query of the pipeline benchmarks.
    await clearSignals(env);
    await deleteRedisPrefix(env.ingressOnlyQueuePrefix, env.redisUrl);
  }
}
