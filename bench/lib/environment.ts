import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { applyMigrations } from '../../packages/db/src/migrations.ts';
import { deleteRedisPrefix } from '../../tests/support/redis.ts';
import {
  credentialsAad,
  CredentialsSealer,
  generateCredentialsKeyPair,
  maskApiKey,
} from '../../packages/credentials/src/index.ts';

/**
 * One benchmark run's private world: a fresh migrated database, a queue prefix of its own, a credentials
 * key pair and the webhook secret. Everything is removed at the end (unless BENCH_KEEP=1).
 */
export interface BenchEnvironment {
  databaseUrl: string;
  databaseName: string;
  redisUrl: string;
  queuePrefix: string;
  /** The ingress-only benchmarks enqueue tens of thousands of jobs nobody consumes: kept apart. */
  ingressOnlyQueuePrefix: string;
  credentials: { publicKey: string; privateKey: string };
  webhookSecret: string;
  adminToken: string;
  runId: string;
  dispose(): Promise<void>;
}

export const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

function withDatabase(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createBenchEnvironment(): Promise<BenchEnvironment> {
  const runId = randomBytes(5).toString('hex');
  // The smoke test passes the test suite's prefix, so its teardown also removes a database left by a killed run.
  const databaseName = `${process.env.BENCH_DB_PREFIX ?? 'th_bench_'}${runId}`;
  await admin(`CREATE DATABASE "${databaseName}"`);
  const databaseUrl = withDatabase(PG_ADMIN_URL, databaseName);
  await applyMigrations(databaseUrl);
  const queuePrefix = `{th-bench-${runId}}`;
  return {
    databaseUrl,
    databaseName,
    redisUrl: REDIS_URL,
    queuePrefix,
    ingressOnlyQueuePrefix: `{th-bench-${runId}-ingress-only}`,
    credentials: generateCredentialsKeyPair(),
    webhookSecret: `bench-secret-${randomBytes(12).toString('hex')}`,
    adminToken: `bench-admin-${randomBytes(16).toString('hex')}`,
    runId,
    async dispose() {
      if (process.env.BENCH_KEEP === '1') return;
      await admin(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      await deleteRedisPrefix(queuePrefix, REDIS_URL);
      await deleteRedisPrefix(`{th-bench-${runId}-ingress-only}`, REDIS_URL);
    },
  };
}

/** Clears signals/orders/fills between scenarios so each one's figures come from its own rows only. */
export async function clearSignals(env: BenchEnvironment): Promise<void> {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    await client.query('TRUNCATE fills, orders, signals, signal_sequences');
  } finally {
    await client.end();
  }
}

export interface BenchAccount {
  accountId: string;
  apiKey: string;
  apiSecret: string;
  /** OKX only. */
  passphrase?: string;
}

export function benchAccounts(count: number, tag: string): BenchAccount[] {
  return Array.from({ length: count }, (_, i) => ({
    accountId: `bench-${tag}-${i}`,
    apiKey: `benchkey${tag}${i}${randomBytes(6).toString('hex')}`,
    apiSecret: randomBytes(24).toString('hex'),
  }));
}

/**
 * Registers accounts the way the admin API stores them (sealed credentials, masked key; the global webhook
 * secret applies), directly in the database: the benchmarks measure the signal path, not registration.
 */
export async function seedAccounts(
  env: BenchEnvironment,
  exchange: 'binance' | 'okx',
  accounts: BenchAccount[],
  /** Defaults as the admin API would store them (allow_add off, ATR SL/TP on, no default leverage). */
  settings: { allowAdd?: boolean; autoSlTp?: boolean; defaultLeverage?: number | null } = {},
): Promise<void> {
  const sealer = new CredentialsSealer(env.credentials.publicKey);
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    for (const a of accounts) {
      const box = sealer.seal(
        { apiKey: a.apiKey, apiSecret: a.apiSecret, passphrase: a.passphrase },
        credentialsAad(exchange, a.accountId),
      );
      await client.query(
        `INSERT INTO accounts (id, exchange, account_id, testnet, api_key_masked, credentials, credentials_key_id,
                               margin_mode, default_leverage, allow_add, auto_sl_tp)
         VALUES ($1, $2, $3, false, $4, $5, $6, 'cross', $7, $8, $9)`,
        [
          randomUUID(),
          exchange,
          a.accountId,
          maskApiKey(a.apiKey),
          box,
          sealer.keyId,
          settings.defaultLeverage ?? null,
          settings.allowAdd ?? false,
          settings.autoSlTp ?? true,
        ],
      );
    }
  } finally {
    await client.end();
  }
}
