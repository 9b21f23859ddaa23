/**
 * Fixtures for worker-level tests: a simulator account registered in Postgres (sealed credentials), and
 * approved signals with their `OrderJob`, enqueued directly (as risk would).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  dedupKey,
  QUEUES,
  sequenceKey,
  type Exchange,
  type NormalisedSignal,
  type OrderJob,
  type OrderLimits,
} from '@tradehook/contracts';
import { CredentialsSealer, credentialsAad, maskApiKey } from '@tradehook/credentials';
import { insertQueuedSignal, type pg } from '@tradehook/db';
import type { Queue } from '@tradehook/queue';
import { parseEnv } from '@tradehook/config';
import { createLogger } from '@tradehook/logger';
import { workerEnvSchema } from '../src/config.ts';
import { createWorkerService, type WorkerService } from '../src/service.ts';

export interface SimAccountOptions {
  exchange: Exchange;
  accountId?: string;
  positionMode?: 'oneway' | 'hedge';
  balance?: number;
  allowAdd?: boolean;
  autoSlTp?: boolean;
  defaultLeverage?: number | null;
  marginMode?: 'cross' | 'isolated';
  unprotectedPolicy?: 'flatten' | 'keep';
}

export interface SimAccount {
  exchange: Exchange;
  accountId: string;
  apiKey: string;
  /** The account's own keys, for a client of the account outside the worker (the exchange's app, say). */
  apiSecret: string;
  passphrase: string | undefined;
}

export async function createSimAccount(
  simUrl: string,
  pool: pg.Pool,
  publicKey: string,
  o: SimAccountOptions,
): Promise<SimAccount> {
  const accountId = o.accountId ?? `acct_${randomBytes(4).toString('hex')}`;
  const apiKey = `key${randomBytes(12).toString('hex')}`;
  const apiSecret = `sec${randomBytes(16).toString('hex')}`;
  const passphrase = o.exchange === 'okx' ? `Pp${randomBytes(6).toString('hex')}` : undefined;
  const res = await fetch(`${simUrl}/_sim/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      exchange: o.exchange,
      api_key: apiKey,
      api_secret: apiSecret,
      passphrase,
      position_mode: o.positionMode ?? 'oneway',
      balance: o.balance ?? 10_000,
    }),
  });
  if (res.status !== 201) throw new Error(`simulator account: ${res.status} ${await res.text()}`);
  const sealer = new CredentialsSealer(publicKey);
  const box = sealer.seal({ apiKey, apiSecret, passphrase }, credentialsAad(o.exchange, accountId));
  await pool.query(
    `INSERT INTO accounts (id, exchange, account_id, testnet, api_key_masked, credentials, credentials_key_id,
       margin_mode, default_leverage, allow_add, auto_sl_tp, unprotected_policy)
     VALUES ($1, $2::"Exchange", $3, false, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      randomUUID(),
      o.exchange,
      accountId,
      maskApiKey(apiKey),
      box,
      sealer.keyId,
      o.marginMode ?? 'cross',
      o.defaultLeverage ?? null,
      o.allowAdd ?? false,
      o.autoSlTp ?? false,
      o.unprotectedPolicy ?? null,
    ],
  );
  return { exchange: o.exchange, accountId, apiKey, apiSecret, passphrase };
}

/** Inserts the signal row (queued → approved, as ingress and risk would) and returns its OrderJob. */
export async function approvedSignal(
  pool: pg.Pool,
  account: SimAccount,
  fields: Omit<NormalisedSignal, 'account_id' | 'exchange'>,
  limits: Partial<OrderLimits> = {},
): Promise<OrderJob> {
  const signal: NormalisedSignal = { account_id: account.accountId, exchange: account.exchange, ...fields };
  const signalId = randomUUID();
  const seqKey = sequenceKey(account.exchange, account.accountId, signal.symbol);
  const receivedAt = new Date();
  const seq = await insertQueuedSignal(pool, {
    id: signalId,
    signal,
    dedupKey: `${dedupKey(signal).key}:${signalId}`,
    seqKey,
    requestId: `req-${signalId.slice(0, 8)}`,
    sourceIp: null,
    receivedAt,
  });
  if (seq === null) throw new Error('duplicate signal');
  await pool.query(`UPDATE signals SET status = 'approved', risk_decided_at = now() WHERE id = $1`, [
    signalId,
  ]);
  return {
    signalId,
    requestId: `req-${signalId.slice(0, 8)}`,
    receivedAt: receivedAt.getTime(),
    signal,
    limits: { maxLeverage: 125, ...limits },
    riskDecidedAt: Date.now(),
  };
}

