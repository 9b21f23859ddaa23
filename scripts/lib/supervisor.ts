/**
 * The one process supervisor of `pnpm start` (scripts/start-all.ts), the benchmarks (bench/lib) and the
 * end-to-end tests (tests/e2e/harness.ts): services run as their own OS processes, `node --import tsx
 * <entry>` as in the compose commands (one process: the `tsx` CLI would add a wrapper and hide the real
 * RSS). Readiness comes from each service's HTTP endpoint, never from its log text: the ingress health
 * route, and for risk and the workers the metrics server they open on METRICS_PORT once started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export type Env = Record<string, string | undefined>;

export interface ProcessSpec {
  name: string;
  /** A .ts entry point relative to the repo root. */
  entry: string;
  args?: string[];
  /** The child's whole environment. */
  env: Env;
  /** Node flags before `--import tsx` (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export interface OutputOptions {
  /** Every output line (stdout and stderr), without its newline. */
  onLine?: (line: string) => void;
  /** Every output chunk as it arrives (log files). */
  onChunk?: (chunk: Buffer) => void;
  /** How much of the latest output output() keeps (default 64 000 characters). */
  keepChars?: number;
}

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (1 when ended by a signal). */
  readonly exit: Promise<number>;
  exited(): boolean;
  /** The latest output, for error messages and tests. */
  output(): string;
  /** `signal` (SIGTERM), then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
}

// Whatever happens to the parent, it must not leave services running.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function spawnService(spec: ProcessSpec, out: OutputOptions = {}): ServiceProcess {
  const child = spawn(
    process.execPath,
    [...(spec.nodeArgs ?? []), '--import', 'tsx', spec.entry, ...(spec.args ?? [])],
    { cwd: REPO_ROOT, env: spec.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) throw new Error(`could not start ${spec.name}`);
  live.add(child);
  const keep = out.keepChars ?? 64_000;
  let buffer = '';
  let code: number | undefined;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    stream.on('data', (chunk: Buffer) => {
      out.onChunk?.(chunk);
      buffer += chunk.toString();
      if (buffer.length > keep) buffer = keep > 0 ? buffer.slice(-keep) : '';
    });
    if (out.onLine) createInterface({ input: stream }).on('line', out.onLine);
  }
  const exit = new Promise<number>((resolve) =>
    child.once('exit', (exitCode, signal) => {
      code = exitCode ?? (signal ? 1 : 0);
      live.delete(child);
      resolve(code);
    }),
  );
  return {
    name: spec.name,
    child,
    pid: child.pid,
    exit,
    exited: () => code !== undefined,
    output: () => buffer,
    async stop(signal = 'SIGTERM', graceMs = 8_000) {
      if (code !== undefined) return code;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exit;
      clearTimeout(killer);
      return result;
    },
  };
}

/** A port free right now on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Fail at once, with its output, when this process exits meanwhile. */
  process?: ServiceProcess;
  /** Give up (reject) once this returns true, e.g. when a stop was requested. */
  cancelled?: () => boolean;
}

/** Polls `check` until it returns true; a throwing check counts as false. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const tail = () =>
    options.process
      ? `\n--- ${options.process.name} output ---\n${options.process.output().slice(-3000)}`
      : '';
  for (;;) {
    if (options.cancelled?.()) throw new Error(`stopped while waiting for ${what}`);
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (options.process?.exited())
      throw new Error(`${options.process.name} exited while waiting for ${what}${tail()}`);
    if (Date.now() > deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${tail()}`);
    await sleep(options.intervalMs ?? 100);
  }
}

/** Waits until `url` answers with a status `accept` takes (default: 200–299). */
export async function waitForHttp(
  url: string,
  options: WaitOptions & { accept?: (status: number) => boolean },
): Promise<void> {
  const accept = options.accept ?? ((status: number) => status >= 200 && status < 300);
  await waitUntil(
    `${url} to answer`,
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return accept(res.status);
    },
    options,
  );
}

/** Where a service says it is ready: the ingress health route; risk's and a worker's metrics server. */
export function readinessUrl(role: 'ingress' | 'risk' | 'worker', port: number): string {
  return role === 'ingress'
    ? `http://127.0.0.1:${port}/api/v1/webhook/health`
    : `http://127.0.0.1:${port}/metrics`;
}

export interface RestartPolicy {
  /** Wait before the first restart; doubles up to maxMs. */
  firstMs: number;
  maxMs: number;
  /** A run at least this long resets the wait to firstMs. */
  resetAfterMs: number;
}

export interface KeptService {
  /** The process of the current run. */
  current(): ServiceProcess;
  /**
   * Ends the service: SIGTERM to the current run (SIGKILL after graceMs), no more restarts. Resolves with that
   * run's exit code, or 0 when the stop came while waiting to restart.
   */
  stop(graceMs: number): Promise<number>;
  /** Resolves as stop() does, once stopped. */
  readonly finished: Promise<number>;
}

/**
 * Keeps a service running like compose's restart policy: a run that ends without stop() is started again
 * after a backoff (reported through onRestart), so one crash cannot take a whole stack down.
 */
export function keepRunning(
  spec: ProcessSpec,
  out: OutputOptions,
  policy: RestartPolicy,
  onRestart: (code: number, waitMs: number) => void,
): KeptService {
  let run = spawnService(spec, out);
  let stopping = false;
  let wake: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (wake = resolve));
  const finished = (async () => {
    let wait = policy.firstMs;
    for (;;) {
      const startedAt = Date.now();
      const code = await run.exit;
      if (stopping) return code;
      if (Date.now() - startedAt >= policy.resetAfterMs) wait = policy.firstMs;
      onRestart(code, wait);
      await Promise.race([sleep(wait), stopRequested]);
      if (stopping) return 0;
      wait = Math.min(wait * 2, policy.maxMs);
      run = spawnService(spec, out);
    }
  })();
  return {
    current: () => run,
    finished,
    async stop(graceMs) {
      if (!stopping) {
        stopping = true;
        wake();
        void run.stop('SIGTERM', graceMs);
      }
      return finished;
    },
  };
}
