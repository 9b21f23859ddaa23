import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminHeaders,
  startIngressHarness,
  WEBHOOK_SECRET,
  type IngressHarness,
} from '../../test/support.ts';

/** Partial close at the webhook: `close_pct` / `quantity` on close_long / close_short (contracts close-fields.ts). */
let h: IngressHarness;
const URL = '/api/v1/webhook/tradingview';

async function createAccount(exchange: 'binance' | 'okx', accountId: string): Promise<void> {
  await h.deps.pgPool.query(
    `INSERT INTO accounts (id, exchange, account_id, api_key_masked, credentials, credentials_key_id)
     VALUES ($1, $2::"Exchange", $3, 'abcd…wxyz', '\\x00'::bytea, 'test-key')`,
    [randomUUID(), exchange, accountId],
  );
}

const close = (extra: Record<string, unknown> = {}) => ({
  account_id: 'p1',
  exchange: 'binance',
  action: 'close_long',
  symbol: 'ETHUSDT',
  secret: WEBHOOK_SECRET,
  ...extra,
});

beforeAll(async () => {
  h = await startIngressHarness({ RATE_LIMIT_WEBHOOK_MAX: '0', ACCOUNT_CACHE_TTL_MS: '0' });
  for (const id of ['p1', 'p2', 'p3']) await createAccount('binance', id);
  await request(h.app)
    .post('/api/v1/groups')
    .set(adminHeaders)
    .send({
      group_id: 'trim',
      members: [
        { exchange: 'binance', account_id: 'p1' },
        { exchange: 'binance', account_id: 'p2', quantity_multiplier: 2 },
        { exchange: 'binance', account_id: 'p3', quantity: 0.5 },
      ],
    })
    .expect(201);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function jobSignal(signalId: string) {
  const job = await h.deps.queues.signals.getJob(signalId);
  return job!.data.signal as Record<string, unknown>;
}

describe('partial close at the webhook', () => {
  it('accepts close_pct (a TradingView string too) and quantity on close_long / close_short', async () => {
    const pct = await request(h.app)
      .post(URL)
      .send(close({ close_pct: '40', id: 'pc-1' }));
    expect(pct.status, JSON.stringify(pct.body)).toBe(202);
    expect(await jobSignal(pct.body.signal_id)).toMatchObject({ action: 'close_long', close_pct: 40 });
    const qty = await request(h.app)
      .post(URL)
      .send(close({ action: 'close_short', quantity: 0.25, id: 'pc-2' }));
    expect(qty.status, JSON.stringify(qty.body)).toBe(202);
    const signal = await jobSignal(qty.body.signal_id);
    expect(signal).toMatchObject({ action: 'close_short', quantity: 0.25 });
    expect(signal).not.toHaveProperty('close_pct');
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['close_pct 0', { close_pct: 0 }, 'close_pct', 'close_pct must be greater than 0'],
    ['a negative close_pct', { close_pct: '-5' }, 'close_pct', 'close_pct must be greater than 0'],
    [
      'close_pct over 100',
      { close_pct: 150 },
      'close_pct',
      'close_pct must be at most 100 (the whole position)',
    ],
    [
      'a close_pct that is not a number',
      { close_pct: 'half' },
      'close_pct',
      'close_pct must be a number (percent of the position, 0–100)',
    ],
    [
      'quantity and close_pct together',
      { quantity: 0.1, close_pct: 50 },
      'close_pct',
      'a close takes quantity (base amount to close) or close_pct (percent of the position), not both',
    ],
    [
      'close_pct on close_all',
      { action: 'close_all', close_pct: 50 },
      'close_pct',
      'close_pct does not apply to close_all, which closes every position in full; use close_long or close_short to close part of one',
    ],
    [
      'close_pct on an entry',
      { action: 'long', close_pct: 50 },
      'close_pct',
      'close_pct applies to close_long and close_short only (long opens a position: size it with quantity, contracts, notional, balance_pct or risk_pct)',
    ],
    [
      'an entry sizing field on a close',
      { contracts: 3 },
      'contracts',
      'contracts sizes entries; a close takes quantity (base amount to close) or close_pct (percent of the position)',
    ],
  ])('refuses %s with 422 naming the field, storing nothing', async (_name, change, path, message) => {
    const before = await h.deps.pgPool.query<{ n: number }>('SELECT count(*)::int AS n FROM signals');
    const res = await request(h.app).post(URL).send(close(change));
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toContainEqual({ path, message });
    const after = await h.deps.pgPool.query<{ n: number }>('SELECT count(*)::int AS n FROM signals');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });
});

describe('partial close of a group', () => {
  const groupClose = (extra: Record<string, unknown>) => ({
    group_id: 'trim',
    action: 'close_long',
    symbol: 'ETHUSDT',
    secret: WEBHOOK_SECRET,
    ...extra,
  });
  const quantities = async (body: { signals: Array<{ signal_id: string; account_id: string }> }) =>
    Object.fromEntries(
      await Promise.all(
        body.signals.map(async (s) => [s.account_id, (await jobSignal(s.signal_id))['quantity'] ?? null]),
      ),
    );

  it('a close without quantity stays a full close for every member, a fixed-quantity member included', async () => {
    const res = await request(h.app)
      .post(URL)
      .send(groupClose({ id: 'g-full' }))
      .expect(202);
    expect(await quantities(res.body)).toEqual({ p1: null, p2: null, p3: null });
    const pct = await request(h.app)
      .post(URL)
      .send(groupClose({ id: 'g-pct', close_pct: 30 }))
      .expect(202);
    expect(await quantities(pct.body)).toEqual({ p1: null, p2: null, p3: null });
    for (const s of pct.body.signals as Array<{ signal_id: string }>)
      expect((await jobSignal(s.signal_id))['close_pct']).toBe(30);
  });

  it('a close with quantity gives each member its share, as an entry would; close_pct on close_all is refused', async () => {
    const res = await request(h.app)
      .post(URL)
      .send(groupClose({ id: 'g-qty', quantity: 0.1 }))
      .expect(202);
    expect(await quantities(res.body)).toEqual({ p1: 0.1, p2: 0.2, p3: 0.5 });
    const all = await request(h.app)
      .post(URL)
      .send(groupClose({ action: 'close_all', close_pct: 50 }))
      .expect(422);
    expect(all.body.error.message).toMatch(/close_pct does not apply to close_all/);
  });
});
