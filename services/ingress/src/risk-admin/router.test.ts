import { randomUUID } from 'node:crypto';
import { QUEUES, type NotificationEvent, type OrderJob } from '@tradehook/contracts';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { getGlobalHalt } from '@tradehook/db';
import { createLogger } from '@tradehook/logger';
import { createQueue, createRedis, createWorker, type Worker } from '@tradehook/queue';
import { stageSeconds } from '@tradehook/metrics/pipeline';
import { dayWindow } from '@tradehook/risk';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../../tests/support/index.ts';
import { createApp } from '../app.ts';
import { loadIngressConfig } from '../config.ts';
import { buildIngressDeps, type IngressDeps } from '../deps.ts';
// The real risk service behind this ingress, for the webhook → risk → orders tests at the end.
import { riskEnvSchema } from '../../../risk/src/config.ts';
import { createRiskService, type RiskService } from '../../../risk/src/service.ts';

/**
 * The risk admin API through the real ingress app (real Postgres, real Redis for the admin guard), then the
 * whole path webhook → ingress → `signals` → risk → `orders-binance` with limits changed through that API.
 */

const ADMIN_TOKEN = 'risk-admin-token-0123456789abcdef';
const SECRET = 'risk-admin-webhook-secret';
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

let db: TestDatabase;
let prefix: string;
let deps: IngressDeps;
let app: ReturnType<typeof createApp>;
let risk: RiskService;
let orders: Worker<OrderJob>;
const forwarded = new Map<string, OrderJob>();

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testQueuePrefix();
  const config = loadIngressConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ADMIN_TOKEN,
    WEBHOOK_SECRET: SECRET,
    RATE_LIMIT_WEBHOOK_MAX: '0',
    ACCOUNT_CACHE_TTL_MS: '0',
    CREDENTIALS_PUBLIC_KEY: generateCredentialsKeyPair().publicKey,
    LOG_DIR: '',
    RATE_LIMIT_ADMIN_MAX: '0',
  });
  deps = await buildIngressDeps(config, { logger: createLogger({ service: 'ingress-test', silent: true }) });
  app = createApp(deps);
  await createAccount('binance', 'main');
  await createAccount('okx', 'other');
  risk = createRiskService(
    riskEnvSchema.parse({
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_DIR: '',
      RISK_SWEEP_INTERVAL_MS: '0',
    }),
    { logger: createLogger({ service: 'risk-test', silent: true }) },
  );
  await risk.start();
  orders = createWorker<OrderJob>(
    QUEUES.orders('binance'),
    async (job) => void forwarded.set(job.data.signalId, job.data),
    createRedis(TEST_REDIS_URL, 'worker'),
    prefix,
  );
});

afterAll(async () => {
  await orders?.close();
  await risk?.stop();
  await deps?.close(5000);
  await deleteRedisPrefix(prefix);
  await db?.drop();
});

async function createAccount(exchange: 'binance' | 'okx', accountId: string): Promise<void> {
  await deps.pgPool.query(
    `INSERT INTO accounts (id, exchange, account_id, api_key_masked, credentials, credentials_key_id)
     VALUES ($1, $2::"Exchange", $3, 'abcd…wxyz', '\\x00'::bytea, 'test-key')`,
    [randomUUID(), exchange, accountId],
  );
}

const limitsUrl = (exchange: string, accountId: string) => `/api/v1/accounts/${exchange}/${accountId}/limits`;

async function storedLimits(accountId: string) {
  const { rows } = await deps.pgPool.query(
    `SELECT l.* FROM risk_limits l JOIN accounts a ON a.id = l.account_row_id WHERE a.account_id = $1`,
    [accountId],
  );
  return rows[0] ?? null;
}

