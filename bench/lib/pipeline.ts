import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchEnvironment } from './environment.ts';
import { freePort, waitForHttp, waitUntil } from '../../scripts/lib/supervisor.ts';
import { startProcess, type ManagedProcess } from './processes.ts';

/**
 * Starts the real services as separate processes with the environment production would give them
 * (docker-compose.yml), pointed at the bench database, queue prefix and the simulator.
 */
export const logRoot = mkdtempSync(path.join(os.tmpdir(), 'tradehook-bench-logs-'));

function commonEnv(env: BenchEnvironment, logDir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: env.queuePrefix,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    LOG_DIR: logDir,
  };
}

export interface Ingress {
  process: ManagedProcess;
  url: string;
  webhookUrl: string;
}

export async function startIngress(
  env: BenchEnvironment,
  /** Names its log file (one per start, so a later run does not overwrite an earlier one). */
  name = 'ingress',
  queuePrefix = env.queuePrefix,
): Promise<Ingress> {
  const port = await freePort();
  const logDir = path.join(logRoot, name);
  const proc = startProcess({
    name,
    entry: 'services/ingress/src/main.ts',
    logDir: logRoot,
    env: {
      ...commonEnv(env, logDir),
      QUEUE_PREFIX: queuePrefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: env.adminToken,
      WEBHOOK_SECRET: env.webhookSecret,
      CREDENTIALS_PUBLIC_KEY: env.credentials.publicKey,
      // The bench is one client address sending thousands of alerts: the per-IP limit would answer 429.
      RATE_LIMIT_WEBHOOK_MAX: '0',
      RATE_LIMIT_ADMIN_MAX: '0',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/api/v1/webhook/health`, { timeoutMs: 30_000, process: proc });
  return { process: proc, url, webhookUrl: `${url}/api/v1/webhook/tradingview` };
}

export interface Baseline {
  process: ManagedProcess;
  webhookUrl: string;
}

export async function startBaseline(): Promise<Baseline> {
  const proc = startProcess({
    name: 'baseline-express',
    entry: 'bench/load/baseline-server.ts',
    logDir: logRoot,
    env: { PORT: '0' },
  });
  // The baseline server picks its own port and prints it: the one place output is read.
  await waitUntil('baseline to listen', () => /listening \d+/.test(proc.output()), {
    timeoutMs: 20_000,
    intervalMs: 50,
    process: proc,
  });
  const port = /listening (\d+)/.exec(proc.output())?.[1];
  return { process: proc, webhookUrl: `http://127.0.0.1:${port}/api/v1/webhook/tradingview` };
}

export interface Simulator {
  process: ManagedProcess;
  url: string;
  control<T = Record<string, unknown>>(method: string, route: string, body?: unknown): Promise<T>;
}

/** `walkMs`: the simulator's random walk of prices every `walkMs` (off by default: fixed prices). */
export async function startSimulatorProcess(opts: { walkMs?: number } = {}): Promise<Simulator> {
  const port = await freePort();
  const proc = startProcess({
    name: 'exchange-sim',
    entry: 'packages/exchange-sim/src/main.ts',
    logDir: logRoot,
    // The simulator enforces the exchanges' rate limits by default; the pipeline figures are measured without
    // them unless the workers' budget is on too (BENCH_EXCHANGE_RATE_LIMIT=true).
    env: {
      SIM_PORT: String(port),
      SIM_HOST: '127.0.0.1',
      SIM_RATE_LIMITS: process.env.BENCH_EXCHANGE_RATE_LIMIT === 'true' ? 'real' : 'off',
      ...(opts.walkMs ? { SIM_WALK_MS: String(opts.walkMs) } : {}),
      ...(process.env.SIM_LOG ? { SIM_LOG: process.env.SIM_LOG } : {}),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/_sim/health`, { timeoutMs: 30_000, process: proc });
  return {
    process: proc,
    url,
    async control<T>(method: string, route: string, body?: unknown): Promise<T> {
      const res = await fetch(`${url}${route}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as T & { ok?: boolean; error?: string };
      if (!res.ok) throw new Error(`simulator ${method} ${route}: ${res.status} ${json.error ?? ''}`);
      return json;
    },
  };
}

export async function startRisk(env: BenchEnvironment, name = 'risk'): Promise<ManagedProcess> {
  const proc = startProcess({
    name,
    entry: 'services/risk/src/main.ts',
    logDir: logRoot,
    env: { ...commonEnv(env, path.join(logRoot, name)) },
  });
  await waitForQueueWorkers(env, 'signals', 1, proc);
  return proc;
}

export interface WorkerOptions {
  exchange: 'binance' | 'okx';
  simulatorUrl: string;
  name: string;
  extraEnv?: Record<string, string>;
}

export function startWorkerProcess(env: BenchEnvironment, options: WorkerOptions): ManagedProcess {
  return startProcess({
    name: options.name,
    entry: 'services/worker/src/main.ts',
    logDir: logRoot,
    env: {
      ...commonEnv(env, path.join(logRoot, options.name)),
      EXCHANGE: options.exchange,
      CREDENTIALS_PRIVATE_KEY: env.credentials.privateKey,
      BINANCE_API_URL: options.simulatorUrl,
      OKX_API_URL: options.simulatorUrl,
      ...options.extraEnv,
    },
  });
}

/**
 * Ready = registered as a BullMQ worker on its queue (BullMQ names its connections, `Queue.getWorkersCount`
 * lists them): the same signal for every service, whatever it logs.
 */
export async function waitForQueueWorkers(
  env: BenchEnvironment,
  queueName: string,
  count: number,
  alive?: ManagedProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix: env.queuePrefix });
  try {
    await waitUntil(
      `${count} worker(s) on ${queueName}`,
      async () => (await queue.getWorkersCount()) >= count,
      { timeoutMs, process: alive },
    );
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** CPU ms Redis has used since it started (INFO cpu), for per-alert accounting of the shared Redis. */
export async function redisCpuMs(redisUrl: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info('cpu');
    const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
    const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
    return (user + sys) * 1000;
  } finally {
    redis.disconnect();
  }
}
