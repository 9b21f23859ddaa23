import { describe, expect, it } from 'vitest';
import { closePartOf } from './close-fields.ts';
import { normaliseWebhook, normalisedSignalSchema, webhookPayloadSchema } from './webhook.ts';

const close = { account_id: 'a', exchange: 'okx', action: 'close_long', symbol: 'ETHUSDT', secret: 's' };

describe('close fields', () => {
  it('normalises close_pct unchanged and keeps a close without it a full close', () => {
    const signal = normaliseWebhook(webhookPayloadSchema.parse({ ...close, close_pct: '12.5' }));
    expect(signal.close_pct).toBe(12.5);
    expect(normalisedSignalSchema.parse(signal)).toEqual(signal);
    expect(normaliseWebhook(webhookPayloadSchema.parse(close))).not.toHaveProperty('close_pct');
  });

  it('reads the part to close: quantity, a share below 100 %, else all', () => {
    expect(closePartOf({ quantity: 0.2 })).toEqual({ kind: 'quantity', amount: 0.2 });
    expect(closePartOf({ close_pct: 40 })).toEqual({ kind: 'pct', pct: 40 });
    expect(closePartOf({ close_pct: 100 })).toEqual({ kind: 'all' });
    expect(closePartOf({})).toEqual({ kind: 'all' });
  });

  it('close_all still accepts a quantity it never used (an exit is not refused for it)', () => {
    expect(webhookPayloadSchema.safeParse({ ...close, action: 'close_all', quantity: 1 }).success).toBe(true);
  });
});
