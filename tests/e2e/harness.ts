/**
 * End-to-end harness: the simulator (in this process), and ingress, risk and workers as real child processes
 * (`node --import tsx services/<x>/src/main.ts`) on a fresh migrated database and a queue prefix of their own.
 * Accounts are created at the simulator and registered through the admin API (the worker verifies the key);
 * signals are posted to the real webhook endpoint.
 *
 *   const h = await E2EHarness.start({ workers: { binance: 1, okx: 1 } });
 *   const acct = await h.registerAccount('binance');
 *   const res = await h.webhook({ ...acct.alert('long', 'BTCUSDT'), quantity: 0.01 }, { wait: 10_000 });
 *   const outcome = await h.waitForSignal(res.body.signal_id);
 *   await h.stop();
 *
 * Used by tests/e2e and reusable by benchmarks and the compose-parity test.
 */
import { randomBytes } from 'node:crypto';
import { generateCredentialsKeyPair } from '../../packages/credentials/src/index.ts';
import { createPgPool, type pg } from '../../packages/db/src/index.ts';
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../packages/exchange-sim/src/index.ts';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../support/index.ts';
import {
  freePort,
  readinessUrl,
  spawnService,
  waitForHttp,
  type ServiceProcess as SupervisedProcess,
} from '../../scripts/lib/supervisor.ts';

export type Exchange = 'binance' | 'okx';
export type Role = 'ingress' | 'risk' | 'worker';

/** Parsed JSON from the services and the simulator: shapes are asserted by the tests themselves. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

export interface HarnessOptions {
  /** Worker processes per exchange started with the harness (default one each). */
  workers?: Partial<Record<Exchange, number>>;
  /** Extra environment for every service process (e.g. DEFAULT_DAILY_LOSS_CAP). */
  env?: Record<string, string>;
  /** Extra environment per role. */
  roleEnv?: Partial<Record<Role, Record<string, string>>>;
  simulator?: SimulatorOptions;
  /** Echo service output to this process's stderr (debugging). */
  echo?: boolean;
  /** A migrated database of the test's own (e.g. on a private Postgres it stops); default: a fresh clone. */
  database?: TestDatabase;
}

/** A service process of the harness (scripts/lib/supervisor.ts), with its role. */
export interface ServiceProcess extends SupervisedProcess {
  role: Role;
}

export interface E2EAccount {
  exchange: Exchange;
  accountId: string;
  /** The simulator account's API key (for its control API); the secret never leaves the harness. */
  apiKey: string;
  /** A webhook payload skeleton for this account. */
  alert(action: string, symbol: string, extra?: Record<string, unknown>): Record<string, unknown>;
}

export interface RegisterOptions {
  accountId?: string;
  positionMode?: 'oneway' | 'hedge';
  balance?: number;
  /** Registration body extras: default_leverage, allow_add, auto_sl_tp, margin_mode, … */
  settings?: Record<string, unknown>;
  /** The simulator key's permissions (OKX only), e.g. `['read_only', 'withdraw', 'trade']`. */
  permissions?: string[] | string;
}

export interface SignalOutcome {
  id: string;
  status: string;
  reason: string | null;
  result: Record<string, unknown> | null;
}

