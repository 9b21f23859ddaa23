import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { testDatabaseName } from '../support/index.ts';

/**
 * `pnpm bench:wire` at a tiny size (Binance, 2 rounds, a burst of 5), so the wire benchmark cannot rot: it
 * must run end to end against the real services and produce every figure and report section. Speed is
 * measured by the benchmark, never asserted here.
 */
const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const outDir = mkdtempSync(path.join(os.tmpdir(), 'tradehook-wire-smoke-'));

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

interface WireResults {
  rounds: number;
  targets: Array<{ target: string; measured: string; met: boolean }>;
  series: Array<{ name: string; ms: { n: number; p50: number } }>;
  bursts: Array<{
    alerts: number;
    lastAlertToLastEntryMs: number;
    entry: { p50: number; p99: number };
    rateLimited: number;
  }>;
  cpu: Array<{ alerts: number; servicesPerAlertMs: number; perAlertMs: Record<string, number> }>;
}

describe('pnpm bench:wire (smoke size)', () => {
  it('measures latency, burst and CPU per alert and writes the report', { timeout: 120_000 }, async () => {
    const md = path.join(outDir, 'wire.md');
    const json = path.join(outDir, 'wire.json');
    await run(process.execPath, ['--import', 'tsx', 'bench/wire.ts'], {
      cwd: root,
      env: {
        ...process.env,
        WIRE_ROUNDS: '2',
        WIRE_BURST: '5',
        WIRE_FRESH: '1',
        WIRE_VENUES: 'binance',
        WIRE_OUT: json,
        WIRE_MD: md,
        BENCH_DB_PREFIX: `${testDatabaseName('wire')}_`,
      },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 110_000,
    });
    const r = JSON.parse(readFileSync(json, 'utf8')) as WireResults;
    expect(r.rounds).toBe(2);
    expect(r.series.length).toBe(7); // six binance rows and the baseline
    for (const s of r.series) {
      expect(s.ms.n).toBeGreaterThan(0);
      expect(finite(s.ms.p50)).toBe(true);
    }
    expect(r.bursts).toHaveLength(1);
    expect(r.bursts[0]!.alerts).toBe(5);
    expect(finite(r.bursts[0]!.lastAlertToLastEntryMs)).toBe(true);
    expect(finite(r.bursts[0]!.entry.p99)).toBe(true);
    expect(Number.isInteger(r.bursts[0]!.rateLimited)).toBe(true);
    expect(r.cpu).toHaveLength(1);
    expect(finite(r.cpu[0]!.servicesPerAlertMs)).toBe(true);
    expect(Object.keys(r.cpu[0]!.perAlertMs)).toEqual(
      expect.arrayContaining(['ingress', 'risk', 'worker-binance', 'exchange-sim']),
    );
    expect(r.targets.length).toBeGreaterThanOrEqual(8);
    for (const t of r.targets) expect(typeof t.met).toBe('boolean');

    const report = readFileSync(md, 'utf8');
    for (const heading of ['## Targets', '## One alert at a time', '## Burst', '## CPU per alert']) {
      expect(report).toContain(heading);
    }
    expect(report).toMatch(/\| (met|\*\*missed\*\*) \|/);
    expect(report).toContain('pnpm bench:wire');
    expect(report).not.toMatch(/bench-secret-|bench-admin-/);
  });
});
