import type { ExportPineResponse } from '@tradehook/contracts';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminHeaders as admin,
  dumpRedisPrefix,
  startIngressHarness,
  WEBHOOK_SECRET,
  type IngressHarness,
} from '../../test/support.ts';
import { evaluateStringConcat, extractAlertCalls } from './pine-check.ts';
import { PINE_PRESETS } from './presets.ts';

let harness: IngressHarness;
let app: IngressHarness['app'];

beforeAll(async () => {
  harness = await startIngressHarness({
    // No worker answers key checks in this test: registration must not wait long for one.
    ACCOUNT_REQUEST_TIMEOUT_MS: '100',
    RATE_LIMIT_WEBHOOK_MAX: '0',
    RATE_LIMIT_ADMIN_MAX: '0',
  });
  app = harness.app;
});

afterAll(async () => {
  await harness?.close();
});

async function register(exchange: 'binance' | 'okx', accountId: string, extra: Record<string, unknown> = {}) {
  const res = await request(app)
    .post(`/api/v1/accounts/${exchange}/register`)
    .set(admin)
    .send({
      account_id: accountId,
      api_key: 'test-api-key-0123456789',
      api_secret: 'test-api-secret-0123456789',
      ...(exchange === 'okx' ? { passphrase: 'test-passphrase' } : {}),
      testnet: true,
      ...extra,
    });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  expect(res.body.success).toBe(true);
}

async function exportPine(body: Record<string, unknown>): Promise<ExportPineResponse> {
  const res = await request(app).post('/api/v1/simple/export-pine').set(admin).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  return res.body as ExportPineResponse;
}

let barCounter = 0;
/** A distinct bar per alert, so the alert ids of different alerts never collide in this test. */
function nextBarTime(): string {
  barCounter += 1;
  return `20261126T${String(barCounter).padStart(6, '0')}`;
}

/** What the script computes when an alert fires (see generator.ts); anything else fails the test. */
function firedValue(code: string, barTime: string): string {
  if (code.startsWith('str.tostring(stopLoss')) return '48250.5';
  if (code.startsWith('str.tostring(takeProfit')) return '53499.1';
  if (code.startsWith('str.format_time(time,')) return barTime;
  if (code.startsWith('str.format_time(timenow,')) return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (code === 'timeframe.period') return '60';
  throw new Error(`unexpected expression in an alert message: ${code}`);
}

async function postAlert(message: string) {
  // TradingView sends application/json when the message is valid JSON.
  return request(app)
    .post('/api/v1/webhook/tradingview')
    .set('Content-Type', 'application/json')
    .send(message);
}

describe('GET /api/v1/simple/presets', () => {
  it('needs the admin token', async () => {
    const res = await request(app).get('/api/v1/simple/presets');
    expect(res.status).toBe(401);
  });

  it('lists the presets with their parameters', async () => {
    const res = await request(app).get('/api/v1/simple/presets').set(admin);
    expect(res.status).toBe(200);
    const ids = (res.body.presets as { preset_id: string }[]).map((p) => p.preset_id);
    expect(ids).toEqual(
      expect.arrayContaining(['conservative_trader', 'balanced_trader', 'aggressive_trader']),
    );
    for (const preset of res.body.presets) {
      expect(preset.parameters.map((p: { name: string }) => p.name)).toEqual([
        'atrPeriod',
        'factor',
        'slAtrMult',
        'tpAtrMult',
      ]);
    }
  });
});