/** tsx start-up of a service on a busy two-core machine can take several seconds. */
const STARTUP_TIMEOUT_MS = 90_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class E2EHarness {
  readonly adminToken = `admin-${randomBytes(16).toString('hex')}`;
  readonly webhookSecret = `whs-${randomBytes(16).toString('hex')}`;
  readonly keys = generateCredentialsKeyPair();
  readonly prefix = testQueuePrefix();
  readonly processes: ServiceProcess[] = [];
  ingressUrl = '';
  private counter = 0;

  private constructor(
    readonly sim: Simulator,
    readonly db: TestDatabase,
    readonly pool: pg.Pool,
    private readonly options: HarnessOptions,
  ) {}

  /** Simulator + database + ingress + risk + workers, all ready. */
  static async start(options: HarnessOptions = {}): Promise<E2EHarness> {
    const [sim, db] = await Promise.all([
      // The services run here without their request budget (EXCHANGE_RATE_LIMIT=false, as below), so the
      // simulator does not count weight either unless a test asks; the budget is rate-budget.test.ts.
      startSimulator({ rateLimits: { enabled: false }, ...options.simulator }),
      options.database ?? createTestDatabase(),
    ]);
    const h = new E2EHarness(sim, db, createPgPool(db.url, { max: 4 }), options);
    try {
      const port = await freePort();
      h.ingressUrl = `http://127.0.0.1:${port}`;
      await Promise.all([
        h.startService('ingress', { PORT: String(port), HOST: '127.0.0.1' }),
        h.startService('risk'),
        ...(['binance', 'okx'] as const).flatMap((ex) =>
          Array.from({ length: options.workers?.[ex] ?? 1 }, () => h.startWorker(ex)),
        ),
      ]);
    } catch (err) {
      await h.stop();
      throw err;
    }
    return h;
  }

  /** The environment every service gets (what compose sets), plus per-role extras. */
  baseEnv(role: Role): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: this.db.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: this.prefix,
      LOG_LEVEL: 'info',
      LOG_DIR: '',
      ADMIN_TOKEN: this.adminToken,
      WEBHOOK_SECRET: this.webhookSecret,
      CREDENTIALS_PUBLIC_KEY: this.keys.publicKey,
      CREDENTIALS_PRIVATE_KEY: this.keys.privateKey,
      BINANCE_API_URL: this.sim.url,
      OKX_API_URL: this.sim.url,
      EXCHANGE_RATE_LIMIT: 'false',
      EXCHANGE_TIMEOUT_MS: '3000',
      EXCHANGE_RECV_WINDOW_MS: '3000',
      // Quick recovery of a killed worker's job (stalled check), quick retries.
      WORKER_LOCK_DURATION_MS: '4000',
      WORKER_STALLED_INTERVAL_MS: '2000',
      ORDER_RETRY_BASE_MS: '100',
      RATE_LIMIT_WEBHOOK_MAX: '0',
      RATE_LIMIT_ADMIN_MAX: '0',
      DEDUP_WINDOW_SECONDS: '1',
      ...this.options.env,
      ...this.options.roleEnv?.[role],
    };
  }

  /**
   * Starts one service process and resolves once it is ready: the ingress health route answers 200, risk and
   * workers their metrics server (opened on a port of their own once started).
   */
  async startService(role: Role, env: Record<string, string> = {}, name?: string): Promise<ServiceProcess> {
    const label = name ?? `${role}-${++this.counter}`;
    const fullEnv = { ...this.baseEnv(role), ...env };
    if (role !== 'ingress')
      Object.assign(fullEnv, { METRICS_PORT: String(await freePort()), METRICS_HOST: '127.0.0.1' });
    const port = Number(role === 'ingress' ? fullEnv.PORT : fullEnv.METRICS_PORT);
    const proc: ServiceProcess = Object.assign(
      spawnService(
        { name: label, entry: `services/${role}/src/main.ts`, env: fullEnv },
        {
          keepChars: 4_000_000,
          ...(this.options.echo
            ? { onLine: (line: string) => process.stderr.write(`[${label}] ${line}\n`) }
            : {}),
        },
      ),
      { role },
    );
    this.processes.push(proc);
    try {
      await waitForHttp(readinessUrl(role, port), {
        timeoutMs: STARTUP_TIMEOUT_MS,
        process: proc,
        intervalMs: 200,
      });
    } catch (err) {
      await proc.stop('SIGKILL');
      throw err;
    }
    return proc;
  }

  startWorker(exchange: Exchange, env: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.startService(
      'worker',
      { EXCHANGE: exchange, ...env },
      `worker-${exchange}-${++this.counter}`,
    );
  }

  /** SIGKILL (or another signal) to one service process; resolves when it has exited. */
  async kill(proc: ServiceProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    proc.child.kill(signal);
    await proc.exit;
  }

  // ── admin API and webhook ────────────────────────────────────────────────

  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonBody }> {
    const res = await fetch(`${this.ingressUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }

  /** Creates the account at the simulator, then registers it through the guide's admin API. */
  async registerAccount(exchange: Exchange, o: RegisterOptions = {}): Promise<E2EAccount> {
    const { status, body, account } = await this.tryRegisterAccount(exchange, o);
    if (status !== 201) throw new Error(`register ${exchange}: ${status} ${JSON.stringify(body)}`);
    return account;
  }

  /**
   * `registerAccount` that answers the admin API's response instead of throwing (refusals are tested), with the
   * secrets it sent so a test can assert they are not echoed.
   */
  async tryRegisterAccount(
    exchange: Exchange,
    o: RegisterOptions = {},
  ): Promise<{ status: number; body: JsonBody; account: E2EAccount; sentSecrets: string[] }> {
    const accountId = o.accountId ?? `e2e_${exchange}_${randomBytes(4).toString('hex')}`;
    const apiKey = `key${randomBytes(12).toString('hex')}`;
    const apiSecret = `sec${randomBytes(16).toString('hex')}`;
    const passphrase = exchange === 'okx' ? `Pp${randomBytes(6).toString('hex')}` : undefined;
    await this.simControl('accounts', {
      exchange,
      api_key: apiKey,
      api_secret: apiSecret,
      passphrase,
      position_mode: o.positionMode ?? 'oneway',
      balance: o.balance ?? 10_000,
      permissions: o.permissions,
    });
    const res = await this.api('POST', `/api/v1/accounts/${exchange}/register`, {
      account_id: accountId,
      api_key: apiKey,
      api_secret: apiSecret,
      ...(passphrase ? { passphrase } : {}),
      testnet: false,
      ...o.settings,
    });
    const secret = this.webhookSecret;
    const account: E2EAccount = {
      exchange,
      accountId,
      apiKey,
      alert: (action, symbol, extra = {}) => ({
        account_id: accountId,
        exchange,
        action,
        symbol,
        secret,
        ...extra,
      }),
    };
    return {
      status: res.status,
      body: res.body,
      account,
      sentSecrets: [apiSecret, ...(passphrase ? [passphrase] : [])],
    };
  }

  /** POSTs a TradingView alert; `wait` adds `?wait=<ms>`. */
  async webhook(payload: unknown, opts: { wait?: number } = {}): Promise<{ status: number; body: JsonBody }> {
    const q = opts.wait ? `?wait=${opts.wait}` : '';
    const res = await fetch(`${this.ingressUrl}/api/v1/webhook/tradingview${q}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  /** Posts and returns the accepted signal's id (throws unless 200/202). */
  async post(payload: unknown): Promise<string> {
    const res = await this.webhook(payload);
    if (res.status !== 202 && res.status !== 200)
      throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.signal_id as string;
  }

  /** Polls Postgres until the signal is terminal. */
  async waitForSignal(signalId: string, timeoutMs = 30_000): Promise<SignalOutcome> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.pool.query<SignalOutcome>(
        'SELECT id, status, reason, result FROM signals WHERE id = $1',
        [signalId],
      );
      const row = rows[0];
      if (row && ['executed', 'ignored', 'failed', 'rejected'].includes(row.status)) return row;
      if (Date.now() > until)
        throw new Error(`signal ${signalId} still ${row?.status ?? 'missing'} after ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  /** Posts, waits for the outcome. */
  async signal(payload: unknown, timeoutMs?: number): Promise<SignalOutcome> {
    return this.waitForSignal(await this.post(payload), timeoutMs);
  }

  // ── simulator ────────────────────────────────────────────────────────────

  async simControl(path: string, body?: unknown, method = 'POST'): Promise<JsonBody> {
    const res = await fetch(`${this.sim.url}/_sim/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sim ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  /** The simulator's state of an account: positions, open (algo) orders, trades, balance. */
  async simAccount(a: E2EAccount): Promise<JsonBody> {
    return (await this.simControl(`accounts/${a.exchange}/${encodeURIComponent(a.apiKey)}`, undefined, 'GET'))
      .account;
  }

  /** Every order and algo order the simulator received for the account, in arrival order. */
  async simOrders(a: E2EAccount): Promise<Array<Record<string, JsonBody>>> {
    const q = `orders?exchange=${a.exchange}&api_key=${encodeURIComponent(a.apiKey)}`;
    return (await this.simControl(q, undefined, 'GET')).orders;
  }

  /** Injects a fault for the next `count` matching requests (kinds: latency, http5xx, rate_limit, drop_after_accept, error_code, timeout). */
  async fault(f: Record<string, unknown>): Promise<void> {
    await this.simControl('faults', f);
  }

  async setPrice(symbol: string, price: number): Promise<void> {
    await this.simControl('price', { symbol, price });
  }

  async price(symbol: string): Promise<number> {
    const { prices } = await this.simControl('prices', undefined, 'GET');
    const id = symbol
      .replace(/^[A-Z]+:/, '')
      .replace(/\.P$/, '')
      .replace(/\/USDT:USDT$/, 'USDT')
      .replace(/-USDT-SWAP$/, 'USDT');
    return prices[id] as number;
  }

  /** The path ccxt places market orders on (for fault injection). */
  static orderPath(exchange: Exchange): string {
    return exchange === 'binance' ? '/fapi/v1/order' : '/api/v5/trade/batch-orders';
  }

  // ── teardown ─────────────────────────────────────────────────────────────

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(async (p) => {
        await p.stop('SIGTERM', 8_000);
      }),
    );
    await this.pool.end().catch(() => undefined);
    await this.sim.close().catch(() => undefined);
    await deleteRedisPrefix(this.prefix).catch(() => undefined);
    await this.db.drop().catch(() => undefined);
  }
}