describe('risk admin API', () => {
  it('requires the admin token', async () => {
    await request(app).get(limitsUrl('binance', 'main')).expect(401);
    await request(app).post('/api/v1/risk/halt').expect(401);
    await request(app)
      .get('/api/v1/accounts/binance/main/pnl/today')
      .set({ Authorization: 'Bearer wrong' })
      .expect(401);
  });

  it('shows defaults for an account without limits, and 404 for an unknown account', async () => {
    const res = await request(app).get(limitsUrl('binance', 'main')).set(admin).expect(200);
    expect(res.body).toEqual({
      success: true,
      account_id: 'main',
      exchange: 'binance',
      limits: {
        max_leverage: null,
        leverage_policy: null,
        daily_loss_cap: null,
        max_position_notional: null,
        max_open_positions: null,
        symbol_allow_list: [],
        trading_enabled: true,
        timezone: null,
      },
      effective: {
        max_leverage: 20,
        leverage_policy: 'reject',
        daily_loss_cap: null,
        max_position_notional: null,
        max_open_positions: null,
        symbol_allow_list: [],
        trading_enabled: true,
        timezone: 'UTC',
      },
    });
    const missing = await request(app).get(limitsUrl('binance', 'ghost')).set(admin).expect(404);
    expect(missing.body.error.code).toBe('account_not_found');
    await request(app).get(limitsUrl('kraken', 'main')).set(admin).expect(400);
  });

  it('PATCH changes only the given limits (symbols normalised); PUT replaces all of them', async () => {
    const patched = await request(app)
      .patch(limitsUrl('binance', 'main'))
      .set(admin)
      .send({ max_leverage: 10, leverage_policy: 'clamp', symbol_allow_list: ['BTCUSDT.P', 'ETH-USDT-SWAP'] })
      .expect(200);
    expect(patched.body.limits).toMatchObject({
      max_leverage: 10,
      leverage_policy: 'clamp',
      symbol_allow_list: ['BTC/USDT:USDT', 'ETH/USDT:USDT'],
      daily_loss_cap: null,
    });
    const second = await request(app)
      .patch(limitsUrl('binance', 'main'))
      .set(admin)
      .send({ daily_loss_cap: 250.5, timezone: 'Asia/Seoul' })
      .expect(200);
    expect(second.body.limits).toMatchObject({
      max_leverage: 10,
      daily_loss_cap: 250.5,
      timezone: 'Asia/Seoul',
    });
    expect(second.body.effective).toMatchObject({
      max_leverage: 10,
      daily_loss_cap: 250.5,
      timezone: 'Asia/Seoul',
    });
    expect(await storedLimits('main')).toMatchObject({ max_leverage: 10, daily_loss_cap: '250.5000000000' });

    const put = await request(app)
      .put(limitsUrl('binance', 'main'))
      .set(admin)
      .send({ max_open_positions: 3 })
      .expect(200);
    expect(put.body.limits).toEqual({
      max_leverage: null,
      leverage_policy: null,
      daily_loss_cap: null,
      max_position_notional: null,
      max_open_positions: 3,
      symbol_allow_list: [],
      trading_enabled: true,
      timezone: null,
    });
    expect(put.body.effective.max_leverage).toBe(20);
  });

  it('refuses bad values with 422 and every reason, and changes nothing', async () => {
    await request(app).patch(limitsUrl('okx', 'other')).set(admin).send({ max_leverage: 5 }).expect(200);
    const before = await storedLimits('other');
    const bad = await request(app)
      .patch(limitsUrl('okx', 'other'))
      .set(admin)
      .send({
        max_leverage: 500,
        leverage_policy: 'yolo',
        daily_loss_cap: -10,
        max_open_positions: 1.5,
        symbol_allow_list: ['???'],
        timezone: 'Mars/Olympus',
        trading_enabled: 'false',
      })
      .expect(422);
    expect(bad.body.success).toBe(false);
    expect(bad.body.error.code).toBe('validation_failed');
    const fields = (bad.body.error.details as Array<{ field: string }>).map((d) => d.field).sort();
    expect(fields).toEqual([
      'daily_loss_cap',
      'leverage_policy',
      'max_leverage',
      'max_open_positions',
      'symbol_allow_list.0',
      'timezone',
      'trading_enabled',
    ]);
    expect(bad.body.error.message).toMatch(/timezone: timezone must be an IANA time zone/);

    // A typo is refused, not silently ignored; so are empty patches and non-JSON bodies.
    const typo = await request(app)
      .patch(limitsUrl('okx', 'other'))
      .set(admin)
      .send({ max_leverge: 3 })
      .expect(422);
    expect(typo.body.error.message).toMatch(/max_leverge/);
    await request(app).patch(limitsUrl('okx', 'other')).set(admin).send({}).expect(422);
    await request(app).put(limitsUrl('okx', 'other')).set(admin).send({ daily_loss_cap: 0 }).expect(422);
    await request(app)
      .patch(limitsUrl('okx', 'other'))
      .set(admin)
      .set('Content-Type', 'text/plain')
      .send('max_leverage=3')
      .expect(400);
    expect(await storedLimits('other')).toEqual(before);
  });

  it('halts and resumes one account, keeping its other limits', async () => {
    await request(app).patch(limitsUrl('okx', 'other')).set(admin).send({ max_leverage: 7 }).expect(200);
    const halted = await request(app)
      .post('/api/v1/accounts/okx/other/halt')
      .set(admin)
      .send({ reason: 'drawdown review' })
      .expect(200);
    expect(halted.body).toMatchObject({
      success: true,
      trading_enabled: false,
      account_id: 'other',
      exchange: 'okx',
    });
    expect(await storedLimits('other')).toMatchObject({ trading_enabled: false, max_leverage: 7 });
    const resumed = await request(app).post('/api/v1/accounts/okx/other/resume').set(admin).expect(200);
    expect(resumed.body.trading_enabled).toBe(true);
    expect(await storedLimits('other')).toMatchObject({ trading_enabled: true, max_leverage: 7 });
    await request(app).post('/api/v1/accounts/okx/ghost/halt').set(admin).expect(404);
  });

  it('halts and resumes globally', async () => {
    const halted = await request(app)
      .post('/api/v1/risk/halt')
      .set(admin)
      .send({ reason: 'exchange incident' })
      .expect(200);
    expect(halted.body).toMatchObject({ success: true, halted: true, reason: 'exchange incident' });
    expect(await getGlobalHalt(deps.pgPool)).toMatchObject({ halted: true, reason: 'exchange incident' });
    expect((await request(app).get('/api/v1/risk/halt').set(admin).expect(200)).body).toMatchObject({
      halted: true,
    });
    await request(app).post('/api/v1/risk/halt').set(admin).send({ reason: 42 }).expect(422);
    await request(app).post('/api/v1/risk/resume').set(admin).expect(200);
    expect(await getGlobalHalt(deps.pgPool)).toMatchObject({ halted: false });
    expect((await request(app).get('/api/v1/risk/halt').set(admin).expect(200)).body).toMatchObject({
      halted: false,
    });
  });

  it("reports today's realised PnL (fees included) and the loss budget left", async () => {
    await createAccount('binance', 'pnl');
    const today = dayWindow(Date.now(), 'UTC');
    const fill = (pnl: number, fee: number, time: Date) =>
      deps.pgPool.query(
        `INSERT INTO fills (id, exchange, account_id, trade_id, symbol, side, price, amount, fee, realized_pnl, time)
         VALUES ($1, 'binance', 'pnl', $2, 'BTC/USDT:USDT', 'sell', 50000, 0.01, $3, $4, $5)`,
        [randomUUID(), randomUUID(), fee, pnl, time],
      );
    await fill(-30, 0.5, today.start);
    await fill(10, 0.25, new Date(today.start.getTime() + 1000));
    await fill(-999, 0, new Date(today.start.getTime() - 1)); // yesterday
    const url = '/api/v1/accounts/binance/pnl/pnl/today';

    const noCap = await request(app).get(url).set(admin).expect(200);
    expect(noCap.body).toMatchObject({
      success: true,
      day: today.day,
      timezone: 'UTC',
      from: today.start.toISOString(),
      realized_pnl: -20,
      fees: 0.75,
      funding: 0,
      net_pnl: -20.75,
      fill_count: 2,
      daily_loss_cap: null,
      remaining_loss_budget: null,
      entries_blocked: false,
    });

    await request(app)
      .patch(limitsUrl('binance', 'pnl'))
      .set(admin)
      .send({ daily_loss_cap: 100 })
      .expect(200);
    expect((await request(app).get(url).set(admin).expect(200)).body).toMatchObject({
      daily_loss_cap: 100,
      remaining_loss_budget: 79.25,
      entries_blocked: false,
    });
    await request(app).patch(limitsUrl('binance', 'pnl')).set(admin).send({ daily_loss_cap: 20 }).expect(200);
    expect((await request(app).get(url).set(admin).expect(200)).body).toMatchObject({
      remaining_loss_budget: 0,
      entries_blocked: true,
    });
  });

  it('answers PnL to 8 decimals, without float noise', async () => {
    await createAccount('binance', 'noise');
    const today = dayWindow(Date.now(), 'UTC');
    await deps.pgPool.query(
      `INSERT INTO fills (id, exchange, account_id, trade_id, symbol, side, price, amount, fee, realized_pnl, time)
       VALUES ($1, 'binance', 'noise', '1', 'BTC/USDT:USDT', 'sell', 50000, 0.01, 0.1, 0.3, $2)`,
      [randomUUID(), today.start],
    );
    const res = await request(app).get('/api/v1/accounts/binance/noise/pnl/today').set(admin).expect(200);
    // 0.3 − 0.1 is 0.19999999999999998 in floating point.
    expect(res.body).toMatchObject({ realized_pnl: 0.3, fees: 0.1, net_pnl: 0.2 });
  });
});

