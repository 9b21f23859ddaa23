import { randomUUID } from 'node:crypto';
import {
  dedupKey,
  normaliseWebhook,
  QUEUES,
  signalJobSchema,
  webhookPayloadSchema,
  type SignalJob,
} from '@tradehook/contracts';
import { createPgPool } from '@tradehook/db';
import {
  createQueue,
  createRedis,
  createWorker,
  publishSignalDone,
  type Queue,
  type Worker,
} from '@tradehook/queue';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../../../tests/support/index.ts';
import { AccountCache } from '../account-cache.ts';
import { createApp } from '../app.ts';
import {
  adminHeaders,
  dumpRedisPrefix,
  startIngressHarness,
  WEBHOOK_SECRET,
  type IngressHarness,
} from '../../test/support.ts';

const OWN_SECRET = 'own-account-secret-0123456789';
const URL = '/api/v1/webhook/tradingview';

let h: IngressHarness;

/** The guide's alert message (테스트 및 검증 → 수동 Webhook 테스트). */
const guideLong = {
  account_id: 'my_binance_account',
  exchange: 'binance',
  action: 'long',
  symbol: 'BTCUSDT',
  leverage: 10,
  secret: WEBHOOK_SECRET,
};

async function register(exchange: 'binance' | 'okx', accountId: string, extra: Record<string, unknown> = {}) {
  const res = await request(h.app)
    .post(`/api/v1/accounts/${exchange}/register`)
    .set(adminHeaders)
    .send({
      account_id: accountId,
      api_key: `key-${accountId}-0123456789`,
      api_secret: `secret-${accountId}-0123456789`,
      ...(exchange === 'okx' ? { passphrase: 'okx-pass-phrase' } : {}),
      testnet: true,
      ...extra,
    });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function jobsOf(queue: Queue<SignalJob>): Promise<SignalJob[]> {
  const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized']);
  return jobs.map((j) => j.data);
}

async function signalRowCount(): Promise<number> {
  const { rows } = await h.deps.pgPool.query<{ n: string }>('SELECT count(*) AS n FROM signals');
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  // No worker answers key checks here: registration keeps the account with key_check pending.
  h = await startIngressHarness({ ACCOUNT_REQUEST_TIMEOUT_MS: '150', RATE_LIMIT_WEBHOOK_MAX: '0' });
  await register('binance', 'my_binance_account');
  await register('okx', 'my_okx_account');
  await register('binance', 'own_secret_account', { webhook_secret: OWN_SECRET });
});

afterAll(async () => {
  await h?.close();
});

