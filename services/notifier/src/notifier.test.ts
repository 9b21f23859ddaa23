import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QUEUES, type NotificationEvent } from '@tradehook/contracts';
import { createLogger } from '@tradehook/logger';
import { notificationDeliveries } from '@tradehook/metrics/pipeline';
import { createNotificationEmitter, type NotificationEmitter } from '@tradehook/notify';
import { createQueue, createRedis, Worker } from '@tradehook/queue';
import { deleteRedisPrefix, testQueuePrefix, TEST_REDIS_URL } from '../../../tests/support/index.ts';
import { signWebhook } from './channels.ts';
import { loadNotifierConfig } from './config.ts';
import { createNotifierService, type NotifierService } from './service.ts';
import { startReceiver, until, type Receiver } from './testing.ts';

/**
 * The notifier in-process against real Redis, talking over real HTTP to a fake Telegram Bot API (through grammY's
 * apiRoot), a Discord-style incoming webhook and a signed generic webhook receiver.
 */
const prefix = testQueuePrefix();
const botToken = `123456:${randomBytes(18).toString('base64url')}`;
const discordToken = randomBytes(24).toString('hex');
const webhookSecret = randomBytes(24).toString('hex');
const SECRETS = [botToken, discordToken, webhookSecret];
const logger = createLogger({ service: 'notifier-test', silent: true });
const redis = createRedis(TEST_REDIS_URL, 'worker');

let telegram: Receiver;
let discord: Receiver;
let hook: Receiver;
let service: NotifierService;
let emitter: NotificationEmitter;

beforeAll(async () => {
  [telegram, discord, hook] = await Promise.all([
    startReceiver('telegram'),
    startReceiver('discord'),
    startReceiver('webhook'),
  ]);
  const config = loadNotifierConfig({
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_DIR: '',
    TELEGRAM_BOT_TOKEN: botToken,
    TELEGRAM_CHAT_ID: '1001',
    TELEGRAM_API_ROOT: telegram.url,
    DISCORD_WEBHOOK_URL: `${discord.url}/api/webhooks/42/${discordToken}`,
    NOTIFY_WEBHOOK_URL: `${hook.url}/hooks/tradehook`,
    NOTIFY_WEBHOOK_SECRET: webhookSecret,
    NOTIFY_ROUTES: '*=telegram; binance:alice=telegram:777,discord; okx:*=webhook',
    NOTIFY_BATCH_WINDOW_MS: '1000',
    NOTIFY_RETRY_BASE_MS: '50',
    NOTIFY_MAX_ATTEMPTS: '4',
    NOTIFY_DOWN_AFTER_S: '1',
    NOTIFY_MONITOR_INTERVAL_MS: '600000',
  });
  service = createNotifierService(config, { logger });
  await service.start();
  emitter = createNotificationEmitter({ redisUrl: TEST_REDIS_URL, queuePrefix: prefix, logger });
});

afterAll(async () => {
  await emitter?.close();
  await service?.stop();
  await Promise.all([telegram?.close(), discord?.close(), hook?.close()]);
  redis.disconnect();
  await deleteRedisPrefix(prefix);
});

beforeEach(() => {
  for (const r of [telegram, discord, hook]) r.requests.length = 0;
});

const texts = (r: Receiver, chat?: string) =>
  r.requests
    .filter((q) => q.headers['content-length'] !== '0' && (!chat || String(q.body['chat_id']) === chat))
    .map((q) => String(q.body['text'] ?? q.body['content'] ?? q.raw));

function executed(exchange: 'binance' | 'okx', accountId: string): NotificationEvent {
  return {
    kind: 'signal_executed',
    at: Date.now(),
    exchange,
    accountId,
    signalId: randomUUID(),
    action: 'long',
    symbol: 'BTC/USDT:USDT',
    side: 'long',
    amount: 0.01,
    price: 50_000,
    stopLoss: 49_000,
    takeProfit: 52_000,
    note: null,
  };
}

