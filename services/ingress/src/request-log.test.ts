import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, startIngressHarness, WEBHOOK_SECRET, type IngressHarness } from '../test/support.ts';

/** What an operator reads in the ingress log: refused alerts (who and why), duplicates and admin calls. */
const URL = '/api/v1/webhook/tradingview';
let h: IngressHarness;

const alert = {
  account_id: 'log_account',
  exchange: 'binance',
  action: 'long',
  symbol: 'BTCUSDT',
  secret: WEBHOOK_SECRET,
};

function linesOf(requestId: string): Record<string, unknown>[] {
  return h.logs.lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['requestId'] === requestId && l['level'] !== 'http');
}

beforeAll(async () => {
  h = await startIngressHarness({ ACCOUNT_REQUEST_TIMEOUT_MS: '150', RATE_LIMIT_WEBHOOK_MAX: '0' });
  const res = await request(h.app)
    .post('/api/v1/accounts/binance/register')
    .set(adminHeaders)
    .send({ account_id: 'log_account', api_key: 'key-log-0123456789', api_secret: 'secret-log-0123456789' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
});

afterAll(async () => {
  await h?.close();
});

describe('ingress request log', () => {
  it('logs a refused webhook once, with the source IP and the reason, never the body', async () => {
    const res = await request(h.app)
      .post(URL)
      .set('x-request-id', 'refused-bad-secret')
      .send({ ...alert, secret: 'wrong-secret-value-123' });
    expect(res.status).toBe(401);
    const lines = linesOf('refused-bad-secret');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      message: 'webhook refused',
      status: 401,
      code: res.body.error.code,
      reason: res.body.error.message,
    });
    expect(lines[0]!['ip']).toMatch(/127\.0\.0\.1|::1/);
    expect(h.logs.text()).not.toContain('wrong-secret-value-123');
  });

  it('logs a schema refusal with its reason', async () => {
    const res = await request(h.app)
      .post(URL)
      .set('x-request-id', 'refused-schema')
      .send({ ...alert, action: 'moon' });
    expect(res.status).toBe(422);
    expect(linesOf('refused-schema')).toMatchObject([
      { level: 'warn', message: 'webhook refused', status: 422 },
    ]);
  });

  it('logs a duplicate alert (409)', async () => {
    const body = { ...alert, alert_id: 'log-dup-1' };
    expect((await request(h.app).post(URL).send(body)).status).toBe(202);
    const again = await request(h.app).post(URL).set('x-request-id', 'dup-again').send(body);
    expect(again.status).toBe(409);
    expect(linesOf('dup-again')).toMatchObject([
      { level: 'warn', message: 'duplicate webhook refused', status: 409, code: 'duplicate' },
    ]);
  });

  it('logs admin calls, refused ones included, without the token', async () => {
    await request(h.app).get('/api/v1/accounts/list').set(adminHeaders).set('x-request-id', 'admin-ok');
    await request(h.app)
      .get('/api/v1/accounts/list')
      .set('Authorization', 'Bearer not-the-admin-token-xyz')
      .set('x-request-id', 'admin-bad');
    expect(linesOf('admin-ok')).toMatchObject([
      { level: 'info', message: 'admin call', method: 'GET', path: '/api/v1/accounts/list', status: 200 },
    ]);
    expect(linesOf('admin-bad')).toMatchObject([{ level: 'info', message: 'admin call', status: 401 }]);
    expect(h.logs.text()).not.toContain('not-the-admin-token-xyz');
  });
});