export async function enqueueOrder(queue: Queue, job: OrderJob): Promise<void> {
  await queue.add('order', job, { jobId: job.signalId });
}

export function ordersQueueName(exchange: Exchange): string {
  return QUEUES.orders(exchange);
}

export interface SignalOutcome {
  status: string;
  reason: string | null;
  result: Record<string, unknown> | null;
}

/** Polls Postgres until the signal is terminal (the test's own timeout bounds the wait). */
export async function waitForSignal(
  pool: pg.Pool,
  signalId: string,
  timeoutMs = 20_000,
): Promise<SignalOutcome> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<SignalOutcome>(
      'SELECT status, reason, result FROM signals WHERE id = $1',
      [signalId],
    );
    const row = rows[0];
    if (row && ['executed', 'ignored', 'failed', 'rejected'].includes(row.status)) return row;
    if (Date.now() > until)
      throw new Error(`signal ${signalId} still ${row?.status ?? 'missing'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The simulator's view of one account. */
export async function simAccount(simUrl: string, account: SimAccount): Promise<SimAccountView> {
  const res = await fetch(
    `${simUrl}/_sim/accounts/${account.exchange}/${encodeURIComponent(account.apiKey)}`,
  );
  const body = (await res.json()) as { account: SimAccountView };
  return body.account;
}

export interface SimAccountView {
  positions: Array<{ symbol: string; position_side: string; qty: number; entry_price: number }>;
  open_orders: Array<Record<string, unknown>>;
  open_algo_orders: Array<{
    client_id: string;
    side: string;
    sl_trigger: number | null;
    tp_trigger: number | null;
    qty: number | null;
  }>;
  trades: Array<Record<string, unknown>>;
  balance: { available: number; wallet: number };
}

/** Every order and algo order the simulator received for an account, in arrival order. */
export async function simOrders(
  simUrl: string,
  account: SimAccount,
): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(
    `${simUrl}/_sim/orders?exchange=${account.exchange}&api_key=${encodeURIComponent(account.apiKey)}`,
  );
  return ((await res.json()) as { orders: Array<Record<string, unknown>> }).orders;
}

export async function simControl(
  simUrl: string,
  path: string,
  body: unknown,
  method = 'POST',
): Promise<unknown> {
  const res = await fetch(`${simUrl}/_sim/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sim ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export interface TestWorkerOptions {
  exchange: Exchange;
  databaseUrl: string;
  redisUrl: string;
  simUrl: string;
  queuePrefix: string;
  credentialsPrivateKey: string;
  /** Logger service name (the logger is silent). */
  name: string;
  /** Overrides of the test defaults below. */
  env?: Record<string, string>;
}

/**
 * A worker service in-process against the simulator, started: no request budget, quick retries, no fill-sync
 * timer (tests call it), no log files; `env` overrides any of it.
 */
export async function startTestWorker(o: TestWorkerOptions): Promise<WorkerService> {
  const config = parseEnv(workerEnvSchema, {
    EXCHANGE: o.exchange,
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: o.queuePrefix,
    CREDENTIALS_PRIVATE_KEY: o.credentialsPrivateKey,
    BINANCE_API_URL: o.simUrl,
    OKX_API_URL: o.simUrl,
    EXCHANGE_RATE_LIMIT: 'false',
    ORDER_RETRY_BASE_MS: '20',
    FILL_SYNC_INTERVAL_MS: '0',
    LOG_DIR: '',
    ...o.env,
  });
  const service = createWorkerService({ config, logger: createLogger({ service: o.name, silent: true }) });
  await service.start();
  return service;
}
