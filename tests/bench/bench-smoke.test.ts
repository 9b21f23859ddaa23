import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/lib/results.ts';
import { testDatabaseName } from '../support/index.ts';

/**
 * `pnpm bench` at a tiny size, so the benchmark code cannot rot: every benchmark must run end to end
 * against the real services and produce its figures and report sections. Never asserts on speed.
 */
const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const outDir = mkdtempSync(path.join(os.tmpdir(), 'tradehook-bench-smoke-'));

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

describe('pnpm bench (smoke size)', () => {
  // Alone it takes about 70 s; beside the suite's other multi-process tests on two cores, several times that.
  it('runs every benchmark and writes the report and the raw figures', { timeout: 480_000 }, async () => {
    const report = path.join(outDir, 'BENCHMARKS.md');
    const json = path.join(outDir, 'results.json');
    await run(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
      cwd: root,
      env: {
        ...process.env,
        BENCH_SCALE: '0.02',
        BENCH_OUT: report,
        BENCH_JSON: json,
        BENCH_LOG_LEVEL: 'warn',
        // With the run's id: a concurrent run's global setup leaves it alone, this run's teardown drops it.
        BENCH_DB_PREFIX: `${testDatabaseName('bench')}_`,
      },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 470_000,
    });
    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
    expect(results.version).toBe(1);
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.postgres).not.toBe('unknown');

    const reasons = (['ceiling', 'ack', 'e2e', 'scaling', 'memory', 'burst'] as const)
      .filter((k) => results[k].status !== 'measured')
      .map((k) => `${k}: ${(results[k] as { reason: string }).reason}`);
    expect(reasons).toEqual([]);

    if (results.ceiling.status !== 'measured') throw new Error('unreachable');
    expect(results.ceiling.ingressAcceptedRps).toBeGreaterThan(0);
    expect(results.ceiling.baselineRps).toBeGreaterThan(0);
    expect(finite(results.ceiling.ratio)).toBe(true);

    if (results.ack.status !== 'measured') throw new Error('unreachable');
    expect(results.ack.points.map((p) => p.targetRate)).toEqual([200, 1000, null]);
    for (const p of results.ack.points) expect(p.stats.accepted).toBeGreaterThan(0);

    if (results.e2e.status !== 'measured') throw new Error('unreachable');
    // The notes carry the final statuses and failure reasons: a failure here says why no order matched.
    const e2eWhy = JSON.stringify({ statuses: results.e2e.statuses, notes: results.e2e.notes });
    expect(results.e2e.ordersMatched, e2eWhy).toBeGreaterThan(0);
    expect(finite(results.e2e.total.p50) && finite(results.e2e.total.p99)).toBe(true);
    expect(results.e2e.stages.length).toBeGreaterThanOrEqual(4);
    for (const s of results.e2e.stages) expect(s.summary.n).toBeGreaterThan(0);
    expect(results.e2e.light.ordersMatched).toBeGreaterThan(0);
    expect(finite(results.e2e.light.total.p50)).toBe(true);

    if (results.scaling.status !== 'measured') throw new Error('unreachable');
    expect(results.scaling.points.map((p) => p.workers)).toEqual([1, 2]);
    for (const p of results.scaling.points) expect(p.signalsPerSecond).toBeGreaterThan(0);

    if (results.memory.status !== 'measured') throw new Error('unreachable');
    const names = results.memory.services.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['ingress', 'risk', 'worker (each)', 'exchange-sim']));
    for (const s of results.memory.services) expect(s.idleMiB).toBeGreaterThan(0);

    if (results.burst.status !== 'measured') throw new Error('unreachable');
    expect(results.burst.ordersArrived).toBe(results.burst.signals);
    expect(finite(results.burst.drainMs)).toBe(true);

    const md = readFileSync(report, 'utf8');
    for (const heading of [
      '## Targets',
      '## Machine',
      '## 1. Ingress ceiling ratio',
      '## 2. Ack latency',
      '## 3. End-to-end latency',
      '## 4. Worker scaling',
      '## 5. Memory',
      '## 6. Burst',
    ]) {
      expect(md).toContain(heading);
    }
    expect(md).not.toContain('Not measured');
    // Secrets of the run never reach the report.
    expect(md).not.toMatch(/bench-secret-|bench-admin-/);
  });
});