describe('webhook: the guide examples', () => {
  it('accepts the guide long alert with 202, a queued row and one SignalJob without the secret', async () => {
    const res = await request(h.app).post(URL).send(guideLong);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      success: true,
      message: 'Signal accepted',
      status: 'queued',
      account_id: 'my_binance_account',
      exchange: 'binance',
      action: 'long',
      symbol: 'BTC/USDT:USDT',
    });
    const id = res.body.signal_id as string;
    expect(res.body.status_url).toBe(`/api/v1/signals/${id}`);
    expect(res.headers['x-request-id']).toBeTruthy();

    const { rows } = await h.deps.pgPool.query(
      'SELECT status, seq, seq_key, payload, request_id FROM signals WHERE id = $1',
      [id],
    );
    expect(rows[0]).toMatchObject({ status: 'queued', seq_key: 'binance:my_binance_account:BTC/USDT:USDT' });
    expect(rows[0].request_id).toBe(res.headers['x-request-id']);
    expect(rows[0].payload).not.toHaveProperty('secret');

    const job = await h.deps.queues.signals.getJob(id);
    expect(job).toBeDefined();
    const data = signalJobSchema.parse(job!.data);
    expect(data.signalId).toBe(id);
    expect(data.signal).toEqual({
      account_id: 'my_binance_account',
      exchange: 'binance',
      action: 'long',
      symbol: 'BTC/USDT:USDT',
      leverage: 10,
    });
    expect(JSON.stringify(job!.data)).not.toContain(WEBHOOK_SECRET);
  });

  it.each<[string, Record<string, unknown>]>([
    ['short', { action: 'short' }],
    ['close_long', { action: 'close_long', leverage: undefined }],
    ['close_short', { action: 'close_short', leverage: undefined }],
    ['close_all', { action: 'close_all', leverage: undefined }],
    ['long with quantity', { quantity: 0.01 }],
    ['long with stop_loss/take_profit', { stop_loss: 48000, take_profit: 52000 }],
  ])('accepts %s', async (_name, change) => {
    const res = await request(h.app)
      .post(URL)
      .send({ ...guideLong, ...change });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.action).toBe(change.action ?? 'long');
    const job = await h.deps.queues.signals.getJob(res.body.signal_id);
    const sent = job!.data.signal;
    if ('quantity' in change) expect(sent.quantity).toBe(0.01);
    if ('stop_loss' in change) expect(sent).toMatchObject({ stop_loss: 48000, take_profit: 52000 });
  });

  it('accepts the OKX account, TradingView text/plain bodies and numeric strings', async () => {
    const res = await request(h.app)
      .post(URL)
      .set('Content-Type', 'text/plain; charset=utf-8')
      .send(
        JSON.stringify({
          account_id: 'my_okx_account',
          exchange: 'OKX',
          action: 'long',
          symbol: 'OKX:BTCUSDT.P',
          quantity: '0.05',
          leverage: '5',
          price: '50123.5',
          unknown_field: 'ignored',
          secret: WEBHOOK_SECRET,
        }),
      );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ exchange: 'okx', symbol: 'BTC/USDT:USDT' });
    const job = await h.deps.queues.signals.getJob(res.body.signal_id);
    expect(job!.data.signal).toMatchObject({ quantity: 0.05, leverage: 5, price: 50123.5 });
    expect(job!.data.signal).not.toHaveProperty('unknown_field');
  });

  it.each(['ETHUSDT', 'ETHUSDT.P', 'BINANCE:ETHUSDT.P', 'ETH/USDT:USDT', 'ETH-USDT-SWAP'])(
    'normalises the symbol form %s',
    async (symbol) => {
      const res = await request(h.app)
        .post(URL)
        .send({ ...guideLong, symbol, id: `form-${symbol}` });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(res.body.symbol).toBe('ETH/USDT:USDT');
    },
  );

  it('numbers concurrent signals of one (account, symbol) 1..n without gaps or repeats', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, symbol: 'SOLUSDT', id: `seq-${i}` }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(202));
    const { rows } = await h.deps.pgPool.query<{ seq: string }>(
      `SELECT seq FROM signals WHERE seq_key = 'binance:my_binance_account:SOL/USDT:USDT' ORDER BY seq`,
    );
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('webhook: deduplication', () => {
  it('answers a repeated delivery with 409 and the original signal id, and enqueues one job', async () => {
    const body = { ...guideLong, symbol: 'XRPUSDT', quantity: 3 };
    const first = await request(h.app).post(URL).send(body);
    const second = await request(h.app).post(URL).send(body);
    // Same alert as text/plain, as TradingView would resend it.
    const third = await request(h.app).post(URL).set('Content-Type', 'text/plain').send(JSON.stringify(body));
    expect(first.status).toBe(202);
    for (const dup of [second, third]) {
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({
        success: false,
        error: { code: 'duplicate' },
        signal_id: first.body.signal_id,
      });
    }
    const jobs = (await jobsOf(h.deps.queues.signals)).filter((j) => j.signal.symbol === 'XRP/USDT:USDT');
    expect(jobs).toHaveLength(1);
    const { rows } = await h.deps.pgPool.query(`SELECT id FROM signals WHERE symbol = 'XRP/USDT:USDT'`);
    expect(rows).toHaveLength(1);
  });

  it('deduplicates by explicit alert id even when other fields differ, and in Postgres after Redis forgets', async () => {
    const first = await request(h.app)
      .post(URL)
      .send({ ...guideLong, symbol: 'ADAUSDT', alert_id: 'bar-42' });
    expect(first.status).toBe(202);
    const again = await request(h.app)
      .post(URL)
      .send({ ...guideLong, symbol: 'ADAUSDT', alert_id: 'bar-42', price: 1.5 });
    expect(again.status).toBe(409);
    // Drop the Redis fast-path marker: the unique dedup_key in Postgres is the last word.
    const keys = await h.deps.redis.keys(`${h.prefix}:dedup:*bar-42*`);
    expect(keys.length).toBe(1);
    await h.deps.redis.del(...keys);
    const late = await request(h.app)
      .post(URL)
      .send({ ...guideLong, symbol: 'ADAUSDT', id: 'bar-42' });
    expect(late.status).toBe(409);
    expect(late.body.signal_id).toBe(first.body.signal_id);
    const jobs = (await jobsOf(h.deps.queues.signals)).filter((j) => j.signal.alert_id === 'bar-42');
    expect(jobs).toHaveLength(1);
  });
});

