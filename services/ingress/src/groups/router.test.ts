import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  adminHeaders,
  startIngressHarness,
  WEBHOOK_SECRET,
  type IngressHarness,
} from '../../test/support.ts';

/** The groups admin API and the webhook's fan-out of a group alert, through the real app (Postgres, Redis). */
let h: IngressHarness;

async function createAccount(exchange: 'binance' | 'okx', accountId: string): Promise<void> {
  await h.deps.pgPool.query(
    `INSERT INTO accounts (id, exchange, account_id, api_key_masked, credentials, credentials_key_id)
     VALUES ($1, $2::"Exchange", $3, 'abcd…wxyz', '\\x00'::bytea, 'test-key')`,
    [randomUUID(), exchange, accountId],
  );
}

const alert = (extra: Record<string, unknown> = {}) => ({
  group_id: 'desk',
  action: 'long',
  symbol: 'BTCUSDT',
  quantity: 0.01,
  secret: WEBHOOK_SECRET,
  ...extra,
});

beforeAll(async () => {
  h = await startIngressHarness({
    RATE_LIMIT_WEBHOOK_MAX: '0',
    RATE_LIMIT_ADMIN_MAX: '0',
    ACCOUNT_CACHE_TTL_MS: '0',
  });
  for (const id of ['a1', 'a2', 'a3']) await createAccount('binance', id);
  await createAccount('okx', 'o1');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('groups admin API', () => {
  it('requires the admin token', async () => {
    await request(h.app).get('/api/v1/groups').expect(401);
  });

  it('creates a group with members, refuses a taken id, unknown accounts and both sizings', async () => {
    const res = await request(h.app)
      .post('/api/v1/groups')
      .set(adminHeaders)
      .send({
        group_id: 'desk',
        name: 'Desk',
        members: [
          { exchange: 'binance', account_id: 'a1' },
          { exchange: 'binance', account_id: 'a2', quantity_multiplier: 2 },
          { exchange: 'okx', account_id: 'o1', quantity: 0.5 },
        ],
      })
      .expect(201);
    expect(res.body.group).toMatchObject({ group_id: 'desk', name: 'Desk', member_count: 3 });
    expect(res.body.group.members).toEqual([
      expect.objectContaining({
        exchange: 'binance',
        account_id: 'a1',
        quantity: null,
        quantity_multiplier: null,
      }),
      expect.objectContaining({ exchange: 'binance', account_id: 'a2', quantity_multiplier: 2 }),
      expect.objectContaining({ exchange: 'okx', account_id: 'o1', quantity: 0.5, trading_enabled: true }),
    ]);
    await request(h.app).post('/api/v1/groups').set(adminHeaders).send({ group_id: 'desk' }).expect(409);

    const unknown = await request(h.app)
      .post('/api/v1/groups')
      .set(adminHeaders)
      .send({ group_id: 'ghosts', members: [{ exchange: 'binance', account_id: 'nobody' }] })
      .expect(422);
    expect(unknown.body.error.message).toMatch(/unknown account.*binance:nobody/);
    await request(h.app).get('/api/v1/groups/ghosts').set(adminHeaders).expect(404);

    const both = await request(h.app)
      .put('/api/v1/groups/desk/members/binance/a3')
      .set(adminHeaders)
      .send({ quantity: 1, quantity_multiplier: 2 })
      .expect(422);
    expect(both.body.error.message).toMatch(/not both/);
  });

  it('lists, gets, renames, adds/updates/removes members and deletes', async () => {
    const list = await request(h.app).get('/api/v1/groups').set(adminHeaders).expect(200);
    expect(list.body.groups).toEqual([expect.objectContaining({ group_id: 'desk', member_count: 3 })]);
    await request(h.app)
      .patch('/api/v1/groups/desk')
      .set(adminHeaders)
      .send({ name: 'Main desk' })
      .expect(200);
    await request(h.app).put('/api/v1/groups/desk/members/binance/a3').set(adminHeaders).send({}).expect(201);
    await request(h.app)
      .put('/api/v1/groups/desk/members/binance/a3')
      .set(adminHeaders)
      .send({ quantity: 0.002 })
      .expect(200);
    const got = await request(h.app).get('/api/v1/groups/desk').set(adminHeaders).expect(200);
    expect(got.body.group).toMatchObject({ name: 'Main desk', member_count: 4 });
    await request(h.app).delete('/api/v1/groups/desk/members/binance/a3').set(adminHeaders).expect(200);
    await request(h.app).delete('/api/v1/groups/desk/members/binance/a3').set(adminHeaders).expect(404);

    await request(h.app).post('/api/v1/groups').set(adminHeaders).send({ group_id: 'tmp' }).expect(201);
    await request(h.app).delete('/api/v1/groups/tmp').set(adminHeaders).expect(200);
    await request(h.app).delete('/api/v1/groups/tmp').set(adminHeaders).expect(404);
  });

  it('refuses more than 500 members', async () => {
    await request(h.app).post('/api/v1/groups').set(adminHeaders).send({ group_id: 'big' }).expect(201);
    const members = Array.from({ length: 501 }, (_, i) => ({ exchange: 'binance', account_id: `m${i}` }));
    const res = await request(h.app)
      .post('/api/v1/groups/big/members')
      .set(adminHeaders)
      .send({ members })
      .expect(422);
    expect(res.body.error.message).toMatch(/at most 500/);
  });
});

describe('group alerts at the webhook', () => {
  it('records one signal per member with its own sizing, sequence and job; a resend is a 409', async () => {
    const res = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ id: 'g-1' }))
      .expect(202);
    expect(res.body).toMatchObject({ success: true, group_id: 'desk', count: 3, status: 'queued' });
    const ids = res.body.signals.map((s: { signal_id: string }) => s.signal_id);
    expect(res.body.signal_ids).toEqual(ids);
    const { rows } = await h.deps.pgPool.query(
      `SELECT id, exchange::text AS exchange, account_id, status, seq_key, payload FROM signals
        WHERE id = ANY($1::uuid[]) ORDER BY exchange, account_id`,
      [ids],
    );
    expect(
      rows.map((r) => [r.exchange, r.account_id, r.status, r.payload.quantity, r.payload.group_id]),
    ).toEqual([
      ['binance', 'a1', 'queued', 0.01, 'desk'],
      ['binance', 'a2', 'queued', 0.02, 'desk'],
      ['okx', 'o1', 'queued', 0.5, 'desk'],
    ]);
    expect(rows[0].seq_key).toBe('binance:a1:BTC/USDT:USDT');
    for (const id of ids) expect(await h.deps.queues.signals.getJob(id)).toBeDefined();

    const dup = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ id: 'g-1' }))
      .expect(409);
    expect(dup.body.error.code).toBe('duplicate');
    expect([...dup.body.signal_ids].sort()).toEqual([...ids].sort());
    const count = await h.deps.pgPool.query(
      `SELECT count(*)::int AS n FROM signals WHERE payload->>'group_id' = 'desk'`,
    );
    expect(count.rows[0].n).toBe(3);
  });

  it('refuses unknown and empty groups, a bad secret, account_id with group_id, and a mismatched exchange', async () => {
    const unknown = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ group_id: 'nope' }))
      .expect(404);
    expect(unknown.body.error).toMatchObject({
      code: 'group_not_found',
      message: 'account group "nope" not found',
    });
    await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ group_id: 'nope', secret: 'wrong' }))
      .expect(401);
    await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ secret: 'wrong' }))
      .expect(401);
    await request(h.app).post('/api/v1/groups').set(adminHeaders).send({ group_id: 'empty' }).expect(201);
    const empty = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ group_id: 'empty' }))
      .expect(422);
    expect(empty.body.error.message).toBe('account group "empty" has no members');
    const both = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ account_id: 'a1' }))
      .expect(422);
    expect(both.body.error.message).toMatch(/account_id or group_id, not both/);
    const mixed = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ exchange: 'binance', id: 'g-2' }))
      .expect(422);
    expect(mixed.body.error.message).toMatch(/okx:o1/);
    const noSymbol = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ symbol: undefined, id: 'g-3' }))
      .expect(422);
    expect(noSymbol.body.error.message).toMatch(/symbol is required/);
  });

  it('a group with its own webhook secret takes only that one', async () => {
    await request(h.app)
      .patch('/api/v1/groups/desk')
      .set(adminHeaders)
      .send({ webhook_secret: 'desk-secret-0123456789' })
      .expect(200);
    await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ id: 'g-4' }))
      .expect(401);
    await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send(alert({ id: 'g-4', secret: 'desk-secret-0123456789' }))
      .expect(202);
    await request(h.app)
      .patch('/api/v1/groups/desk')
      .set(adminHeaders)
      .send({ webhook_secret: null })
      .expect(200);
  });

  it('single-account alerts are unchanged', async () => {
    const res = await request(h.app)
      .post('/api/v1/webhook/tradingview')
      .send({
        account_id: 'a1',
        exchange: 'binance',
        action: 'long',
        symbol: 'BTCUSDT',
        secret: WEBHOOK_SECRET,
        id: 's-1',
      })
      .expect(202);
    expect(res.body.signal_id).toEqual(expect.any(String));
    expect(res.body.signals).toBeUndefined();
  });
});

describe('groups on the dashboard', () => {
  it('lists the groups and a group page shows its members, sizing and halted members', async () => {
    const login = await request(h.app).post('/app/login').type('form').send({ token: ADMIN_TOKEN });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    await request(h.app).post('/api/v1/accounts/binance/a2/halt').set(adminHeaders).send({}).expect(200);
    const list = await request(h.app).get('/app/groups').set('Cookie', cookie).expect(200);
    expect(list.text).toContain('data-group="desk"');
    expect(list.text).toContain('href="/app/groups/desk"');
    expect(list.text).toContain('Account groups');
    const one = await request(h.app).get('/app/groups/desk').set('Cookie', cookie).expect(200);
    expect(one.text).toContain('data-member="binance/a1"');
    expect(one.text).toContain('data-member="okx/o1"');
    expect(one.text).toContain('<code>0.5</code>');
    expect(one.text.match(/data-testid="member-halted"/g)).toHaveLength(1);
    await request(h.app).get('/app/groups/nope').set('Cookie', cookie).expect(404);
    await request(h.app).get('/app/groups').expect(303);
  });
});
