import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, spawnService, type ServiceProcess } from '../../scripts/lib/supervisor.ts';

export { REPO_ROOT };

/** A service or helper of the bench in its own OS process (scripts/lib/supervisor.ts), its output in a log file. */
export interface ManagedProcess extends ServiceProcess {
  logFile: string;
}

export interface StartOptions {
  name: string;
  /** A .ts entry point relative to the repo root. */
  entry: string;
  args?: string[];
  /** Added to this process's environment. */
  env: Record<string, string | undefined>;
  logDir: string;
}

// Ctrl-C on the bench: exit, which makes the supervisor kill what is still running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

export function startProcess(options: StartOptions): ManagedProcess {
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile);
  // BENCH_CPU_PROF_DIR=<dir>: every service writes a V8 CPU profile there when it exits (open in Chrome
  // DevTools or speedscope) — how the hot-path findings in bench/analysis.md were made.
  const profDir = process.env.BENCH_CPU_PROF_DIR;
  // One folder per service: the tsx loader thread writes a profile of its own beside the main thread's.
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, options.name)}`] : [];
  const proc = spawnService(
    {
      name: options.name,
      entry: options.entry,
      args: options.args,
      env: { ...process.env, ...options.env },
      nodeArgs: prof,
    },
    { onChunk: (chunk) => log.write(chunk) },
  );
  void proc.exit.then(() => log.end());
  return Object.assign(proc, { logFile });
}

/** Resident set size in KiB from /proc/<pid>/status, or undefined when the process is gone. */
export function readRssKiB(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** pid and every descendant (a process started through a wrapper such as the `tsx` CLI). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) comes after the parenthesised command name, which may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // raced with an exiting process
    }
  }
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}

/** Sum of VmRSS over a process and its descendants, in MiB. */
export function treeRssMiB(pid: number): number | undefined {
  let total = 0;
  let seen = false;
  for (const p of processTree(pid)) {
    const kib = readRssKiB(p);
    if (kib !== undefined) {
      total += kib;
      seen = true;
    }
  }
  return seen ? total / 1024 : undefined;
}

/** Samples the RSS of named processes while work runs; keeps the peak per name. */
export class RssSampler {
  private readonly peaks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly targets: () => Array<{ name: string; pid: number }>) {}

  sampleOnce(): Map<string, number> {
    const now = new Map<string, number>();
    for (const { name, pid } of this.targets()) {
      const rss = treeRssMiB(pid);
      if (rss === undefined) continue;
      now.set(name, rss);
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, rss));
    }
    return now;
  }

  start(intervalMs = 200): void {
    this.sampleOnce();
    this.timer = setInterval(() => this.sampleOnce(), intervalMs);
    this.timer.unref();
  }

  stop(): Map<string, number> {
    if (this.timer) clearInterval(this.timer);
    this.sampleOnce();
    return new Map(this.peaks);
  }
}

/** CPU time (user + system) used so far by a process and its descendants, in ms (from /proc/<pid>/stat). */
export function treeCpuMs(pid: number): number {
  const ticksPerSecond = 100; // USER_HZ: 100 on every Linux architecture Node runs on
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command name: state is field 3, utime 14, stime 15 (1-based over the whole line).
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return (ticks * 1000) / ticksPerSecond;
}

/**
 * CPU ms spent between this call and the returned function's call, summed per name (several processes may
 * share one, e.g. "worker"). CPU time, unlike latency, barely depends on what else runs on the machine.
 */
export function cpuMeter(targets: Array<{ name: string; pid: number }>): () => Record<string, number> {
  const before = new Map(targets.map((t) => [t.pid, treeCpuMs(t.pid)]));
  return () => {
    const out: Record<string, number> = {};
    for (const t of targets) out[t.name] = (out[t.name] ?? 0) + treeCpuMs(t.pid) - (before.get(t.pid) ?? 0);
    return out;
  };
}