describe('webhook: concurrent duplicates and the dedup window', () => {
  it('accepts exactly one of several simultaneous identical deliveries', async () => {
    const body = { ...guideLong, symbol: 'DOTUSDT', quantity: 7 };
    const results = await Promise.all(Array.from({ length: 6 }, () => request(h.app).post(URL).send(body)));
    const accepted = results.filter((r) => r.status === 202);
    const duplicates = results.filter((r) => r.status === 409);
    expect(accepted).toHaveLength(1);
    expect(duplicates).toHaveLength(5);
    for (const d of duplicates) expect(d.body.signal_id).toBe(accepted[0]!.body.signal_id);
    const jobs = (await jobsOf(h.deps.queues.signals)).filter((j) => j.signal.symbol === 'DOT/USDT:USDT');
    expect(jobs).toHaveLength(1);
  });

  it('accepts the same alert again once the window has passed (the next bar)', async () => {
    const app = createApp({ ...h.deps, config: { ...h.deps.config, DEDUP_WINDOW_SECONDS: 1 } });
    const body = { ...guideLong, symbol: 'LINKUSDT' };
    const first = await request(app).post(URL).send(body);
    expect(first.status).toBe(202);
    expect((await request(app).post(URL).send(body)).status).toBe(409);
    await new Promise((r) => setTimeout(r, 2100));
    const next = await request(app).post(URL).send(body);
    expect(next.status, JSON.stringify(next.body)).toBe(202);
    expect(next.body.signal_id).not.toBe(first.body.signal_id);
  });
});

