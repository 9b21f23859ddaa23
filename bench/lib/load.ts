import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BodySpec } from '../load/webhook-bodies.ts';
import type { SentRecord } from '../load/paced-sender.ts';
import { REPO_ROOT } from './processes.ts';

const run = promisify(execFile);
const specDir = mkdtempSync(path.join(os.tmpdir(), 'tradehook-bench-spec-'));
let specCounter = 0;

function writeSpec(spec: unknown): string {
  const file = path.join(specDir, `spec-${specCounter++}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

export interface CannonOptions {
  url: string;
  connections: number;
  durationSec?: number;
  amount?: number;
  overallRate?: number;
  bodies: BodySpec;
}

/** The fields of autocannon's result the report uses (latency in whole ms, as autocannon records it). */
export interface CannonResult {
  durationSec: number;
  total: number;
  byStatus: Record<string, number>;
  errors: number;
  timeouts: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Requests per second over the whole run, all statuses. */
  rps: number;
}

/** Runs autocannon (bench/load/cannon.ts) as a separate process. */
export async function runCannon(options: CannonOptions): Promise<CannonResult> {
  const file = writeSpec(options);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/load/cannon.ts', file], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`autocannon printed no result:\n${stdout.slice(-2000)}`);
  const raw = JSON.parse(line.slice('RESULT '.length)) as {
    duration: number;
    requests: { total: number; sent: number };
    statusCodeStats: Record<string, { count: number }>;
    errors: number;
    timeouts: number;
    latency: { p50: number; p90: number; p99: number; max: number; average: number };
  };
  const byStatus: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(raw.statusCodeStats ?? {})) byStatus[code] = count;
  const total = Object.values(byStatus).reduce((s, c) => s + c, 0);
  return {
    durationSec: raw.duration,
    total,
    byStatus,
    errors: raw.errors,
    timeouts: raw.timeouts,
    latency: {
      p50: raw.latency.p50,
      p90: raw.latency.p90,
      p99: raw.latency.p99,
      max: raw.latency.max,
      mean: raw.latency.average,
    },
    rps: total / raw.duration,
  };
}

export interface PacedOptions {
  url: string;
  count: number;
  intervalMs: number;
  bodies: BodySpec;
}

/** Runs the open-loop sender (bench/load/paced-sender.ts) as a separate process. */
export async function runPaced(options: PacedOptions): Promise<SentRecord[]> {
  const file = writeSpec(options);
  const out = `${file}.out.json`;
  await run(process.execPath, ['--import', 'tsx', 'bench/load/paced-sender.ts', file, out], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(readFileSync(out, 'utf8')) as SentRecord[];
}

export type { SentRecord };
