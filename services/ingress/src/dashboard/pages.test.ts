import { dailyRealisedPnl, insertFills, type NewFill } from '@tradehook/db';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startIngressHarness, type IngressHarness } from '../../test/support.ts';
import { escapeHtml, html } from './html.ts';

const fill = (tradeId: string, time: string, realizedPnl: number, fee: number): NewFill => ({
  tradeId,
  exchangeOrderId: `o-${tradeId}`,
  clientOrderId: null,
  symbol: 'BTC/USDT:USDT',
  side: 'sell',
  price: 50_000,
  amount: 0.01,
  fee,
  feeAsset: 'USDT',
  realizedPnl,
  time: new Date(time),
});

describe('html template', () => {
  it('escapes every interpolated value, including inside attributes and arrays', () => {
    const hostile = `<script>alert(1)</script>" onmouseover="x'`;
    const out = html`<td title="${hostile}">${[hostile, 1]}</td>`.text;
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('" onmouseover');
    expect(out).toBe(`<td title="${escapeHtml(hostile)}">${escapeHtml(hostile)}1</td>`);
    // Already-built fragments are kept as markup.
    expect(html`<p>${html`<b>x</b>`}</p>`.text).toBe('<p><b>x</b></p>');
  });
});

describe('dashboard pages', () => {
  let h: IngressHarness;
  let cookie: string;
  beforeAll(async () => {
    h = await startIngressHarness();
    const now = Date.now();
    const day = 24 * 3600 * 1000;
    await insertFills(h.deps.pgPool, 'binance', 'acct_a', [
      fill('t1', new Date(now - 2 * day).toISOString(), 12.5, 0.5),
      fill('t2', new Date(now - 2 * day + 1000).toISOString(), -2.5, 0.5),
      fill('t3', new Date(now).toISOString(), -4, 1),
    ]);
    await insertFills(h.deps.pgPool, 'okx', 'acct_b', [fill('t4', new Date(now).toISOString(), 3, 0.25)]);
    const login = await request(h.app).post('/app/login').type('form').send({ token: ADMIN_TOKEN });
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('groups realised PnL and fees per account per day', async () => {
    const rows = await dailyRealisedPnl(h.deps.pgPool, new Date(Date.now() - 7 * 24 * 3600 * 1000), 'UTC');
    expect(rows.map((r) => [r.exchange, r.accountId, r.realizedPnl, r.fees, r.netPnl, r.fillCount])).toEqual([
      ['binance', 'acct_a', 10, 1, 9, 2],
      ['binance', 'acct_a', -4, 1, -5, 1],
      ['okx', 'acct_b', 3, 0.25, 2.75, 1],
    ]);
    expect(rows[0]!.day < rows[1]!.day).toBe(true);
  });

  it('renders the PnL page with a bar per account and day, and refuses a bad range', async () => {
    const res = await request(h.app).get('/app/pnl?days=7').set('Cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.text.match(/<rect\s/g)).toHaveLength(2 * 2); // two days × two accounts
    expect(res.text).toContain('binance/acct_a');
    expect(res.text).toContain('-5.00');
    const bad = await request(h.app).get('/app/pnl?days=abc').set('Cookie', cookie);
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('days must be a whole number');
  });

  it('answers an unknown signal or account with 404 pages, and sends no-store everywhere', async () => {
    for (const path of [
      '/app/signals/not-a-uuid',
      '/app/accounts/binance/nobody',
      '/app/accounts/kraken/x',
    ]) {
      const res = await request(h.app).get(path).set('Cookie', cookie);
      expect(res.status, path).toBe(404);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('refuses a bad signal filter with a clear message', async () => {
    const res = await request(h.app).get('/app/signals?status=nonsense').set('Cookie', cookie);
    expect(res.status).toBe(422);
    expect(res.text).toContain('status');
  });
});
