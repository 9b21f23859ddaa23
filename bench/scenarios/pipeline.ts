import type { BenchEnvironment } from '../lib/environment.ts';
import type { MemoryBook } from '../lib/memory-book.ts';
import type { BurstFigures, Outcome, ScalingFigures, StageFigures } from '../lib/results.ts';
import type { Sizes } from '../lib/scale.ts';

export async function runPipelineScenarios(
  _env: BenchEnvironment,
  _sizes: Sizes,
  _memory: MemoryBook,
  _wanted: Set<'e2e' | 'scaling' | 'burst' | 'memory'>,
  _log: (msg: string) => void,
): Promise<{ e2e: Outcome<StageFigures>; scaling: Outcome<ScalingFigures>; burst: Outcome<BurstFigures> }> {
  const reason = 'risk and worker services not available yet';
  return {
    e2e: { status: 'not-measured', command: 'BENCH_ONLY=e2e pnpm bench', reason },
    scaling: { status: 'not-measured', command: 'BENCH_ONLY=scaling pnpm bench', reason },
    burst: { status: 'not-measured', command: 'BENCH_ONLY=burst pnpm bench', reason },
  };
}