describe('webhook: refusals store and enqueue nothing', () => {
  const cases: Array<[string, () => request.Test, number, string]> = [
    [
      'text/plain that is not JSON',
      () => request(h.app).post(URL).set('Content-Type', 'text/plain').send('long BTCUSDT'),
      400,
      'malformed',
    ],
    [
      'malformed JSON',
      () => request(h.app).post(URL).set('Content-Type', 'application/json').send('{"account_id":'),
      400,
      'malformed',
    ],
    ['a JSON array', () => request(h.app).post(URL).send([guideLong]), 400, 'malformed'],
    ['an empty body', () => request(h.app).post(URL), 400, 'malformed'],
    [
      'a wrong secret',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, secret: 'nope' }),
      401,
      'invalid_secret',
    ],
    [
      'the global secret for an account with its own secret',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, account_id: 'own_secret_account' }),
      401,
      'invalid_secret',
    ],
    [
      'an unknown account',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, account_id: 'nobody' }),
      404,
      'account_not_found',
    ],
    [
      'an unknown account with a wrong secret (no account probing)',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, account_id: 'nobody', secret: 'x' }),
      401,
      'invalid_secret',
    ],
    [
      'the account on the other exchange',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, exchange: 'okx' }),
      404,
      'account_not_found',
    ],
    [
      'a body over the limit',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, pad: 'x'.repeat(20_000) }),
      413,
      'payload_too_large',
    ],
    [
      'a form body',
      () => request(h.app).post(URL).type('form').send('account_id=a&secret=b'),
      415,
      'unsupported_media_type',
    ],
    [
      'a negative quantity',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, quantity: -1 }),
      422,
      'validation_failed',
    ],
    [
      'an unknown action',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, action: 'buy' }),
      422,
      'validation_failed',
    ],
    [
      'leverage 0',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, leverage: '0' }),
      422,
      'validation_failed',
    ],
    [
      'an unknown exchange',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, exchange: 'bybit' }),
      422,
      'validation_failed',
    ],
    [
      'an unparseable symbol',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, symbol: 'BTC' }),
      422,
      'validation_failed',
    ],
    [
      'a missing secret',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, secret: undefined }),
      401,
      'invalid_secret',
    ],
    [
      'a bad timestamp',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, timestamp: 'yesterday' }),
      422,
      'validation_failed',
    ],
    [
      'a stale alert',
      () =>
        request(h.app)
          .post(URL)
          .send({ ...guideLong, timestamp: new Date(Date.now() - 120_000).toISOString(), max_lag: 30 }),
      422,
      'stale_signal',
    ],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const rowsBefore = await signalRowCount();
    const jobsBefore = await h.deps.queues.signals.count();
    const res = await send();
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body).toMatchObject({ success: false, error: { code } });
    expect(typeof res.body.error.message).toBe('string');
    expect(await signalRowCount()).toBe(rowsBefore);
    expect(await h.deps.queues.signals.count()).toBe(jobsBefore);
  });

  it('names the invalid field in 422 answers', async () => {
    const res = await request(h.app)
      .post(URL)
      .send({ ...guideLong, quantity: -1 });
    expect(res.body.error.message).toContain('quantity must be greater than 0');
    expect(res.body.error.details).toEqual([
      { path: 'quantity', message: 'quantity must be greater than 0' },
    ]);
  });

  it('refuses a limit entry without its limit_price, naming the field (and accepts a complete one)', async () => {
    const bad = await request(h.app)
      .post(URL)
      .send({ ...guideLong, order_type: 'limit', cancel_after: 60 });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details).toEqual([
      { path: 'limit_price', message: 'order_type "limit" needs limit_price' },
    ]);
    const good = await request(h.app)
      .post(URL)
      .send({
        ...guideLong,
        symbol: 'SOLUSDT',
        order_type: 'limit',
        limit_price: '150.5',
        post_only: 'true',
      });
    expect(good.status, JSON.stringify(good.body)).toBe(202);
  });

  it('accepts an account-specific secret, and a fresh alert within max_lag', async () => {
    const own = await request(h.app)
      .post(URL)
      .send({ ...guideLong, account_id: 'own_secret_account', secret: OWN_SECRET });
    expect(own.status, JSON.stringify(own.body)).toBe(202);
    const fresh = await request(h.app)
      .post(URL)
      .send({ ...guideLong, symbol: 'DOGEUSDT', timestamp: Date.now() - 1000, max_lag: 30 });
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(202);
  });

  it('rate-limits per IP through Redis', async () => {
    const limited = createApp({ ...h.deps, config: { ...h.deps.config, RATE_LIMIT_WEBHOOK_MAX: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await request(limited).post(URL).send({ secret: 'x' })).status);
    expect(statuses).toEqual([422, 422, 422, 429]);
    const res = await request(limited).post(URL).send(guideLong);
    expect(res.body).toMatchObject({ success: false, error: { code: 'rate_limited' } });
    expect(await h.deps.redis.keys(`${h.prefix}:rl:webhook:*`)).not.toHaveLength(0);
  });

  it('applies the TradingView IP allow-list, honouring X-Forwarded-For only behind a trusted proxy', async () => {
    const config = {
      ...h.deps.config,
      IP_ALLOWLIST: ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'],
    };
    const direct = createApp({ ...h.deps, config });
    const forged = await request(direct).post(URL).set('X-Forwarded-For', '52.89.214.238').send(guideLong);
    expect(forged.status).toBe(403);
    const proxied = createApp({ ...h.deps, config: { ...config, TRUST_PROXY: 1 } });
    const viaProxy = await request(proxied)
      .post(URL)
      .set('X-Forwarded-For', '52.89.214.238')
      .send({ ...guideLong, symbol: 'LTCUSDT' });
    expect(viaProxy.status, JSON.stringify(viaProxy.body)).toBe(202);
    const other = await request(proxied).post(URL).set('X-Forwarded-For', '8.8.8.8').send(guideLong);
    expect(other.status).toBe(403);
  });
});

