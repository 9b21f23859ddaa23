// `pnpm start`: every service as a child process of this one, against local PostgreSQL and Redis — the
// no-Docker way to run tradehook. Order: the ingress port is free → database (created if missing) →
// secrets (generated once into .data/secrets.env) → migrations → ingress, risk, notifier, worker-binance,
// worker-okx. Output lines are prefixed with the service name; SIGINT/SIGTERM are forwarded and every child
// gets time to finish its work (package.json `exec`s this script, so a clean Ctrl-C ends `pnpm start` with 0).
// A child that exits on its own is restarted with backoff (like compose's restart policy); the rest keep
// running, so one crash (e.g. during a database outage) cannot take the whole stack down.
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { ensureLocalSecrets, LOCAL_SECRET_KEYS } from '../deploy/secrets.ts';
import { assertPortsFree } from './ports.ts';
import {
  keepRunning,
  readinessUrl,
  REPO_ROOT,
  spawnService,
  waitForHttp,
  type Env,
  type OutputOptions,
  type ProcessSpec,
  type RestartPolicy,
} from './lib/supervisor.ts';

export { REPO_ROOT };
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tradehook';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Longest a child may take to stop after SIGTERM (workers finish the order in flight) before SIGKILL. */
const STOP_DEADLINE_MS = 70_000;
/** Restart backoff of a crashed child: doubles from the first to the last; reset after a long enough run. */
const RESTART: RestartPolicy = { firstMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

/** One service of the stack (entry run as `node --import tsx <entry>`, the compose commands). */
export type ServiceSpec = ProcessSpec;

export interface StartAllOptions {
  env?: Env;
  /** Where generated secrets are kept (default .data/secrets.env). */
  secretsFile?: string;
  binanceWorkers?: number;
  okxWorkers?: number;
  /** Receives every output line (already prefixed). */
  write?: (line: string) => void;
}

export interface RunningStack {
  ingressUrl: string;
  secretsFile: string;
  /** Resolves once the ingress health route answers 200. */
  ready: Promise<void>;
  /** Resolves with the exit code once every child has exited. */
  exited: Promise<number>;
  stop(reason?: string): Promise<number>;
}

const SECRET_NEEDS: Record<string, readonly string[]> = {
  ingress: ['WEBHOOK_SECRET', 'ADMIN_TOKEN', 'CREDENTIALS_PUBLIC_KEY'],
  risk: [],
  worker: ['CREDENTIALS_PRIVATE_KEY'],
  // Channel credentials (TELEGRAM_BOT_TOKEN, …) come from the caller's environment, not generated secrets.
  notifier: [],
};

/** The environment of one service: shared settings plus only the secrets that service needs. */
export function serviceEnv(base: Env, secrets: Record<string, string>, role: keyof typeof SECRET_NEEDS): Env {
  const env: Env = { ...base };
  for (const key of LOCAL_SECRET_KEYS) delete env[key];
  for (const key of SECRET_NEEDS[role] ?? []) env[key] = secrets[key];
  return env;
}

/** Creates the database named in `url` when it does not exist yet (first local start). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const unreachable = (err: unknown) =>
    new Error(
      `cannot reach PostgreSQL at ${target.host} (${(err as Error).message}); start it or set DATABASE_URL`,
    );
  // Usually it exists: connecting to it needs no access to any other database.
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return false;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw unreachable(err); // 3D000: database does not exist
  } finally {
    await probe.end().catch(() => undefined);
  }
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  try {
    await admin.connect();
  } catch (err) {
    throw unreachable(err);
  }
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '42P04') return false; // created meanwhile
    throw new Error(`cannot create database ${name}: ${(err as Error).message}`);
  } finally {
    await admin.end();
  }
}

/** Each output line of a child, prefixed with its name padded to `width`. */
function prefixed(name: string, width: number, write: (line: string) => void): OutputOptions {
  const prefix = `[${name}]`.padEnd(width + 2) + ' ';
  return { onLine: (line) => write(`${prefix}${line}`), keepChars: 0 };
}

export function listServices(
  base: Env,
  secrets: Record<string, string>,
  binance: number,
  okx: number,
): ServiceSpec[] {
  const services: ServiceSpec[] = [
    { name: 'ingress', entry: 'services/ingress/src/main.ts', env: serviceEnv(base, secrets, 'ingress') },
    { name: 'risk', entry: 'services/risk/src/main.ts', env: serviceEnv(base, secrets, 'risk') },
    { name: 'notifier', entry: 'services/notifier/src/main.ts', env: serviceEnv(base, secrets, 'notifier') },
  ];
  for (const [exchange, count] of [
    ['binance', binance],
    ['okx', okx],
  ] as const) {
    for (let i = 1; i <= count; i++) {
      services.push({
        name: count > 1 ? `worker-${exchange}-${i}` : `worker-${exchange}`,
        entry: 'services/worker/src/main.ts',
        env: { ...serviceEnv(base, secrets, 'worker'), EXCHANGE: exchange },
      });
    }
  }
  return services;
}

export async function startAll(options: StartAllOptions = {}): Promise<RunningStack> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const say = (line: string) => write(`[start] ${line}`);
  const sourceEnv = options.env ?? process.env;
  const base: Env = {
    ...sourceEnv,
    DATABASE_URL: sourceEnv.DATABASE_URL || DEFAULT_DATABASE_URL,
    REDIS_URL: sourceEnv.REDIS_URL || DEFAULT_REDIS_URL,
  };
  const databaseUrl = base.DATABASE_URL as string;
  const port = base.PORT || '8001';
  await assertPortsFree([
    { purpose: 'the ingress (PORT)', host: base.HOST || '127.0.0.1', port: Number(port) },
  ]);

  if (await ensureDatabase(databaseUrl)) say(`created database ${new URL(databaseUrl).pathname.slice(1)}`);

  const secretsFile = options.secretsFile ?? join(REPO_ROOT, '.data/secrets.env');
  const shownFile = relative(process.cwd(), secretsFile) || secretsFile;
  const { values: secrets, generated } = ensureLocalSecrets(secretsFile, sourceEnv);
  if (generated.length)
    say(`generated ${generated.join(', ')} into ${shownFile} (first start; values not shown)`);
  say(
    `secrets: ${shownFile} — admin token: grep ADMIN_TOKEN ${shownFile}; webhook secret: grep WEBHOOK_SECRET ${shownFile}`,
  );

  say('applying migrations');
  const migrateEnv = serviceEnv(base, secrets, 'risk');
  const migrate = spawnService(
    { name: 'migrate', entry: 'packages/db/src/migrate-cli.ts', env: migrateEnv },
    prefixed('migrate', 7, write),
  );
  const migrateCode = await migrate.exit;
  if (migrateCode !== 0) throw new Error(`migrations failed (exit ${migrateCode})`);

  const services = listServices(base, secrets, options.binanceWorkers ?? 1, options.okxWorkers ?? 1);
  const width = Math.max(...services.map((s) => s.name.length));
  const kept = services.map((s) =>
    keepRunning(s, prefixed(s.name, width, write), RESTART, (code, waitMs) =>
      say(`${s.name} exited unexpectedly (code ${code}); restarting in ${waitMs} ms`),
    ),
  );

  let stopping = false;
  const stop = async (reason = 'stop requested'): Promise<number> => {
    if (!stopping) {
      stopping = true;
      say(`stopping (${reason})`);
      await Promise.all(kept.map((k) => k.stop(STOP_DEADLINE_MS)));
    }
    return exited;
  };
  // The first child that failed while stopping gives the exit code.
  const exited: Promise<number> = Promise.all(kept.map((k) => k.finished)).then(
    (codes) => codes.find((code) => code !== 0) ?? 0,
  );

  const ingressUrl = `http://127.0.0.1:${port}`;
  const ready = waitForHttp(readinessUrl('ingress', Number(port)), {
    timeoutMs: Number.POSITIVE_INFINITY,
    intervalMs: 250,
    cancelled: () => stopping,
  }).then(() => say(`ready: ${ingressUrl} (webhook ${ingressUrl}/api/v1/webhook/tradingview)`));
  ready.catch(() => undefined);
  return { ingressUrl, secretsFile, ready, exited, stop };
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 32) throw new Error(`${name} must be an integer 0..32`);
  return n;
}

async function main(): Promise<void> {
  const stack = await startAll({
    binanceWorkers: positiveInt(process.env.BINANCE_WORKERS, 1, 'BINANCE_WORKERS'),
    okxWorkers: positiveInt(process.env.OKX_WORKERS, 1, 'OKX_WORKERS'),
    ...(process.env.TRADEHOOK_SECRETS_FILE ? { secretsFile: process.env.TRADEHOOK_SECRETS_FILE } : {}),
  });
  process.on('SIGINT', () => void stack.stop('SIGINT'));
  process.on('SIGTERM', () => void stack.stop('SIGTERM'));
  process.exit(await stack.exited);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
