/// <reference lib="dom" />
/**
 * The dashboard in a real browser against the whole pipeline: headless Chromium (tests/e2e/browser.ts) on
 * the ingress child process of the E2E harness, with risk, a Binance worker and the simulator behind it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { getGlobalHalt } from '../../packages/db/src/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, SCREENSHOT_DIR, type Browser } from './browser.ts';
import { E2EHarness } from './harness.ts';

let h: E2EHarness;
let browser: Browser;
let page: Page;
const accountId = `dash_${randomBytes(3).toString('hex')}`;
/** Every secret the browser typed or saw, checked against all service logs at the end. */
const typedSecrets: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
const url = (path: string) => `${h.ingressUrl}${path}`;

async function simAccount(apiKey: string, apiSecret: string): Promise<void> {
  await h.simControl('accounts', {
    exchange: 'binance',
    api_key: apiKey,
    api_secret: apiSecret,
    position_mode: 'oneway',
    balance: 10_000,
  });
}

async function waitForFills(signalId: string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const { rows } = await h.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM fills f
         JOIN orders o ON o.exchange_order_id = f.exchange_order_id OR o.client_order_id = f.client_order_id
        WHERE o.signal_id = $1`,
      [signalId],
    );
    if ((rows[0]?.n ?? 0) > 0) return;
    if (Date.now() > until) throw new Error(`no fills recorded for signal ${signalId}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  h = await E2EHarness.start({
    workers: { binance: 1, okx: 0 },
    roleEnv: { worker: { FILL_SYNC_INTERVAL_MS: '1000' } },
  });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('dialog', (dialog) => void dialog.accept());
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
}, 60_000);