describe('webhook: database outage', () => {
  it('answers 503 (so TradingView resends) when Postgres is unreachable', async () => {
    const deadPg = createPgPool('postgresql://postgres@127.0.0.1:1/none');
    try {
      const app = createApp({ ...h.deps, pgPool: deadPg, accountCache: new AccountCache(deadPg, 0) });
      const res = await request(app)
        .post(URL)
        .send({ ...guideLong, symbol: 'AVAXUSDT' });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ success: false, error: { code: 'unavailable' } });
    } finally {
      await deadPg.end();
    }
  });
});

describe('webhook: arrival order', () => {
  it('sequences two alerts of one key in arrival order when the first one takes longer to record', async () => {
    const first = { ...guideLong, symbol: 'SOLUSDT', alert_id: 'arrival-first' };
    const second = { ...guideLong, symbol: 'SOLUSDT', action: 'close_long', alert_id: 'arrival-second' };
    // The first alert's dedup marker is held by a signal that does not exist: its intake takes an extra GET
    // and SELECT before its INSERT, as a slower path (cache miss, busy pool) would.
    const { key } = dedupKey(normaliseWebhook(webhookPayloadSchema.parse(first)));
    await h.deps.redis.set(`${h.prefix}:dedup:${key}`, randomUUID(), 'PX', 60_000);
    // Every statement on signals waits for a moment, so both requests meet inside Postgres.
    const locker = createPgPool(h.db.url, { max: 1 });
    const client = await locker.connect();
    try {
      await client.query('BEGIN');
      await client.query('LOCK TABLE signals IN ACCESS EXCLUSIVE MODE');
      const a = request(h.app)
        .post(URL)
        .send(first)
        .then((r) => r);
      await new Promise((r) => setTimeout(r, 10));
      const b = request(h.app)
        .post(URL)
        .send(second)
        .then((r) => r);
      await new Promise((r) => setTimeout(r, 150));
      await client.query('COMMIT');
      const [ra, rb] = await Promise.all([a, b]);
      expect([ra.status, rb.status]).toEqual([202, 202]);
      const { rows } = await h.deps.pgPool.query<{ id: string; seq: string }>(
        'SELECT id, seq FROM signals WHERE id = ANY($1)',
        [[ra.body.signal_id, rb.body.signal_id]],
      );
      const seq = (id: string) => Number(rows.find((r) => r.id === id)!.seq);
      expect(seq(ra.body.signal_id as string)).toBeLessThan(seq(rb.body.signal_id as string));
    } finally {
      client.release();
      await locker.end();
    }
  });
});

describe('webhook: logging', () => {
  it('writes one line per accepted webhook with request id, signal id, status and duration', async () => {
    const requestId = 'log-one-line-test';
    const res = await request(h.app)
      .post(URL)
      .set('x-request-id', requestId)
      .send({ ...guideLong, symbol: 'DOGEUSDT', alert_id: 'log-one-line' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const lines = h.logs.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['requestId'] === requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      message: 'signal accepted',
      level: 'info',
      signalId: res.body.signal_id,
      status: 202,
      path: URL,
    });
    expect(typeof lines[0]!['ms']).toBe('number');
  });
});

describe('webhook: secrets never leak', () => {
  it('keeps the webhook secrets out of logs, Redis and Postgres', async () => {
    // A refused request whose body carries the secret must not echo it either.
    await request(h.app)
      .post(URL)
      .send({ ...guideLong, secret: OWN_SECRET, quantity: 'lots' });
    const haystacks = {
      logs: h.logs.text(),
      redis: await dumpRedisPrefix(h.prefix),
      postgres: JSON.stringify((await h.deps.pgPool.query('SELECT * FROM signals')).rows),
    };
    expect(haystacks.logs).toContain('signal accepted');
    expect(haystacks.redis).toContain('BTC/USDT:USDT');
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.includes(WEBHOOK_SECRET), `global secret in ${where}`).toBe(false);
      expect(text.includes(OWN_SECRET), `account secret in ${where}`).toBe(false);
    }
  });
});

