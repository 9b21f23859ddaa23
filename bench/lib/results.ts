import type { MachineDescription } from './machine.ts';
import type { Summary } from './stats.ts';

/** Everything `pnpm bench` measured; rendered by report.ts and kept as JSON beside the report. */
export type Outcome<T> =
  | ({ status: 'measured'; command: string; notes: string[] } & T)
  | { status: 'not-measured'; command: string; reason: string };

export interface RunStats {
  rps: number;
  accepted: number;
  total: number;
  byStatus: Record<string, number>;
  errors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

/** CPU ms per accepted alert, per service (all processes of a service summed). */
export type CpuPerAlert = Record<string, number>;

export interface CeilingFigures {
  connections: number;
  secondsPerRun: number;
  rounds: number;
  baseline: RunStats[];
  ingress: RunStats[];
  /** Medians over the rounds. */
  baselineRps: number;
  ingressAcceptedRps: number;
  ratio: number;
  /** CPU ms per answered request during the saturation runs: ingress vs the bare app. */
  cpuPerRequest: CpuPerAlert;
}

export interface AckFigures {
  points: Array<{ label: string; targetRate: number | null; stats: RunStats }>;
}

/** One steady series of the end-to-end benchmark. */
export interface E2eSeries {
  signals: number;
  ordersMatched: number;
  rate: number;
  total: Summary;
  stages: Array<{ name: string; summary: Summary }>;
  ack: Summary;
  statuses: Record<string, number>;
  cpuPerAlert: CpuPerAlert;
}

/** The required 50 alerts/s series (its fields at the top level) plus a light series without backlog. */
export interface StageFigures extends E2eSeries {
  workers: number;
  light: E2eSeries;
}

export interface ScalingFigures {
  latencyMs: number;
  concurrency: number;
  signals: number;
  points: Array<{
    workers: number;
    seconds: number;
    signalsPerSecond: number;
    efficiency: number;
    statuses: Record<string, number>;
    cpuPerAlert: CpuPerAlert;
  }>;
}

export interface MemoryFigures {
  /** MiB per service. */
  services: Array<{ name: string; idleMiB: number | null; loadMiB: number | null; during: string }>;
}

export interface BurstFigures {
  signals: number;
  accounts: number;
  sendWindowMs: number;
  /** First request sent → last order arrival at the simulator. */
  drainMs: number;
  ordersArrived: number;
  perSignal: Summary;
  statuses: Record<string, number>;
  cpuPerAlert: CpuPerAlert;
}

export interface BenchResults {
  version: 1;
  scale: number;
  startedAt: string;
  finishedAt: string;
  totalSeconds: number;
  command: string;
  machine: MachineDescription;
  loadAverageAtEnd: number[];
  ceiling: Outcome<CeilingFigures>;
  ack: Outcome<AckFigures>;
  e2e: Outcome<StageFigures>;
  scaling: Outcome<ScalingFigures>;
  memory: Outcome<MemoryFigures>;
  burst: Outcome<BurstFigures>;
}

export type ScenarioKey = 'ceiling' | 'ack' | 'e2e' | 'scaling' | 'memory' | 'burst';
export const SCENARIOS: ScenarioKey[] = ['ceiling', 'ack', 'e2e', 'scaling', 'memory', 'burst'];
