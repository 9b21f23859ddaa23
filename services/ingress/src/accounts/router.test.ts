import { QUEUES, type AccountRequestJob, type AccountStatus, type KeyCheck } from '@tradehook/contracts';
import { CredentialsOpener, credentialsAad } from '@tradehook/credentials';
import { createPgPool } from '@tradehook/db';
import { createRedis, createWorker, type Worker } from '@tradehook/queue';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../../../tests/support/index.ts';
import { createApp } from '../app.ts';
import {
  adminHeaders,
  dumpRedisPrefix,
  startIngressHarness,
  WEBHOOK_SECRET,
  type IngressHarness,
} from '../../test/support.ts';

let h: IngressHarness;
const workers: Worker[] = [];
const seenRequests: AccountRequestJob[] = [];

const binanceGuide = {
  account_id: 'my_binance_account',
  api_key: 'YOUR_BINANCE_API_KEY_abcd1234',
  api_secret: 'YOUR_BINANCE_API_SECRET_efgh5678',
  testnet: true,
};
const okxGuide = {
  account_id: 'my_okx_account',
  api_key: 'YOUR_OKX_API_KEY_ijkl9012',
  api_secret: 'YOUR_OKX_API_SECRET_mnop3456',
  passphrase: 'YOUR_OKX_PASSPHRASE_qrst',
  testnet: true,
};
const ALL_SECRETS = [
  binanceGuide.api_key,
  binanceGuide.api_secret,
  okxGuide.api_key,
  okxGuide.api_secret,
  okxGuide.passphrase,
];

function statusOf(job: AccountRequestJob): AccountStatus {
  return {
    account_id: job.accountId,
    exchange: job.exchange,
    balance: { asset: 'USDT', available_balance: 10000, total_balance: 10000 },
    positions: [],
    open_orders: [],
  };
}

/**
 * A stand-in for the workers' answering side (a real BullMQ Worker on the real queue): it opens the sealed
 * credentials with the private key, as a worker does, and answers by account id.
 */
function startAccountWorker(exchange: 'binance' | 'okx') {
  const opener = new CredentialsOpener(h.credentialsPrivateKey);
  const worker = createWorker<AccountRequestJob, KeyCheck | AccountStatus>(
    QUEUES.accountRequests(exchange),
    async (job) => {
      seenRequests.push(job.data);
      if (job.data.kind === 'status') {
        if (job.data.accountId === 'broken_account') throw new Error('exchange unreachable: ECONNREFUSED');
        return statusOf(job.data);
      }
      const row = await h.deps.prisma.account.findUniqueOrThrow({
        where: { exchange_accountId: { exchange, accountId: job.data.accountId } },
      });
      const creds = opener.open(row.credentials, credentialsAad(exchange, job.data.accountId));
      const base = { checkedAt: new Date().toISOString(), positionMode: 'oneway' as const };
      if (creds.apiKey.includes('WITHDRAW')) {
        return {
          ...base,
          ok: false,
          canRead: true,
          canTrade: true,
          canWithdraw: true,
          message: 'API key can withdraw: refused',
        };
      }
      if (creds.apiKey.includes('BADAUTH')) {
        return {
          ...base,
          ok: false,
          canRead: false,
          canTrade: null,
          canWithdraw: null,
          message: 'Invalid API-key, IP, or permissions for action',
        };
      }
      return { ...base, ok: true, canRead: true, canTrade: true, canWithdraw: false };
    },
    createRedis(TEST_REDIS_URL, 'worker'),
    h.prefix,
  );
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  h = await startIngressHarness({ ACCOUNT_REQUEST_TIMEOUT_MS: '1000' });
  startAccountWorker('binance');
  startAccountWorker('okx');
  await Promise.all(workers.map((w) => w.waitUntilReady()));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await h?.close();
});

