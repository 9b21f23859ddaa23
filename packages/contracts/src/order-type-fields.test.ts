import { describe, expect, it } from 'vitest';
import { groupWebhookPayloadSchema } from './groups.ts';
import { normaliseWebhook, normalisedSignalSchema, webhookPayloadSchema } from './webhook.ts';

const guide = { account_id: 'a', exchange: 'binance', action: 'long', symbol: 'BTCUSDT', secret: 's' };

function issues(
  body: unknown,
  schema: typeof webhookPayloadSchema | typeof groupWebhookPayloadSchema = webhookPayloadSchema,
): string[] {
  const r = schema.safeParse(body);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('limit entry fields', () => {
  it('parses TradingView strings and normalises them unchanged; price keeps its meaning', () => {
    const parsed = webhookPayloadSchema.parse({
      ...guide,
      price: '60010',
      order_type: ' LIMIT ',
      limit_price: '59000.5',
      time_in_force: 'gtc',
      post_only: 'true',
      cancel_after: '300',
    });
    const signal = normaliseWebhook(parsed);
    expect(signal).toMatchObject({
      price: 60010,
      order_type: 'limit',
      limit_price: 59000.5,
      time_in_force: 'GTC',
      post_only: true,
      cancel_after: 300,
    });
    expect(normalisedSignalSchema.parse(signal)).toEqual(signal);
    // A market alert is what it was: no new field appears.
    expect(Object.keys(normaliseWebhook(webhookPayloadSchema.parse(guide)))).not.toContain('order_type');
  });

  it('refuses incomplete or contradictory combinations with the reason', () => {
    expect(issues({ ...guide, order_type: 'limit' })).toEqual([
      'limit_price: order_type "limit" needs limit_price',
    ]);
    expect(issues({ ...guide, limit_price: 59000 })).toEqual([
      'limit_price: limit_price needs order_type "limit"',
    ]);
    expect(issues({ ...guide, post_only: true, cancel_after: 60 })).toEqual([
      'post_only: post_only needs order_type "limit"',
      'cancel_after: cancel_after needs order_type "limit"',
    ]);
    const limit = { ...guide, order_type: 'limit', limit_price: 59000 };
    expect(issues({ ...limit, time_in_force: 'IOC', post_only: true })).toEqual([
      'post_only: post_only rests on the book; it cannot be combined with time_in_force IOC',
    ]);
    expect(issues({ ...limit, time_in_force: 'FOK', cancel_after: 60 })).toEqual([
      'cancel_after: time_in_force FOK never rests, so cancel_after does not apply',
    ]);
    expect(issues({ ...limit, action: 'close_long' })).toEqual([
      'order_type: order_type "limit" is for entries (long, short) only',
    ]);
  });

  it('bounds each field', () => {
    const limit = { ...guide, order_type: 'limit', limit_price: 59000 };
    expect(issues({ ...guide, order_type: 'stop' })).toEqual([
      'order_type: order_type must be one of market, limit',
    ]);
    expect(issues({ ...limit, limit_price: -1 })).toEqual([
      'limit_price: limit_price must be greater than 0',
    ]);
    expect(issues({ ...limit, time_in_force: 'GTD' })).toEqual([
      'time_in_force: time_in_force must be one of GTC, IOC, FOK',
    ]);
    expect(issues({ ...limit, post_only: 'yes' })).toEqual(['post_only: post_only must be true or false']);
    expect(issues({ ...limit, cancel_after: 2 })).toEqual([
      'cancel_after: cancel_after must be at least 5 seconds',
    ]);
    expect(issues({ ...limit, cancel_after: 1e7 })).toEqual([
      'cancel_after: cancel_after must be at most 604800 seconds (a week)',
    ]);
    expect(issues({ ...limit, cancel_after: 1.5 })).toEqual([
      'cancel_after: cancel_after must be a whole number of seconds',
    ]);
  });

  it('a group alert is held to the same rules', () => {
    const group = { group_id: 'g', action: 'long', symbol: 'BTCUSDT', secret: 's' };
    expect(issues({ ...group, order_type: 'limit' }, groupWebhookPayloadSchema)).toEqual([
      'limit_price: order_type "limit" needs limit_price',
    ]);
    expect(issues({ ...group, order_type: 'limit', limit_price: 1 }, groupWebhookPayloadSchema)).toEqual([]);
  });
});