const alert = (extra: Record<string, unknown>) => ({
  account_id: 'pipe',
  exchange: 'binance',
  symbol: 'BTCUSDT',
  secret: SECRET,
  id: randomUUID(),
  ...extra,
});

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** `GET /api/v1/signals/:id` → the signal (status, reason, risk_decided_at, …). */
const signalView = async (id: string) =>
  (await request(app).get(`/api/v1/signals/${id}`).set(admin).expect(200)).body.signal as Record<
    string,
    unknown
  >;

describe('webhook → risk pipeline', () => {
  beforeAll(() => createAccount('binance', 'pipe'));

  it('a rejection comes back on ?wait with its reason and shows in the signal look-up', async () => {
    await request(app)
      .patch('/api/v1/accounts/binance/pipe/limits')
      .set(admin)
      .send({ max_leverage: 10 })
      .expect(200);
    const res = await request(app)
      .post('/api/v1/webhook/tradingview?wait=10000')
      .send(alert({ action: 'long', leverage: 50 }));
    expect(res.body.success).toBe(false);
    expect(res.body.error.message).toMatch(
      /^leverage_above_max: leverage 50x is above the account maximum 10x/,
    );
    const id = res.body.signal_id as string;
    const view = await signalView(id);
    expect(view).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/^leverage_above_max/) });
    expect(view.risk_decided_at).toEqual(expect.any(String));
    expect(view.completed_at).toEqual(expect.any(String));
  });

  it('halt refuses entries (exits still forwarded); after resume entries go through with their limits', async () => {
    await request(app).post('/api/v1/risk/halt').set(admin).send({ reason: 'pipeline test' }).expect(200);
    const entry = await request(app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ action: 'short' }));
    expect(entry.status).toBe(202);
    const entryId = entry.body.signal_id as string;
    const rejected = await until('the halt rejection', async () => {
      const v = await signalView(entryId);
      return v.status === 'rejected' ? v : undefined;
    });
    expect(rejected.reason).toMatch(/^halted: trading is halted for all accounts \(pipeline test\)/);

    const exit = await request(app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ action: 'close_short' }));
    const exitId = exit.body.signal_id as string;
    expect((await until('the exit order job', async () => forwarded.get(exitId))).signal.action).toBe(
      'close_short',
    );

    await request(app).post('/api/v1/risk/resume').set(admin).expect(200);
    const again = await request(app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ action: 'long', leverage: '5' }));
    const againId = again.body.signal_id as string;
    const job = await until('the entry order job', async () => forwarded.get(againId));
    expect(job.limits).toEqual({ leverage: 5, maxLeverage: 10 });
    expect((await signalView(againId)).status).toBe('approved');
  });

  it('tells the traders: kill switch on/off (global and per account) and the rejection risk made', async () => {
    const notifications = createQueue(QUEUES.notifications, deps.redis, prefix);
    const events = async () => {
      await deps.notifications.settled();
      const jobs = await notifications.getJobs(['waiting', 'prioritized', 'delayed']);
      return jobs.map((j) => (j.data as { event: NotificationEvent }).event);
    };
    try {
      await notifications.obliterate({ force: true });
      await request(app)
        .post('/api/v1/accounts/binance/pipe/halt')
        .set(admin)
        .send({ reason: 'vacation' })
        .expect(200);
      const res = await request(app)
        .post('/api/v1/webhook/tradingview?wait=10000')
        .send(alert({ action: 'long' }));
      expect(res.body.error.message).toMatch(/^account_halted/);
      await request(app).post('/api/v1/accounts/binance/pipe/resume').set(admin).expect(200);
      await request(app).post('/api/v1/risk/halt').set(admin).send({ reason: 'maintenance' }).expect(200);
      await request(app).post('/api/v1/risk/resume').set(admin).expect(200);
      const seen = await until('the notification events', async () => {
        const list = await events();
        return list.length >= 5 ? list : undefined;
      });
      const byKind = (kind: string) => seen.filter((e) => e.kind === kind);
      expect(byKind('kill_switch')).toHaveLength(4);
      expect(byKind('kill_switch')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ exchange: 'binance', accountId: 'pipe', on: true, reason: 'vacation' }),
          expect.objectContaining({ exchange: 'binance', accountId: 'pipe', on: false }),
          expect.objectContaining({ on: true, reason: 'maintenance' }),
          expect.objectContaining({ on: false, reason: null }),
        ]),
      );
      expect(byKind('kill_switch').filter((e) => !('accountId' in e))).toHaveLength(2); // the global ones
      expect(byKind('signal_rejected')).toEqual([
        expect.objectContaining({
          accountId: 'pipe',
          signalId: res.body.signal_id,
          stage: 'risk',
          reason: expect.stringMatching(/^account_halted/),
        }),
      ]);
      expect(JSON.stringify(seen)).not.toContain(ADMIN_TOKEN);
      // Risk timed each decision it made in this file (received → decided).
      const decided = (await stageSeconds.get()).values.find(
        (v) => v.metricName === 'tradehook_stage_seconds_count' && v.labels['stage'] === 'decided',
      );
      expect(decided?.value).toBeGreaterThanOrEqual(4);
    } finally {
      await notifications.close();
    }
  });
});
