import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBenchEnvironment, type BenchEnvironment } from './lib/environment.ts';
import { describeMachine } from './lib/machine.ts';
import { MemoryBook } from './lib/memory-book.ts';
import { logRoot } from './lib/pipeline.ts';
import { REPO_ROOT } from './lib/processes.ts';
import { renderReport } from './lib/report.ts';
import { SCENARIOS, type BenchResults, type Outcome, type ScenarioKey } from './lib/results.ts';
import { sizesFor } from './lib/scale.ts';
import { writeFormattedJson } from './lib/write-json.ts';
import { runIngressScenarios } from './scenarios/ingress.ts';
import { runPipelineScenarios } from './scenarios/pipeline.ts';

/**
 * `pnpm bench`: every benchmark of issue 8 against real Postgres, Redis and the exchange simulator, each
 * service in its own process; writes BENCHMARKS.md and bench/results.json.
 *
 * Env: BENCH_SCALE (default 1), BENCH_ONLY (comma list of ceiling,ack,e2e,scaling,memory,burst),
 * BENCH_OUT (report path, default BENCHMARKS.md), BENCH_JSON (default bench/results.json),
 * BENCH_KEEP=1 (keep the database and Redis keys), BENCH_LOG_LEVEL (services' LOG_LEVEL, default info),
 * BENCH_WORKER_CONCURRENCY (default 8), BENCH_EXCHANGE_RATE_LIMIT=true (ccxt throttle on), BENCH_CPU_PROF_DIR
 * (V8 CPU profiles of every service), BENCH_PG_ADMIN_URL / BENCH_REDIS_URL, BENCH_DB_PREFIX, BENCH_WIRE=1 (then
 * also `pnpm bench:wire`, bench/wire.ts: the production-default latency, burst and CPU figures in bench/wire.md).
 */
const scale = Number(process.env.BENCH_SCALE ?? 1);
if (!Number.isFinite(scale) || scale <= 0) throw new Error('BENCH_SCALE must be a positive number');
const only = new Set(
  (process.env.BENCH_ONLY ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const name of only) {
  if (!SCENARIOS.includes(name as ScenarioKey)) throw new Error(`BENCH_ONLY: unknown benchmark "${name}"`);
}
const outFile = path.resolve(REPO_ROOT, process.env.BENCH_OUT ?? 'BENCHMARKS.md');
const jsonFile = path.resolve(REPO_ROOT, process.env.BENCH_JSON ?? 'bench/results.json');

const skipped = (command: string): Outcome<never> => ({
  status: 'not-measured',
  command,
  reason: 'not selected in this run (BENCH_ONLY)',
});
const failed = (command: string, err: unknown): Outcome<never> => ({
  status: 'not-measured',
  command,
  reason: `failed: ${err instanceof Error ? err.message.split('\n').slice(0, 6).join(' ') : String(err)}`,
});

const started = Date.now();
const sizes = sizesFor(scale);
const memory = new MemoryBook();
let env: BenchEnvironment | undefined;
const results: Partial<BenchResults> = {
  version: 1,
  scale,
  startedAt: new Date(started).toISOString(),
  command: `BENCH_SCALE=${scale} pnpm bench`,
};
const log = (msg: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}`);

try {
  env = await createBenchEnvironment();
  results.machine = await describeMachine(env.databaseUrl, env.redisUrl);
  log(`database ${env.databaseName}, queue prefix ${env.queuePrefix}, service logs in ${logRoot}`);

  const wantIngress = only.has('ceiling') || only.has('ack') || only.has('memory');
  if (wantIngress) {
    log('ingress: ceiling ratio and ack latency');
    try {
      const r = await runIngressScenarios(env, sizes, memory);
      results.ceiling = only.has('ceiling') ? r.ceiling : skipped('BENCH_ONLY=ceiling pnpm bench');
      results.ack = only.has('ack') ? r.ack : skipped('BENCH_ONLY=ack pnpm bench');
    } catch (err) {
      log(`ingress scenarios failed: ${String(err)}`);
      results.ceiling = failed('BENCH_ONLY=ceiling pnpm bench', err);
      results.ack = failed('BENCH_ONLY=ack pnpm bench', err);
    }
  }

  const pipelineWanted = (['e2e', 'scaling', 'burst', 'memory'] as const).filter((k) => only.has(k));
  if (pipelineWanted.length) {
    log(`pipeline: ${pipelineWanted.join(', ')}`);
    try {
      const r = await runPipelineScenarios(env, sizes, memory, new Set(pipelineWanted), log);
      results.e2e = r.e2e;
      results.scaling = r.scaling;
      results.burst = r.burst;
    } catch (err) {
      log(`pipeline failed: ${String(err)}`);
      results.e2e = failed('BENCH_ONLY=e2e pnpm bench', err);
      results.scaling = failed('BENCH_ONLY=scaling pnpm bench', err);
      results.burst = failed('BENCH_ONLY=burst pnpm bench', err);
    }
  }

  const memoryRows = memory.entries();
  results.memory = !only.has('memory')
    ? skipped('BENCH_ONLY=memory pnpm bench')
    : memoryRows.length
      ? { status: 'measured', command: 'BENCH_ONLY=memory pnpm bench', notes: [], services: memoryRows }
      : {
          status: 'not-measured',
          command: 'BENCH_ONLY=memory pnpm bench',
          reason: 'no service could be started',
        };
} finally {
  await env?.dispose().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
}

results.ceiling ??= skipped('BENCH_ONLY=ceiling pnpm bench');
results.ack ??= skipped('BENCH_ONLY=ack pnpm bench');
results.e2e ??= skipped('BENCH_ONLY=e2e pnpm bench');
results.scaling ??= skipped('BENCH_ONLY=scaling pnpm bench');
results.burst ??= skipped('BENCH_ONLY=burst pnpm bench');
results.finishedAt = new Date().toISOString();
results.totalSeconds = Math.round((Date.now() - started) / 100) / 10;
results.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
const final = results as BenchResults;
await writeFormattedJson(jsonFile, final);
writeFileSync(outFile, renderReport(final));
log(`wrote ${path.relative(REPO_ROOT, outFile)} and ${path.relative(REPO_ROOT, jsonFile)}`);

if (process.env.BENCH_WIRE === '1') {
  log('pnpm bench:wire (bench/wire.ts)');
  execFileSync(process.execPath, ['--import', 'tsx', 'bench/wire.ts'], { cwd: REPO_ROOT, stdio: 'inherit' });
} else {
  log('wire latency, burst and CPU per alert with production defaults: pnpm bench:wire (bench/wire.md)');
}
