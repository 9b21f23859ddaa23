/**
 * Run sizes. BENCH_SCALE multiplies durations and counts (1 = the full `pnpm bench`, ~10 minutes on the
 * reference machine; the smoke test uses a tiny scale). Every size has a floor so a tiny run still
 * produces every figure.
 */
export interface Sizes {
  scale: number;
  /** Seconds per autocannon run. */
  loadSeconds: number;
  /** Baseline/ingress alternations for the ceiling ratio (median taken). */
  ceilingRounds: number;
  connections: number;
  /** Steady end-to-end run: rate and duration. */
  e2eRate: number;
  /** Alerts in the steady run (rate × 20 s at full scale). */
  e2eCount: number;
  /** A light series before it (no backlog): the pipeline's own latency. */
  e2eLightRate: number;
  e2eLightCount: number;
  /** Accounts the steady run spreads over (one symbol each). */
  e2eAccounts: number;
  /** Signals queued per worker-scaling point. */
  scalingSignals: number;
  workerCounts: number[];
  burstSignals: number;
}

export function sizesFor(scale: number): Sizes {
  const s = (value: number, floor: number) => Math.max(floor, Math.round(value * scale));
  return {
    scale,
    loadSeconds: s(8, 1),
    ceilingRounds: scale >= 0.5 ? 3 : 1,
    connections: 32,
    e2eRate: 50,
    e2eCount: s(50 * 20, 20),
    e2eLightRate: 5,
    e2eLightCount: s(5 * 20, 5),
    // 50 accounts (one alert per account per second at 50/s); short runs keep ≥ 2 alerts per account.
    e2eAccounts: Math.min(50, Math.ceil(s(50 * 20, 20) / 2)),
    scalingSignals: s(400, 8),
    // A tiny (smoke) run skips the 4-process point: starting four workers is most of its time.
    workerCounts: scale < 0.1 ? [1, 2] : [1, 2, 4],
    burstSignals: s(100, 10),
  };
}