describe('accounts: registration (guide examples)', () => {
  it('registers the guide Binance account with the guide success shape and a passed key check', async () => {
    const res = await request(h.app)
      .post('/api/v1/accounts/binance/register')
      .set(adminHeaders)
      .send(binanceGuide);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      success: true,
      message: 'Binance account registered successfully',
      account_id: 'my_binance_account',
      exchange: 'binance',
      key_check: { status: 'ok', ok: true, can_withdraw: false },
    });
    const row = await h.deps.prisma.account.findFirstOrThrow({ where: { accountId: 'my_binance_account' } });
    expect(row).toMatchObject({ testnet: true, apiKeyMasked: 'YOUR…1234', keyCheck: { status: 'ok' } });
    expect(seenRequests.some((r) => r.kind === 'verify' && r.accountId === 'my_binance_account')).toBe(true);
  });

  it('registers the guide OKX account, requiring the passphrase', async () => {
    const missing = await request(h.app)
      .post('/api/v1/accounts/okx/register')
      .set(adminHeaders)
      .send({ ...okxGuide, passphrase: undefined, account_id: 'okx_without_passphrase' });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ code: 'validation_failed' });
    expect(missing.body.error.message).toContain('passphrase is required for OKX');

    const res = await request(h.app).post('/api/v1/accounts/okx/register').set(adminHeaders).send(okxGuide);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      success: true,
      message: 'OKX account registered successfully',
      exchange: 'okx',
    });
  });

  it('seals credentials: no plaintext in the raw row, only the private key opens them, bound to the account', async () => {
    const { rows } = await h.deps.pgPool.query<Record<string, unknown>>('SELECT * FROM accounts');
    const raw = Buffer.concat(
      rows.map((r) =>
        Buffer.concat([r.credentials as Buffer, Buffer.from(JSON.stringify({ ...r, credentials: null }))]),
      ),
    );
    for (const secret of ALL_SECRETS) expect(raw.includes(Buffer.from(secret)), secret).toBe(false);
    const okx = rows.find((r) => r.account_id === 'my_okx_account')!;
    const opener = new CredentialsOpener(h.credentialsPrivateKey);
    expect(opener.open(okx.credentials as Buffer, credentialsAad('okx', 'my_okx_account'))).toEqual({
      apiKey: okxGuide.api_key,
      apiSecret: okxGuide.api_secret,
      passphrase: okxGuide.passphrase,
    });
    expect(() => opener.open(okx.credentials as Buffer, credentialsAad('okx', 'someone_else'))).toThrow();
  });

  it('refuses a second registration with 409 and rotates keys with ?replace=true', async () => {
    const again = await request(h.app)
      .post('/api/v1/accounts/binance/register')
      .set(adminHeaders)
      .send(binanceGuide);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    const rotated = await request(h.app)
      .post('/api/v1/accounts/binance/register?replace=true')
      .set(adminHeaders)
      .send({ ...binanceGuide, api_key: 'ROTATED_KEY_0000_9999', api_secret: 'ROTATED_SECRET_0000_9999' });
    expect(rotated.status).toBe(200);
    expect(rotated.body.message).toBe('Binance account updated successfully');
    const row = await h.deps.prisma.account.findFirstOrThrow({ where: { accountId: 'my_binance_account' } });
    expect(row.apiKeyMasked).toBe('ROTA…9999');
  });

  it('refuses a key with withdrawal permission: 422, no row left', async () => {
    const res = await request(h.app).post('/api/v1/accounts/binance/register').set(adminHeaders).send({
      account_id: 'withdraw_account',
      api_key: 'KEY_WITHDRAW_12345678',
      api_secret: 'secret-12345678',
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'key_rejected', message: 'API key can withdraw: refused' });
    expect(await h.deps.prisma.account.count({ where: { accountId: 'withdraw_account' } })).toBe(0);
  });

  it('refuses a key the exchange does not accept; a refused rotation keeps the previous keys', async () => {
    const res = await request(h.app)
      .put('/api/v1/accounts/okx/register')
      .set(adminHeaders)
      .send({ ...okxGuide, api_key: 'KEY_BADAUTH_12345678' });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe('Invalid API-key, IP, or permissions for action');
    const row = await h.deps.prisma.account.findFirstOrThrow({ where: { accountId: 'my_okx_account' } });
    const opener = new CredentialsOpener(h.credentialsPrivateKey);
    expect(opener.open(row.credentials, credentialsAad('okx', 'my_okx_account')).apiKey).toBe(
      okxGuide.api_key,
    );
    expect(row.keyCheck).toMatchObject({ status: 'ok' });
  });

  it('keeps the account with key_check pending when no worker answers in time', async () => {
    await Promise.all(workers.map((w) => w.pause()));
    try {
      const res = await request(h.app).post('/api/v1/accounts/binance/register').set(adminHeaders).send({
        account_id: 'pending_account',
        api_key: 'pending-key-12345678',
        api_secret: 'pending-secret-12345678',
        webhook_secret: 'pending-webhook-secret-123',
      });
      expect(res.status).toBe(201);
      expect(res.body.key_check).toMatchObject({
        status: 'pending',
        message: 'no worker answered; the key will be checked on first use',
      });
      // The unanswered request was withdrawn, so a worker coming back does not check a stale request.
      expect(await h.deps.queues.accountRequests.binance.getWaitingCount()).toBe(0);
    } finally {
      workers.forEach((w) => w.resume());
    }
  });

  it('validates registration bodies', async () => {
    const res = await request(h.app)
      .post('/api/v1/accounts/binance/register')
      .set(adminHeaders)
      .send({ account_id: 'bad id!', api_key: 'short', api_secret: 'x' });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      'account_id',
      'api_key',
      'api_secret',
    ]);
    const unknown = await request(h.app)
      .post('/api/v1/accounts/bybit/register')
      .set(adminHeaders)
      .send(binanceGuide);
    expect(unknown.status).toBe(422);
  });
});