describe('POST /api/v1/simple/export-pine', () => {
  it('needs the admin token, even for the placeholder export', async () => {
    const res = await request(app).post('/api/v1/simple/export-pine').send({ preset_id: 'balanced_trader' });
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).not.toContain('//@version');
  });

  it('answers 404 with the list of presets for an unknown preset', async () => {
    const res = await request(app)
      .post('/api/v1/simple/export-pine')
      .set(admin)
      .send({ preset_id: 'yolo_trader' });
    expect(res.status).toBe(404);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe('not_found');
    expect(res.body.presets).toEqual(PINE_PRESETS.map((p) => p.id));
  });

  it('answers 422 for invalid options', async () => {
    const res = await request(app)
      .post('/api/v1/simple/export-pine')
      .set(admin)
      .send({ preset_id: 'balanced_trader', leverage: 0, symbol: '???' });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'leverage',
      'symbol',
    ]);
  });

  it('answers 422 for two sizing modes, and for risk_pct without the script stops', async () => {
    const two = await request(app)
      .post('/api/v1/simple/export-pine')
      .set(admin)
      .send({ preset_id: 'balanced_trader', quantity: 0.1, notional: 100 });
    expect(two.status).toBe(422);
    expect(JSON.stringify(two.body.error.details)).toMatch(/one sizing mode per export/);
    const risk = await request(app)
      .post('/api/v1/simple/export-pine')
      .set(admin)
      .send({ preset_id: 'balanced_trader', risk_pct: 1, include_stops: false });
    expect(risk.status).toBe(422);
    expect(JSON.stringify(risk.body.error.details)).toMatch(/keep include_stops on/);
    const breakEven = await request(app)
      .post('/api/v1/simple/export-pine')
      .set(admin)
      .send({ preset_id: 'balanced_trader', break_even_pct: 1, include_stops: false });
    expect(breakEven.status).toBe(422);
    expect(JSON.stringify(breakEven.body.error.details)).toMatch(
      /break_even_pct moves the script's stop-loss: keep include_stops on/,
    );
  });

  it('echoes the sizing and trailing options it exported', async () => {
    const r = await exportPine({
      preset_id: 'balanced_trader',
      balance_pct: 5,
      trailing_pct: 1,
      break_even_pct: 2,
    });
    expect(r.options).toMatchObject({ balance_pct: 5, trailing_pct: 1, break_even_pct: 2 });
    expect(r.alerts.in_script.find((a) => a.action === 'long')!.example).toContain('"balance_pct":5');
  });

  it("works with the guide's minimal request and a placeholder secret", async () => {
    const body = await exportPine({ preset_id: 'balanced_trader' });
    expect(body).toMatchObject({
      success: true,
      preset_id: 'balanced_trader',
      options: { exchange: 'binance', account_id: 'my_binance_account', symbol: 'BTCUSDT', leverage: 5 },
    });
    expect(body.options.secret_embedded).toBe(false);
    expect(body.script).toContain('"secret":"YOUR_SECRET_KEY"');
    expect(body.script).not.toContain(WEBHOOK_SECRET);
    expect(JSON.stringify(body)).not.toContain(WEBHOOK_SECRET);
    expect(body.webhook_url_hint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/webhook\/tradingview$/);
    // Not registered yet: the answer says so.
    expect(body.notes.join(' ')).toContain('not registered');
  });

  describe.each(PINE_PRESETS.map((p) => [p.id] as const))('round trip of %s', (presetId) => {
    it('every alert of the script is accepted by the webhook (202)', async () => {
      const accountId = `pine_${presetId}`;
      await register('binance', accountId);
      const body = await exportPine({
        preset_id: presetId,
        account_id: accountId,
        symbol: 'BINANCE:ETHUSDT.P',
      });
      expect(body.options.symbol).toBe('ETHUSDT');
      const calls = extractAlertCalls(body.script);
      expect(calls.length).toBe(body.alerts.in_script.length);
      expect(calls.length).toBeGreaterThanOrEqual(6);
      for (const call of calls) {
        const barTime = nextBarTime();
        const message = evaluateStringConcat(call.message, (code) => firedValue(code, barTime)).replace(
          'YOUR_SECRET_KEY',
          WEBHOOK_SECRET,
        );
        const res = await postAlert(message);
        expect(res.status, `${call.condition}: ${JSON.stringify(res.body)}`).toBe(202);
        expect(res.body.success).toBe(true);
        const sent = JSON.parse(message) as { action: string };
        expect(JSON.stringify(res.body)).toContain(sent.action);
        expect(JSON.stringify(res.body)).not.toContain(WEBHOOK_SECRET);
      }
    });
  });

  it('embeds the global secret on request, and the alerts work unchanged (OKX)', async () => {
    await register('okx', 'pine_okx');
    const body = await exportPine({
      preset_id: 'aggressive_trader',
      exchange: 'okx',
      account_id: 'pine_okx',
      symbol: 'SOL-USDT-SWAP',
      leverage: 3,
      embed_secret: true,
    });
    expect(body.options).toMatchObject({ symbol: 'SOLUSDT', leverage: 3, secret_embedded: true });
    expect(body.script).not.toContain('YOUR_SECRET_KEY');
    expect(body.notes.join(' ')).not.toContain('not registered');
    const [entry] = extractAlertCalls(body.script);
    const message = evaluateStringConcat(entry!.message, (code) => firedValue(code, nextBarTime()));
    expect(JSON.parse(message)).toMatchObject({ exchange: 'okx', action: 'long', leverage: 3 });
    const res = await postAlert(message);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    // The embedded secret reached the client only: not the logs, not Redis.
    expect(harness.logs.text()).toContain('signal accepted');
    expect(harness.logs.text()).not.toContain(WEBHOOK_SECRET);
    expect(await dumpRedisPrefix(harness.prefix)).not.toContain(WEBHOOK_SECRET);
  });

  it('refuses to embed the global secret for an account that has its own', async () => {
    await register('binance', 'pine_own_secret', { webhook_secret: 'account-own-webhook-secret-42' });
    const res = await request(app)
      .post('/api/v1/simple/export-pine')
      .set(admin)
      .send({ preset_id: 'balanced_trader', account_id: 'pine_own_secret', embed_secret: true });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).not.toContain(WEBHOOK_SECRET);
  });

  it('returns alert dialog templates the webhook accepts once TradingView fills the placeholders', async () => {
    await register('binance', 'pine_dialog');
    const body = await exportPine({ preset_id: 'conservative_trader', account_id: 'pine_dialog' });
    const placeholders = (bar: string, comment: string): Record<string, string> => ({
      '{{ticker}}': 'BTCUSDT.P',
      '{{close}}': '50123.5',
      '{{time}}': bar,
      '{{timenow}}': new Date().toISOString(),
      '{{strategy.order.comment}}': comment,
    });
    const messages: string[] = [];
    for (const template of body.alerts.dialog_templates) {
      if (template.message === '{{strategy.order.alert_message}}') continue;
      const comments = template.id === 'strategy_order_comment' ? ['close_long', 'short'] : ['unused'];
      for (const comment of comments) {
        const values = placeholders(`2026-11-26T${String(10 + messages.length)}:00:00Z`, comment);
        messages.push(
          template.message
            .replace(/\{\{[\w.]+\}\}/g, (p) => {
              const value = values[p];
              if (value === undefined) throw new Error(`unknown placeholder ${p}`);
              return value;
            })
            .replace('YOUR_SECRET_KEY', WEBHOOK_SECRET),
        );
      }
    }
    expect(messages.length).toBe(7);
    for (const message of messages) {
      const res = await postAlert(message);
      expect(res.status, `${message}: ${JSON.stringify(res.body)}`).toBe(202);
    }
    // A strategy whose order comments are not webhook actions (e.g. buy/sell) trades nothing.
    const byComment = body.alerts.dialog_templates.find((t) => t.id === 'strategy_order_comment')!;
    const buy = byComment.message
      .replace(/\{\{[\w.]+\}\}/g, (p) => placeholders('2026-11-26T23:00:00Z', 'buy')[p]!)
      .replace('YOUR_SECRET_KEY', WEBHOOK_SECRET);
    const refused = await postAlert(buy);
    expect(refused.status).toBe(422);
  });
});
