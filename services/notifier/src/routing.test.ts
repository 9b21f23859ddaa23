import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tradehook/config';
import { NOTIFICATION_KINDS, type NotificationEvent } from '@tradehook/contracts';
import { loadNotifierConfig } from './config.ts';
import { buildRouter } from './routing.ts';
import { LOCALES, renderBatch, renderEvent } from './templates.ts';

const TOKEN = '123456:AAbbCCddEEffGGhhIIjjKKllMM';
const env = (extra: Record<string, string>) =>
  loadNotifierConfig({ LOG_DIR: '', TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_CHAT_ID: '1', ...extra });
const event = (exchange: 'binance' | 'okx', accountId: string): NotificationEvent => ({
  kind: 'key_problem',
  at: 0,
  exchange,
  accountId,
  problem: 'check_failed',
  reason: 'x',
});

describe('NOTIFY_ROUTES', () => {
  it('the most specific selector wins; events of no account go to every channel named', () => {
    const router = buildRouter(
      env({
        DISCORD_WEBHOOK_URL: 'https://discord.example/api/webhooks/1/abc',
        NOTIFY_ROUTES: '*=telegram; binance:*=discord; binance:vip=telegram:-1009,discord; okx:quiet=none',
      }),
    );
    expect(router.route(event('okx', 'a'))).toEqual(['telegram:1']);
    expect(router.route(event('binance', 'a'))).toEqual(['discord']);
    expect(router.route(event('binance', 'vip'))).toEqual(['telegram:-1009', 'discord']);
    expect(router.route(event('okx', 'quiet'))).toEqual([]);
    expect(router.route({ kind: 'kill_switch', at: 0, on: true, reason: null }).sort()).toEqual([
      'discord',
      'telegram:-1009',
      'telegram:1',
    ]);
  });

  it('without rules every configured channel hears everything', () => {
    const router = buildRouter(env({ NOTIFY_WEBHOOK_URL: 'https://hooks.example/th' }));
    expect(router.route(event('okx', 'a'))).toEqual(['telegram:1', 'webhook']);
  });

  it('refuses a rule it cannot follow, with a readable reason and no secret', () => {
    const refused = (routes: string, extra: Record<string, string> = {}) => {
      try {
        buildRouter(env({ NOTIFY_ROUTES: routes, ...extra }));
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).not.toContain(TOKEN);
        return (err as Error).message;
      }
      throw new Error(`accepted: ${routes}`);
    };
    expect(refused('*=discord')).toMatch(/DISCORD_WEBHOOK_URL is not set/);
    expect(refused('*=sms')).toMatch(/unknown target "sms"/);
    expect(refused('kraken:a=telegram')).toMatch(/is not <\*\|exchange:\*\|exchange:account>=<targets>/);
    expect(refused('*=telegram;*=telegram')).toMatch(/given twice/);
    expect(refused('*=telegram:abc')).toMatch(/not a telegram chat id/);
    expect(() => loadNotifierConfig({ TELEGRAM_BOT_TOKEN: 'nonsense-token-value' })).toThrow(
      /TELEGRAM_BOT_TOKEN: must look like/,
    );
  });
});

describe('templates', () => {
  const samples: NotificationEvent[] = [
    {
      kind: 'signal_executed',
      at: 0,
      exchange: 'okx',
      accountId: 'a',
      signalId: '00000000-0000-4000-8000-000000000000',
      action: 'short',
      symbol: 'ETH/USDT:USDT',
      side: 'short',
      amount: 1,
      price: 3000,
      stopLoss: 3100,
      takeProfit: null,
      note: null,
    },
    {
      kind: 'signal_failed',
      at: 0,
      exchange: 'okx',
      accountId: 'a',
      signalId: '00000000-0000-4000-8000-000000000000',
      action: 'long',
      symbol: 'X',
      reason: '51008 Insufficient margin',
    },
    {
      kind: 'signal_rejected',
      at: 0,
      exchange: 'okx',
      accountId: 'a',
      signalId: '00000000-0000-4000-8000-000000000000',
      action: 'long',
      symbol: 'X',
      reason: 'stale: 40 s old',
      stage: 'risk',
    },
    {
      kind: 'daily_loss_cap',
      at: 0,
      exchange: 'okx',
      accountId: 'a',
      signalId: '00000000-0000-4000-8000-000000000000',
      symbol: 'X',
      reason: 'cap',
    },
    {
      kind: 'position_unprotected',
      at: 0,
      exchange: 'okx',
      accountId: 'a',
      signalId: '00000000-0000-4000-8000-000000000000',
      symbol: 'X',
      reason: 'r',
      flattened: false,
    },
    {
      kind: 'protection_hit',
      at: 0,
      exchange: 'okx',
      accountId: 'a',
      symbol: 'X',
      leg: 'take_profit',
      amount: 1,
      price: 2,
      realizedPnl: 12.345,
      fee: 0.1,
    },
    { kind: 'kill_switch', at: 0, on: false, reason: null },
    { kind: 'key_problem', at: 0, exchange: 'okx', accountId: 'a', problem: 'revoked', reason: 'r' },
    { kind: 'component_down', at: 0, component: 'worker-okx', down: true, seconds: 61 },
  ];

  it('every kind reads in Korean and English', () => {
    expect(samples.map((s) => s.kind).sort()).toEqual([...NOTIFICATION_KINDS].sort());
    for (const e of samples)
      for (const locale of LOCALES) expect(renderEvent(e, locale).length).toBeGreaterThan(10);
    expect(renderEvent(samples[0]!, 'ko')).toBe(
      '✅ [okx:a] ETH/USDT:USDT short 체결: 수량 1 @ 3000, SL 3100 / TP -',
    );
    expect(renderEvent(samples[5]!, 'en')).toContain('realised PnL +12.35');
    expect(renderEvent(samples[8]!, 'en')).toBe('📴 worker-okx has been down for 61 s');
  });

  it('a batch fits the limit and counts what did not fit', () => {
    const text = renderBatch(
      Array.from({ length: 200 }, () => samples[1]!),
      'en',
      2000,
    );
    expect(text.length).toBeLessThanOrEqual(2000);
    const shown = text.split('\n').filter((l) => l.startsWith('❌')).length;
    expect(text).toContain(`… and ${200 - shown} more (signal_failed ×${200 - shown})`);
  });
});