describe('notifier', () => {
  it('routes per account: each account its channels, install-wide events to every channel', async () => {
    emitter.emit(executed('binance', 'bob'));
    emitter.emit(executed('binance', 'alice'));
    emitter.emit(executed('okx', 'carol'));
    emitter.emit({ kind: 'kill_switch', at: Date.now(), on: true, reason: 'manual stop' });
    await until(() => texts(telegram, '1001').join().includes('전체 계정') && hook.requests.length > 0);
    await until(() => texts(telegram, '777').join().includes('전체 계정') && discord.requests.length > 0);
    await new Promise((r) => setTimeout(r, 1200)); // anything misrouted would have arrived by now
    const [t1001, t777, d, w] = [
      texts(telegram, '1001'),
      texts(telegram, '777'),
      texts(discord),
      texts(hook),
    ];
    expect(t1001.join()).toContain(
      '[binance:bob] BTC/USDT:USDT long 체결: 수량 0.01 @ 50000, SL 49000 / TP 52000',
    );
    expect(t1001.join()).not.toMatch(/alice|carol/);
    expect(t777.join()).toContain('[binance:alice]');
    expect(t777.join()).not.toMatch(/bob|carol/);
    expect(d.join()).toContain('[binance:alice]');
    expect(d.join()).toContain('⛔');
    expect(w.join()).not.toMatch(/alice|bob/);
    // The generic webhook: JSON events, HMAC-signed over "<timestamp>.<body>".
    const events = hook.requests.flatMap((q) => q.body['events'] as Array<Record<string, unknown>>);
    expect(events.map((e) => e['kind']).sort()).toEqual(['kill_switch', 'signal_executed']);
    expect(events.find((e) => e['kind'] === 'signal_executed')).toMatchObject({
      accountId: 'carol',
      price: 50_000,
    });
    for (const q of hook.requests) {
      const ts = String(q.headers['x-tradehook-timestamp']);
      expect(q.headers['x-tradehook-signature']).toBe(signWebhook(webhookSecret, ts, q.raw));
      expect(q.headers['x-tradehook-signature']).not.toBe(signWebhook('another-secret-0000', ts, q.raw));
    }
  });

  it('batches a burst of 100 fills into one or a few messages per channel, none lost', async () => {
    const at = Date.now();
    for (let i = 0; i < 100; i++)
      emitter.emit({
        kind: 'protection_hit',
        at,
        exchange: 'binance',
        accountId: 'alice',
        symbol: 'ETH/USDT:USDT',
        leg: 'stop_loss',
        amount: 0.1,
        price: 2_900 + i,
        realizedPnl: -10 - i,
        fee: 0.12,
      });
    // Every event is either a line of its own or counted in a message's "… N more" line.
    const covered = (messages: string[]) =>
      messages.reduce((sum, m) => {
        const more = /외 (\d+)건/.exec(m);
        return sum + (m.match(/손절\(SL\) 발동/g)?.length ?? 0) + (more ? Number(more[1]) : 0);
      }, 0);
    await until(() => covered(texts(telegram, '777')) >= 100 && covered(texts(discord)) >= 100, 15_000);
    expect(covered(texts(telegram, '777'))).toBe(100);
    expect(covered(texts(discord))).toBe(100);
    expect(texts(telegram, '777').length).toBeLessThanOrEqual(3);
    expect(texts(discord).length).toBeLessThanOrEqual(3);
    for (const m of texts(discord)) expect(m.length).toBeLessThanOrEqual(2000);
    expect(texts(telegram, '777')[0]).toContain('실현 손익 -10.00');
    expect(texts(telegram, '1001')).toEqual([]);
  });

  it("waits for Telegram's retry_after on 429 and retries 5xx with backoff, sending each batch once", async () => {
    telegram.fail({ status: 429, retryAfter: 1 });
    discord.fail({ status: 500 }, { status: 502 });
    emitter.emit(executed('binance', 'alice'));
    await until(() => telegram.requests.length >= 2 && discord.requests.length >= 3, 15_000);
    const [first, second] = telegram.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    expect(second!.body['text']).toBe(first!.body['text']);
    await new Promise((r) => setTimeout(r, 800));
    expect(telegram.requests).toHaveLength(2);
    expect(discord.requests).toHaveLength(3);
    expect(new Set(discord.requests.map((q) => q.raw)).size).toBe(1);
  });

  it('records a delivery that cannot succeed as failed, with no secret anywhere', async () => {
    const before =
      (await notificationDeliveries.get()).values.find(
        (v) => v.labels['channel'] === 'telegram' && v.labels['outcome'] === 'failed',
      )?.value ?? 0;
    telegram.fail({ status: 400, description: `Bad Request: chat not found (token ${botToken})` });
    emitter.emit({
      kind: 'key_problem',
      at: Date.now(),
      exchange: 'binance',
      accountId: 'bob',
      problem: 'check_failed',
      reason: 'AuthenticationError: Invalid API-key, IP, or permissions for action.',
    });
    const queue = createQueue(QUEUES.notifications, redis, prefix);
    try {
      await until(() => telegram.requests.length >= 1);
      let failed = await queue.getFailed();
      for (const end = Date.now() + 10_000; failed.length === 0 && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 50));
        failed = await queue.getFailed();
      }
      expect(failed).toHaveLength(1);
      expect(failed[0]!.failedReason).toContain('telegram (Bad Request: chat not found (token [redacted]))');
      expect(failed[0]!.data).toMatchObject({ channel: 'telegram:1001', events: [{ kind: 'key_problem' }] });
      expect(telegram.requests).toHaveLength(1); // a 4xx is not retried
      const after = (await notificationDeliveries.get()).values.find(
        (v) => v.labels['channel'] === 'telegram' && v.labels['outcome'] === 'failed',
      )!.value;
      expect(after).toBe(before + 1);
    } finally {
      await queue.close();
    }
    // Neither the messages sent so far nor anything the notifier keeps in Redis holds a credential.
    const sent = [telegram, discord, hook].flatMap((r) => r.requests.map((q) => q.raw)).join('\n');
    const stored: string[] = [];
    for (const key of await redis.keys(`${prefix}*`)) {
      const type = await redis.type(key);
      if (type === 'hash') stored.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') stored.push(...(await redis.lrange(key, 0, -1)));
      else if (type === 'string') stored.push(String(await redis.get(key)));
    }
    expect(stored.join('\n')).toContain('chat not found');
    for (const secret of SECRETS) {
      expect(sent).not.toContain(secret);
      expect(stored.join('\n')).not.toContain(secret);
    }
  });

  it('reports a worker gone for longer than NOTIFY_DOWN_AFTER_S, and its return', async () => {
    const connection = createRedis(TEST_REDIS_URL, 'worker');
    const start = () => new Worker(QUEUES.orders('binance'), async () => undefined, { connection, prefix });
    let worker = start();
    await worker.waitUntilReady();
    const t0 = Date.now();
    await service.monitor.check(t0);
    await worker.close();
    await service.monitor.check(t0 + 100);
    await service.monitor.check(t0 + 600);
    await service.monitor.check(t0 + 1_200);
    await until(() => texts(telegram, '1001').join().includes('worker-binance 이(가) 1초째 응답이 없습니다'));
    worker = start();
    await worker.waitUntilReady();
    await service.monitor.check(t0 + 5_000);
    await until(() => texts(telegram, '1001').join().includes('worker-binance 복구됨 (5초 중단)'));
    expect(
      texts(telegram, '1001')
        .join()
        .match(/worker-binance 이\(가\)/g),
    ).toHaveLength(1);
    expect(texts(discord).join()).toContain('worker-binance'); // install-wide: every channel
    await worker.close();
    connection.disconnect();
  });
});