describe('accounts: admin auth, list, status, delete', () => {
  it.each([
    ['POST', '/api/v1/accounts/binance/register'],
    ['GET', '/api/v1/accounts/list'],
    ['GET', '/api/v1/accounts/status/my_binance_account?exchange=binance'],
    ['DELETE', '/api/v1/accounts/binance/my_binance_account'],
    ['GET', '/api/v1/signals?exchange=binance&account_id=my_binance_account'],
  ])('%s %s needs the admin token', async (method, path) => {
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${adminHeaders.Authorization.slice(7)}`]) {
      const req = request(h.app)[method.toLowerCase() as 'get'](path);
      const res = await (auth ? req.set('Authorization', auth) : req);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('lists accounts with masked keys and never a secret', async () => {
    const res = await request(h.app).get('/api/v1/accounts/list').set(adminHeaders);
    expect(res.status).toBe(200);
    expect(res.body.accounts.map((a: { account_id: string }) => a.account_id)).toEqual([
      'my_binance_account',
      'pending_account',
      'my_okx_account',
    ]);
    expect(res.body.accounts[1]).toMatchObject({
      exchange: 'binance',
      has_webhook_secret: true,
      api_key: 'pend…5678',
    });
    const text = JSON.stringify(res.body);
    for (const s of [...ALL_SECRETS, 'ROTATED_SECRET_0000_9999', 'pending-webhook-secret-123'])
      expect(text).not.toContain(s);
    expect(text).not.toContain('credentials');
  });

  it('answers the guide account status shape from a worker', async () => {
    const res = await request(h.app)
      .get('/api/v1/accounts/status/my_binance_account?exchange=binance')
      .set(adminHeaders);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      account_id: 'my_binance_account',
      exchange: 'binance',
      balance: { asset: 'USDT', available_balance: 10000, total_balance: 10000 },
      positions: [],
      open_orders: [],
    });
    // ?exchange= may be left out when the id is unique across exchanges.
    const implicit = await request(h.app).get('/api/v1/accounts/status/my_okx_account').set(adminHeaders);
    expect(implicit.body.exchange).toBe('okx');
  });

  it('answers 404 for an unknown account, 502 for a worker error and 504 when no worker answers', async () => {
    const unknown = await request(h.app)
      .get('/api/v1/accounts/status/nobody?exchange=binance')
      .set(adminHeaders);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({ code: 'account_not_found', message: 'Account not found' });

    await h.deps.prisma.account.update({
      where: { exchange_accountId: { exchange: 'binance', accountId: 'pending_account' } },
      data: { accountId: 'broken_account' },
    });
    const broken = await request(h.app)
      .get('/api/v1/accounts/status/broken_account?exchange=binance')
      .set(adminHeaders);
    expect(broken.status).toBe(502);
    expect(broken.body.error).toMatchObject({
      code: 'exchange_error',
      message: 'exchange unreachable: ECONNREFUSED',
    });

    await Promise.all(workers.map((w) => w.pause()));
    try {
      const res = await request(h.app)
        .get('/api/v1/accounts/status/my_okx_account?exchange=okx')
        .set(adminHeaders);
      expect(res.status).toBe(504);
      expect(res.body.error.code).toBe('timeout');
    } finally {
      workers.forEach((w) => w.resume());
    }
  });

  it('deletes by /:exchange/:account_id and by /:account_id?exchange=, and the webhook then says Account not found', async () => {
    const webhook = {
      account_id: 'my_okx_account',
      exchange: 'okx',
      action: 'long',
      symbol: 'BTC-USDT-SWAP',
      secret: WEBHOOK_SECRET,
    };
    expect((await request(h.app).post('/api/v1/webhook/tradingview').send(webhook)).status).toBe(202);

    const del = await request(h.app).delete('/api/v1/accounts/my_okx_account?exchange=okx').set(adminHeaders);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({
      success: true,
      message: 'Account deleted',
      account_id: 'my_okx_account',
      exchange: 'okx',
    });
    const after = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send({ ...webhook, id: 'after-delete' });
    expect(after.status).toBe(404);
    expect(after.body.error.message).toBe('Account not found');

    const del2 = await request(h.app).delete('/api/v1/accounts/binance/broken_account').set(adminHeaders);
    expect(del2.status).toBe(200);
    const again = await request(h.app).delete('/api/v1/accounts/binance/broken_account').set(adminHeaders);
    expect(again.status).toBe(404);
  });
});

describe('signals look-up', () => {
  it('shows one signal with its orders, and pages an account list newest first', async () => {
    const ids: string[] = [];
    for (const symbol of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) {
      const res = await request(h.app).post('/api/v1/webhook/tradingview').send({
        account_id: 'my_binance_account',
        exchange: 'binance',
        action: 'long',
        symbol,
        secret: WEBHOOK_SECRET,
      });
      expect(res.status).toBe(202);
      ids.push(res.body.signal_id);
    }
    await h.deps.pgPool.query(
      `UPDATE signals SET status='rejected', reason='daily loss cap reached', risk_decided_at=now() WHERE id=$1`,
      [ids[0]],
    );
    await h.deps.pgPool.query(
      `INSERT INTO orders (id, signal_id, exchange, account_id, client_order_id, leg, symbol, side, type, amount, status)
       VALUES (gen_random_uuid(), $1, 'binance', 'my_binance_account', 'thTESTorder1E', 'entry', 'ETH/USDT:USDT', 'buy', 'market', 0.5, 'filled')`,
      [ids[1]],
    );

    const one = await request(h.app).get(`/api/v1/signals/${ids[0]}`).set(adminHeaders);
    expect(one.status).toBe(200);
    expect(one.body.signal).toMatchObject({
      id: ids[0],
      status: 'rejected',
      reason: 'daily loss cap reached',
      seq: 1,
      orders: [],
    });
    expect(one.body.signal.risk_decided_at).toBeTruthy();
    const withOrder = await request(h.app).get(`/api/v1/signals/${ids[1]}`).set(adminHeaders);
    expect(withOrder.body.signal.orders).toEqual([
      expect.objectContaining({
        client_order_id: 'thTESTorder1E',
        leg: 'entry',
        amount: '0.5',
        status: 'filled',
      }),
    ]);
    expect((await request(h.app).get('/api/v1/signals/not-a-uuid').set(adminHeaders)).status).toBe(404);
    expect(
      (await request(h.app).get('/api/v1/signals/00000000-0000-4000-8000-000000000000').set(adminHeaders))
        .status,
    ).toBe(404);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(h.app)
        .get('/api/v1/signals')
        .query({
          exchange: 'binance',
          account_id: 'my_binance_account',
          limit: 2,
          ...(cursor ? { cursor } : {}),
        })
        .set(adminHeaders);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.signals.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.signals.map((s: { id: string }) => s.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const bad = await request(h.app)
      .get('/api/v1/signals')
      .query({ exchange: 'binance', account_id: 'x', cursor: 'zzz' })
      .set(adminHeaders);
    expect(bad.status).toBe(422);

    // Every filter alone, as the README and the guide use them.
    const byStatus = await request(h.app).get('/api/v1/signals?status=rejected').set(adminHeaders);
    expect(byStatus.status, JSON.stringify(byStatus.body)).toBe(200);
    expect(byStatus.body.signals.map((s: { id: string }) => s.id)).toEqual([ids[0]]);
    const byAccount = await request(h.app)
      .get('/api/v1/signals?account_id=my_binance_account')
      .set(adminHeaders);
    expect(byAccount.status).toBe(200);
    expect(byAccount.body.signals.map((s: { id: string }) => s.id)).toEqual([...ids].reverse());
    const all = await request(h.app).get('/api/v1/signals?limit=1').set(adminHeaders);
    expect(all.status).toBe(200);
    expect(all.body.signals.map((s: { id: string }) => s.id)).toEqual([ids[2]]);
    expect(all.body.next_cursor).toBeTruthy();
  });
});

describe('health', () => {
  it('answers the guide shape with dependency checks', async () => {
    const res = await request(h.app).get('/api/v1/webhook/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'healthy',
      service: 'TradingView Webhook Receiver',
      registered_accounts: { binance: 1, okx: 0 },
      checks: { postgres: 'ok', redis: 'ok' },
      // The test's stand-in workers consume the account-request queues.
      workers: { binance: 1, okx: 1 },
    });
  });

  it('answers 503 naming the failed dependency', async () => {
    const deadRedis = createRedis('redis://127.0.0.1:1', 'producer', { retryStrategy: () => null });
    deadRedis.on('error', () => undefined);
    const deadPg = createPgPool('postgresql://postgres@127.0.0.1:1/none');
    try {
      const noRedis = await request(createApp({ ...h.deps, redis: deadRedis })).get('/api/v1/webhook/health');
      expect(noRedis.status).toBe(503);
      expect(noRedis.body).toMatchObject({
        status: 'unhealthy',
        checks: { postgres: 'ok', redis: 'failed' },
      });
      const noPg = await request(createApp({ ...h.deps, pgPool: deadPg })).get('/api/v1/webhook/health');
      expect(noPg.status).toBe(503);
      expect(noPg.body).toMatchObject({ status: 'unhealthy', checks: { postgres: 'failed', redis: 'ok' } });
    } finally {
      deadRedis.disconnect();
      await deadPg.end();
    }
  });
});

describe('secrets never leak from registration', () => {
  it('keeps API keys, secrets and passphrases out of logs and Redis', async () => {
    const logs = h.logs.text();
    expect(logs).toContain('account registered');
    const redis = await dumpRedisPrefix(h.prefix);
    expect(redis).toContain('verify');
    for (const secret of [
      ...ALL_SECRETS,
      'ROTATED_SECRET_0000_9999',
      'pending-webhook-secret-123',
      'KEY_BADAUTH_12345678',
    ]) {
      expect(logs.includes(secret), `logs contain ${secret}`).toBe(false);
      expect(redis.includes(secret), `redis contains ${secret}`).toBe(false);
    }
  });
});
