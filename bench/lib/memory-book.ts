import { setTimeout as sleep } from 'node:timers/promises';
import { RssSampler, treeRssMiB } from './processes.ts';

/**
 * Resident memory per service: idle = shortly after start-up, before any load; load = the peak sampled
 * while a scenario drives it (the scenario named in `during`).
 */
export class MemoryBook {
  private readonly rows = new Map<
    string,
    { idleMiB: number | null; loadMiB: number | null; during: string }
  >();

  async recordIdle(name: string, pid: number, settleMs = 500): Promise<void> {
    await sleep(settleMs);
    const row = this.rows.get(name) ?? { idleMiB: null, loadMiB: null, during: '' };
    if (row.idleMiB === null) row.idleMiB = treeRssMiB(pid) ?? null;
    this.rows.set(name, row);
  }

  /** Starts sampling; call the returned function when the load ends. */
  sampleDuring(during: string, targets: Array<{ name: string; pid: number }>): () => void {
    const sampler = new RssSampler(() => targets);
    sampler.start(200);
    return () => {
      for (const [name, peak] of sampler.stop()) {
        const row = this.rows.get(name) ?? { idleMiB: null, loadMiB: null, during: '' };
        if (row.loadMiB === null || peak > row.loadMiB) {
          row.loadMiB = peak;
          row.during = during;
        }
        this.rows.set(name, row);
      }
    };
  }

  entries(): Array<{ name: string; idleMiB: number | null; loadMiB: number | null; during: string }> {
    return [...this.rows.entries()].map(([name, row]) => ({ name, ...row }));
  }
}
