import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../support/index.ts';
import {
  dockerfileRuntimeEnv,
  loadCompose,
  readEnvFile,
  REPO_ROOT,
  serviceEnvironment,
  volumeMounts,
  type ComposeFile,
  type ComposeService,
} from './compose-file.ts';

/**
 * The compose topology as processes: docker-compose.yml is read with the demo env file
 * (`docker compose --env-file deploy/demo.env up`), and each service runs with its compose command through
 * the image's entrypoint, its compose environment plus the Dockerfile's, and its secrets volumes as
 * directories. What differs from Docker is listed in `overrides` below (host names, ports, a fresh database
 * and queue prefix). Then the guide's flow runs through it, with two worker-binance replicas.
 */
const APP_SERVICES = ['init', 'migrate', 'ingress', 'risk', 'worker-binance', 'worker-okx', 'sim', 'demo'];

interface Running {
  name: string;
  child: ChildProcess;
  output: string[];
  exit: Promise<number>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

// Response bodies of several services, inspected field by field by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = any;

async function json(
  url: string,
  init: RequestInit & { body?: string } = {},
): Promise<{ status: number; body: JsonBody }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Polls until `fn` yields a value. Generous: seven cold tsx processes on two busy cores can take a while. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, giveUpAfterMs = 120_000): Promise<T> {
  const giveUpAt = Date.now() + giveUpAfterMs;
  while (Date.now() < giveUpAt) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const replicaName = (name: string, replica: number) => (replica > 1 ? `${name}#${replica}` : name);

describe('docker-compose.yml as processes', () => {
  const demoEnv = readEnvFile(join(REPO_ROOT, 'deploy/demo.env'));
  let compose: ComposeFile;
  let db: TestDatabase;
  let prefix: string;
  let tmp: string;
  let ingressUrl: string;
  let simUrl: string;
  const running: Running[] = [];
  let secrets: Record<string, string> = {};

  function service(name: string): ComposeService {
    const s = compose.services[name];
    if (!s) throw new Error(`compose has no service ${name}`);
    return s;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = testQueuePrefix();
    tmp = mkdtempSync(join(tmpdir(), 'th-compose-'));
    // `--env-file deploy/demo.env`, plus DATABASE_URL as an operator would set it in .env.
    compose = loadCompose({ ...demoEnv, DATABASE_URL: db.url });
  });

  afterAll(async () => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await db?.drop();
    if (prefix) await deleteRedisPrefix(prefix);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('declares the topology the README promises', () => {
    const s = compose.services;
    expect(Object.keys(s)).toEqual(expect.arrayContaining([...APP_SERVICES, 'postgres', 'redis', 'caddy']));
    // Redis: AOF and no eviction (queued alerts must survive and never be dropped).
    expect(s.redis?.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    expect(s.redis?.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(s.postgres?.volumes?.some((v) => v.startsWith('pgdata:'))).toBe(true);
    for (const w of ['worker-binance', 'worker-okx']) {
      // Scalable: no fixed name, no host port; a grace period for the order in flight.
      expect(s[w]?.container_name).toBeUndefined();
      expect(s[w]?.ports).toBeUndefined();
      expect(s[w]?.stop_grace_period).toBe('60s');
      expect(s[w]?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
      expect(Number(serviceEnvironment(s[w]!).SHUTDOWN_DEADLINE_MS)).toBeLessThan(60_000);
    }
    for (const name of ['ingress', 'risk']) {
      expect(s[name]?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
      expect(s[name]?.restart).toBe('unless-stopped');
    }
    expect(s.migrate?.depends_on?.init?.condition).toBe('service_completed_successfully');
    expect(s.migrate?.restart).toBe('no');
    // The demo publishes 8011, not a real installation's 8001: both run side by side.
    expect(s.ingress?.ports).toEqual(['127.0.0.1:8011:8001']);
    expect(loadCompose({ DATABASE_URL: db.url }).services.ingress?.ports).toEqual(['127.0.0.1:8001:8001']);
    // Only workers (and the init step that makes it) can see the private key volume.
    const withPrivate = Object.entries(s)
      .filter(([, svc]) => volumeMounts(svc).some((m) => m.volume === 'secrets-worker'))
      .map(([n]) => n)
      .sort();
    expect(withPrivate).toEqual(['init', 'worker-binance', 'worker-okx']);
    expect(s.sim?.profiles).toEqual(['demo']);
    expect(s.demo?.profiles).toEqual(['demo']);
    expect(s.caddy?.profiles).toEqual(['https']);
    expect(demoEnv.COMPOSE_PROFILES).toBe('demo');
  });

  it('runs the guide flow through the compose services, with two worker-binance replicas', async () => {
    const ingressPort = await freePort();
    const simPort = await freePort();
    // Each process's metrics port (fixed per service in compose, one per container): a free one per process.
    const metricsPorts = new Map<string, number>();
    for (const name of ['ingress', 'risk', 'worker-binance', 'worker-binance#2', 'worker-okx'])
      metricsPorts.set(name, await freePort());
    ingressUrl = `http://127.0.0.1:${ingressPort}`;
    simUrl = `http://127.0.0.1:${simPort}`;
    const redisHostPort = new URL(TEST_REDIS_URL).host;
    // Everything that differs from Docker: container host names, fixed ports, the test's own database
    // (set through DATABASE_URL above) and queue prefix, and where the secrets volumes are.
    const hostRewrites: Array<[string, string]> = [
      ['//redis:6379', `//${redisHostPort}`],
      ['//ingress:8001', `//127.0.0.1:${ingressPort}`],
      ['//sim:8099', `//127.0.0.1:${simPort}`],
    ];
    const overrides = (name: string, replica: number): Record<string, string> => ({
      ...(metricsPorts.has(replicaName(name, replica))
        ? { METRICS_PORT: String(metricsPorts.get(replicaName(name, replica))), METRICS_HOST: '127.0.0.1' }
        : {}),
      QUEUE_PREFIX: prefix,
      TRADEHOOK_SECRETS_DIR: join(tmp, 'mounts', name),
      ...(name === 'ingress' ? { PORT: String(ingressPort) } : {}),
      ...(name === 'sim' ? { SIM_PORT: String(simPort), SIM_HOST: '127.0.0.1' } : {}),
      // A real ccxt client against a local simulator: no client-side throttle needed.
      ...(name.startsWith('worker-') ? { EXCHANGE_RATE_LIMIT: 'false' } : {}),
    });
    const imageEnv = dockerfileRuntimeEnv();
    expect(imageEnv).toMatchObject({
      NODE_ENV: 'production',
      LOG_DIR: '',
      TRADEHOOK_SECRETS_DIR: '/secrets',
    });

    const start = (name: string, replica = 1): Running => {
      const svc = service(name);
      // The container's secrets volumes as directories: <mounts>/<service>/<dir> → <volumes>/<volume>.
      const mountRoot = join(tmp, 'mounts', name);
      mkdirSync(mountRoot, { recursive: true });
      for (const m of volumeMounts(svc)) {
        if (!m.target.startsWith('/secrets/')) continue;
        const volumeDir = join(tmp, 'volumes', m.volume);
        mkdirSync(volumeDir, { recursive: true, mode: 0o700 });
        const link = join(mountRoot, m.target.slice('/secrets/'.length));
        try {
          symlinkSync(volumeDir, link);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      let env: Record<string, string> = {
        ...imageEnv,
        ...serviceEnvironment(svc),
        ...overrides(name, replica),
      };
      env = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [
          k,
          hostRewrites.reduce((acc, [from, to]) => acc.split(from).join(to), v),
        ]),
      );
      const command = svc.command ?? [];
      expect(command[0]).toBe('node');
      const child = spawn('/bin/sh', ['deploy/docker-entrypoint.sh', process.execPath, ...command.slice(1)], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
      const exit = new Promise<number>((resolve) =>
        child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 0))),
      );
      const r = { name: replicaName(name, replica), child, output, exit };
      running.push(r);
      return r;
    };
    const oneShot = async (name: string) => {
      const r = start(name);
      const code = await r.exit;
      if (code !== 0) throw new Error(`${name} exited ${code}:\n${r.output.join('')}`);
      return r.output.join('');
    };

    // init, then migrate (both must complete successfully before the services start).
    const initLog = await oneShot('init');
    expect(initLog).toContain('generated');
    expect(initLog).toContain('docker compose exec ingress cat /secrets/ingress/ingress.env');
    await oneShot('migrate');

    const ingress = start('ingress');
    start('risk');
    const workerA = start('worker-binance');
    start('worker-binance', 2);
    start('worker-okx');
    start('sim');
    const dump = () =>
      running
        .map(
          (r) =>
            `--- ${r.name} (exit ${r.child.exitCode})\n${r.output.join('').split('\n').slice(-20).join('\n')}`,
        )
        .join('\n');
    try {
      await until('ingress health', async () =>
        (await json(`${ingressUrl}/api/v1/webhook/health`)).status === 200 ? true : undefined,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${dump()}`);
    }

    // The compose healthchecks pass (their container-local ports mapped to this run's ports).
    // Risk and the workers are live when their metrics port answers (they open it once started).
    const healthchecks: Array<[string, number]> = [
      ['ingress', ingressPort],
      ['sim', simPort],
      ['risk', metricsPorts.get('risk')!],
      ['worker-binance', metricsPorts.get('worker-binance#2')!],
      ['worker-okx', metricsPorts.get('worker-okx')!],
    ];
    for (const [name, port] of healthchecks.slice(2))
      await until(`${name} metrics port`, async () =>
        (await fetch(`http://127.0.0.1:${port}/metrics`)).ok ? true : undefined,
      );
    for (const [name, port] of healthchecks) {
      const test = service(name).healthcheck?.test ?? [];
      expect(test.slice(0, 2)).toEqual(['CMD', 'node']);
      const args = test.slice(2).map((a) => a.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`));
      expect(spawnSync(process.execPath, args, { cwd: REPO_ROOT }).status, `${name} healthcheck`).toBe(0);
    }

    // The demo profile's one-shot registers the guide's accounts in the simulator and the ingress.
    const demoLog = await oneShot('demo');
    expect(demoLog).toContain('my_binance_account');

    // What `docker compose exec ingress cat /secrets/ingress/ingress.env` shows.
    secrets = readEnvFile(join(tmp, 'volumes/secrets-ingress/ingress.env'));
    expect(secrets.ADMIN_TOKEN?.length).toBeGreaterThanOrEqual(32);
    const admin = { authorization: `Bearer ${secrets.ADMIN_TOKEN}` };

    // The private key never reaches the ingress; workers get it and nothing of the ingress's.
    const environOf = (pid: number | undefined) =>
      Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
    const ingressEnv = environOf(ingress.child.pid);
    expect(ingressEnv.CREDENTIALS_PUBLIC_KEY).toBeTruthy();
    expect(ingressEnv.CREDENTIALS_PRIVATE_KEY).toBeUndefined();
    const workerEnv = environOf(workerA.child.pid);
    expect(workerEnv.CREDENTIALS_PRIVATE_KEY).toBeTruthy();
    expect(workerEnv.ADMIN_TOKEN).toBeUndefined();
    expect(workerEnv.WEBHOOK_SECRET).toBeUndefined();

    // Register (the guide's request, with the admin token) a second account made in the simulator.
    const created = await json(`${simUrl}/_sim/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        exchange: 'binance',
        api_key: 'parity-key-0001',
        api_secret: 'parity-secret-0001',
      }),
    });
    expect(created.status).toBe(201);
    const registered = await json(`${ingressUrl}/api/v1/accounts/binance/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({
        account_id: 'parity_binance',
        api_key: 'parity-key-0001',
        api_secret: 'parity-secret-0001',
        testnet: true,
      }),
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({
      success: true,
      message: 'Binance account registered successfully',
      account_id: 'parity_binance',
      exchange: 'binance',
    });
    const unauthorised = await json(`${ingressUrl}/api/v1/accounts/list`);
    expect(unauthorised.status).toBe(401);

    const health = await json(`${ingressUrl}/api/v1/webhook/health`);
    expect(health.body).toMatchObject({ status: 'healthy', registered_accounts: { binance: 2, okx: 1 } });

    // Answered by a worker: on a busy machine the first one may still be starting (504 until then).
    const statusOf = (accountId: string, exchange: string) =>
      until(`status of ${accountId}`, async () => {
        const r = await json(`${ingressUrl}/api/v1/accounts/status/${accountId}?exchange=${exchange}`, {
          headers: admin,
        });
        return r.status === 504 ? undefined : r;
      });
    const status = await statusOf('my_binance_account', 'binance');
    expect(status.status).toBe(200);
    expect((await statusOf('my_okx_account', 'okx')).status).toBe(200);
    expect(status.body).toMatchObject({
      account_id: 'my_binance_account',
      exchange: 'binance',
      balance: { asset: 'USDT', available_balance: 10000 },
      positions: [],
    });

    // The guide's manual webhook test, waiting for the outcome.
    const alert = (action: string, exchange = 'binance', accountId = 'my_binance_account') =>
      JSON.stringify({
        account_id: accountId,
        exchange,
        action,
        symbol: 'BTCUSDT',
        leverage: 10,
        secret: secrets.WEBHOOK_SECRET,
      });
    const post = (body: string, wait = true) =>
      json(`${ingressUrl}/api/v1/webhook/tradingview${wait ? '?wait=20000' : ''}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const long = await post(alert('long'));
    expect(long.status, JSON.stringify(long.body)).toBe(200);
    expect(long.body).toMatchObject({ success: true, message: 'LONG order executed on binance' });

    const simAccount = async (exchange: string, key: string) =>
      (await json(`${simUrl}/_sim/accounts/${exchange}/${key}`)).body.account as {
        positions: Array<{ symbol: string; position_side: string; qty: number }>;
      };
    const binanceKey = 'demo-binance-api-key-0001';
    const afterLong = await simAccount('binance', binanceKey);
    expect(afterLong.positions).toHaveLength(1);
    expect(afterLong.positions[0]!.qty).toBeGreaterThan(0);

    // A close and a reversal fired back to back: two replicas, executed in order.
    const close = await post(alert('close_long'), false);
    const short = await post(alert('short'), false);
    expect([close.status, short.status]).toEqual([202, 202]);
    for (const accepted of [close, short]) {
      const id = accepted.body.signal_id ?? accepted.body.id;
      const final = await until(`signal ${id}`, async () => {
        const r = await json(`${ingressUrl}/api/v1/signals/${id}`, { headers: admin });
        const st = r.body?.signal?.status ?? r.body?.status;
        return ['executed', 'ignored', 'failed', 'rejected'].includes(st) ? st : undefined;
      });
      expect(final).toBe('executed');
    }
    const afterShort = await simAccount('binance', binanceKey);
    expect(afterShort.positions).toHaveLength(1);
    expect(afterShort.positions[0]!.qty).toBeLessThan(0);
    const orders = (await json(`${simUrl}/_sim/orders?exchange=binance&api_key=${binanceKey}`)).body
      .orders as Array<{
      kind: string;
      type: string;
      side: string;
      reduce_only: boolean;
      status: string;
      client_id: string;
    }>;
    const market = orders.filter((o) => o.kind === 'order' && /market/i.test(o.type));
    // entry buy, reduce-only sell (the close), then the short entry sell — in that order, each filled once.
    expect(market.map((o) => [o.side.toLowerCase(), o.reduce_only])).toEqual([
      ['buy', false],
      ['sell', true],
      ['sell', false],
    ]);
    expect(new Set(market.map((o) => o.client_id)).size).toBe(3);

    // OKX through worker-okx.
    const okx = await post(alert('long', 'okx', 'my_okx_account'));
    expect(okx.status, JSON.stringify(okx.body)).toBe(200);
    expect((await simAccount('okx', 'demo-okx-api-key-0001')).positions).toHaveLength(1);

    // docker compose stop: SIGTERM, and every service stops cleanly within its grace period.
    const services = running.filter((r) => r.child.exitCode === null);
    for (const r of services) r.child.kill('SIGTERM');
    const codes = await Promise.all(services.map(async (r) => [r.name, await r.exit] as const));
    expect(Object.fromEntries(codes)).toEqual(Object.fromEntries(services.map((r) => [r.name, 0])));
  }, 300_000);
});