describe('webhook: ?wait and queue outages', () => {
  let w: IngressHarness;
  let cutQueue: Queue<SignalJob>;
  let risk: Worker<SignalJob>;
  const cutConnection = createRedis(TEST_REDIS_URL, 'producer');

  beforeAll(async () => {
    // The signals queue of this harness gets a connection of its own that the test can cut.
    w = await startIngressHarness(
      { ACCOUNT_REQUEST_TIMEOUT_MS: '150', WEBHOOK_WAIT_MAX_MS: '5000' },
      {
        signalsQueue: new Proxy({} as Queue<SignalJob>, {
          get: (_t, p) => Reflect.get(cutQueue, p, cutQueue),
        }),
      },
    );
    cutQueue = createQueue<SignalJob>(QUEUES.signals, cutConnection, w.prefix);
    const pub = w.deps.redis;
    // A stand-in for the risk/worker side: records an outcome and publishes "done", like the real ones.
    risk = createWorker<SignalJob>(
      QUEUES.signals,
      async (job) => {
        const { signalId, signal } = job.data;
        if (signal.action === 'close_all') return; // stays non-terminal: the wait runs out
        if (signal.leverage === 99) {
          await w.deps.pgPool.query(
            `UPDATE signals SET status='rejected', reason=$2, risk_decided_at=now() WHERE id=$1`,
            [signalId, 'leverage 99 exceeds max leverage 20'],
          );
        } else {
          const result = {
            success: true,
            exchange: signal.exchange,
            account_id: signal.account_id,
            action: signal.action,
            symbol: signal.symbol,
            results: { leverage: { leverage: signal.leverage }, entry: { id: '1' } },
          };
          await w.deps.pgPool.query(
            `UPDATE signals SET status='executed', result=$2, completed_at=now() WHERE id=$1`,
            [signalId, JSON.stringify(result)],
          );
        }
        await publishSignalDone(pub, w.prefix, signalId);
      },
      createRedis(TEST_REDIS_URL, 'worker'),
      w.prefix,
    );
    const res = await request(w.app).post('/api/v1/accounts/binance/register').set(adminHeaders).send({
      account_id: 'my_binance_account',
      api_key: 'wait-key-0123456789',
      api_secret: 'wait-secret-0123456789',
    });
    expect(res.status).toBe(201);
  });

  afterAll(async () => {
    await risk?.close();
    await cutQueue?.close();
    cutConnection.disconnect();
    await w?.close();
  });

  it('answers the guide success shape once executed', async () => {
    const res = await request(w.app).post(`${URL}?wait=5000`).send(guideLong);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      message: 'LONG order executed on binance',
      status: 'executed',
      order_details: {
        success: true,
        exchange: 'binance',
        account_id: 'my_binance_account',
        action: 'long',
        results: { entry: {} },
      },
    });
  });

  it('answers 422 with the reason when risk rejects', async () => {
    const res = await request(w.app)
      .post(`${URL}?wait=5000`)
      .send({ ...guideLong, leverage: 99 });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      success: false,
      error: { code: 'signal_rejected', message: 'leverage 99 exceeds max leverage 20' },
      status: 'rejected',
    });
  });

  it('answers 202 when the signal is still running at the deadline', async () => {
    const res = await request(w.app)
      .post(`${URL}?wait=100`)
      .send({ ...guideLong, action: 'close_all' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ success: true, status: 'queued' });
  });

  it('answers 503 when the queue is down, leaves a failed row, and accepts the resend', async () => {
    const body = { ...guideLong, symbol: 'BNBUSDT' };
    await cutQueue.waitUntilReady();
    cutConnection.disconnect();
    const down = await request(w.app).post(URL).send(body);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ success: false, error: { code: 'queue_unavailable' } });
    const { rows } = await w.deps.pgPool.query('SELECT status, reason FROM signals WHERE id = $1', [
      down.body.signal_id,
    ]);
    expect(rows[0]).toEqual({ status: 'failed', reason: 'queue unavailable' });

    await cutConnection.connect();
    const resend = await request(w.app).post(`${URL}?wait=5000`).send(body);
    expect(resend.status, JSON.stringify(resend.body)).toBe(200);
    expect(resend.body.signal_id).not.toBe(down.body.signal_id);
    const jobs = (await jobsOf(cutQueue)).filter((j) => j.signal.symbol === 'BNB/USDT:USDT');
    expect(jobs.map((j) => j.signalId)).toEqual([resend.body.signal_id]);
  });
});