describe('dashboard in a real browser', () => {
  it('logs in with the admin token; the browser keeps only an httpOnly session cookie', async () => {
    await page.goto(url('/app'));
    expect(new URL(page.url()).pathname).toBe('/app/login');
    await shot('login');
    await page.fill('[data-testid=token]', 'wrong-token-000000000');
    await page.click('[data-testid=login]');
    await expect.poll(() => page.textContent('[data-testid=flash]')).toContain('Wrong admin token');

    await page.fill('[data-testid=token]', h.adminToken);
    await page.click('[data-testid=login]');
    await page.waitForURL(url('/app'));
    await page.waitForSelector('[data-testid=health]');
    const cookies = await browser.context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({
      name: 'tradehook_session',
      httpOnly: true,
      sameSite: 'Strict',
      path: '/app',
    });
    expect(cookies[0]!.value).not.toContain(h.adminToken);
    const stored = await page.evaluate(() => ({
      cookie: document.cookie,
      local: localStorage.length,
      session: sessionStorage.length,
    }));
    expect(stored).toEqual({ cookie: '', local: 0, session: 0 });
    expect(await page.content()).not.toContain(h.adminToken);
    expect(await page.textContent('[data-testid=workers-binance]')).toContain('ok');
    await shot('overview');
  });

  it('refuses a refused key with a clear message and stores nothing, then registers a good one', async () => {
    const apiKey = `key${randomBytes(12).toString('hex')}`;
    const apiSecret = `sec${randomBytes(16).toString('hex')}`;
    await simAccount(apiKey, apiSecret);
    typedSecrets.push(apiSecret, `wrong${apiSecret}`);
    await page.goto(url('/app/accounts'));
    await page.selectOption('[data-testid=register-form] select[name=exchange]', 'binance');
    await page.fill('[data-testid=register-form] input[name=account_id]', accountId);
    await page.fill('[data-testid=register-form] input[name=api_key]', apiKey);
    await page.fill('[data-testid=register-form] input[name=api_secret]', `wrong${apiSecret}`);
    await page.click('[data-testid=register-submit]');
    await page.waitForSelector('[data-testid=flash]');
    expect(await page.textContent('[data-testid=flash]')).toMatch(/rejected|authentication/i);
    expect(await page.locator(`[data-account="binance/${accountId}"]`).count()).toBe(0);
    expect(await page.content()).not.toContain(apiSecret);
    const { rows } = await h.pool.query('SELECT 1 FROM accounts WHERE account_id = $1', [accountId]);
    expect(rows).toHaveLength(0);

    await page.fill('[data-testid=register-form] input[name=api_key]', apiKey);
    await page.fill('[data-testid=register-form] input[name=api_secret]', apiSecret);
    await page.click('[data-testid=register-submit]');
    await page.waitForURL(url(`/app/accounts/binance/${accountId}?done=registered`));
    expect(await page.textContent('[data-testid=key-check]')).toBe('ok');
    expect(await page.textContent('[data-testid=balance]')).toContain('10,000.00');
    expect(await page.content()).not.toContain(apiSecret);
    await shot('account');
  });

  it(
    'shows a signal arrive live after a webhook, and its whole trace with the fills',
    { timeout: 60_000 },
    async () => {
      await page.goto(url('/app/signals'));
      await page.waitForSelector('[data-testid=live-state][data-state=on]');
      await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
      const alert = { account_id: accountId, exchange: 'binance', secret: h.webhookSecret };
      const signalId = await h.post({ ...alert, action: 'long', symbol: 'BTCUSDT', quantity: 0.01 });
      const row = page.locator(`#signal-${signalId}`);
      await row.locator('[data-status=executed]').waitFor({ timeout: 30_000 });
      // Arrived without a reload.
      expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
      expect(await row.textContent()).toContain('BTC/USDT');
      await shot('signals');

      await waitForFills(signalId);
      await row.locator('[data-testid=trace-link]').click();
      await page.waitForURL(url(`/app/signals/${signalId}`));
      const trace = await page.textContent('[data-testid=trace]');
      expect(trace).toContain('Received');
      expect(trace).toContain('Completed');
      const entry = page.locator('[data-testid=order-leg][data-leg=entry]');
      expect(await entry.locator('[data-testid=exchange-answer]').textContent()).toMatch(/order \S+/);
      expect(await entry.locator('[data-testid=fills] tr').count()).toBeGreaterThan(1);
      expect(await page.content()).not.toContain(h.webhookSecret);
      await shot('trace');
    },
  );

  it('halts and resumes an account and the whole install (with confirmation)', async () => {
    await page.goto(url(`/app/accounts/binance/${accountId}`));
    // The long of the previous test, with the SL and TP the worker placed on the exchange.
    const position = page.locator('[data-testid=positions] tr', { hasText: 'BTC' });
    expect(await position.textContent()).toContain('long');
    expect(await position.locator('.badge').count()).toBe(2);
    expect(await page.locator('[data-testid=unprotected]').count()).toBe(0);
    await shot('account-position');
    await page.click('[data-testid=account-halt]');
    await page.waitForURL(/done=halted/);
    expect(await page.textContent('[data-testid=trading-state]')).toBe('halted');
    const alert = { account_id: accountId, exchange: 'binance', secret: h.webhookSecret };
    const refused = await h.signal({ ...alert, action: 'short', symbol: 'ETHUSDT', quantity: 0.1 });
    expect(refused.status).toBe('rejected');
    await page.click('[data-testid=account-resume]');
    await page.waitForURL(/done=resumed/);
    expect(await page.textContent('[data-testid=trading-state]')).toBe('enabled');

    await page.goto(url('/app'));
    await page.check('[data-testid=kill-confirm]');
    await page.click('[data-testid=kill-button]');
    await page.waitForURL(/done=halted/);
    expect(await page.textContent('[data-testid=halt-state]')).toContain('HALTED');
    await shot('kill-switch');
    await page.check('[data-testid=kill-confirm]');
    await page.click('[data-testid=kill-button]');
    await page.waitForURL(/done=resumed/);
    expect(await page.textContent('[data-testid=halt-state]')).not.toContain('HALTED');
  });

  it('shows PnL per day with a chart, and exports a Pine script with its alert messages', async () => {
    await page.goto(url('/app/pnl'));
    await page.waitForSelector('[data-testid=pnl-chart] rect');
    expect(await page.textContent('[data-testid=pnl-table]')).toContain(`binance/${accountId}`);
    await shot('pnl');
    await page.goto(url('/app'));
    expect(await page.textContent('[data-testid=today-pnl]')).toContain(`binance/${accountId}`);
    await shot('overview-with-data');

    await page.goto(url('/app/pine'));
    await page.selectOption('[data-testid=pine-form] select[name=account]', `binance/${accountId}`);
    await page.fill('[data-testid=pine-form] input[name=symbol]', 'ETHUSDT');
    await page.click('[data-testid=pine-submit]');
    await page.waitForSelector('[data-testid=pine-result]');
    expect(await page.inputValue('[data-testid=pine-script]')).toContain('//@version=6');
    expect(await page.locator('[data-testid=alert-message]').first().inputValue()).toContain(accountId);
    expect(await page.content()).not.toContain(h.webhookSecret);
    await shot('pine');
  });

  it('lists account groups and shows a group with its members', async () => {
    const created = await h.api('POST', '/api/v1/groups', {
      group_id: 'dash-desk',
      name: 'Dashboard desk',
      members: [{ exchange: 'binance', account_id: accountId, quantity_multiplier: 2 }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await page.goto(url('/app'));
    await page.click('[data-nav=groups]');
    await page.waitForSelector('[data-testid=groups-table] [data-group=dash-desk]');
    expect(await page.textContent('[data-group=dash-desk] [data-testid=member-count]')).toBe('1');
    await page.click('[data-group=dash-desk] a');
    await page.waitForSelector(`[data-testid=group-members] [data-member="binance/${accountId}"]`);
    expect(await page.textContent(`[data-member="binance/${accountId}"]`)).toContain('2');
    await shot('groups');
  });

  it('fits a phone screen', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/app', '/app/signals', `/app/accounts/binance/${accountId}`]) {
      await phone.goto(url(path));
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await phone.goto(url('/app'));
    await phone.screenshot({ path: join(SCREENSHOT_DIR, 'overview-phone.png'), fullPage: true });
    await phone.close();
  });

  it('refuses a forged CSRF token and changes nothing', async () => {
    await page.goto(url('/app'));
    await page.check('[data-testid=kill-confirm]');
    await page.evaluate(() => {
      const field = document.querySelector<HTMLInputElement>('[data-testid=kill-switch] input[name=_csrf]');
      field!.value = 'forged';
    });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/app/kill-switch')),
      page.click('[data-testid=kill-button]'),
    ]);
    expect(response.status()).toBe(403);
    expect(await page.textContent('body')).toContain('CSRF check failed');
    expect((await getGlobalHalt(h.pool)).halted).toBe(false);
  });

  it('logs out: the old cookie no longer opens a page', async () => {
    await page.goto(url('/app'));
    const before = await browser.context.cookies();
    await page.click('[data-testid=logout]');
    await page.waitForURL(url('/app/login'));
    expect(await browser.context.cookies()).toHaveLength(0);
    await browser.context.addCookies(before);
    await page.goto(url('/app/signals'));
    expect(page.url()).toBe(url('/app/login?expired=1'));
    expect(await page.textContent('[data-testid=flash]')).toContain('Session expired');
  });

  it('never wrote the admin token or an API secret to any service log', () => {
    const logs = h.processes.map((p) => p.output()).join('\n');
    expect(logs).toContain('dashboard login');
    for (const secret of [h.adminToken, ...typedSecrets]) expect(logs).not.toContain(secret);
  });
});
