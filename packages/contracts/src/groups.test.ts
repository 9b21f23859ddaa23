import { describe, expect, it } from 'vitest';
import { groupWebhookPayloadSchema } from './groups.ts';

const base = { group_id: 'desk', symbol: 'BTCUSDT', secret: 's', action: 'long' as const };

const messages = (v: unknown) => {
  const r = groupWebhookPayloadSchema.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => i.message);
};

describe('group alert payload', () => {
  it('accepts what a single alert accepts', () => {
    expect(messages({ ...base, notional: 100, stop_loss_pct: 2 })).toEqual([]);
  });

  it('applies the single alert cross-field rules (a member never runs without a field the alert carries)', () => {
    expect(messages({ ...base, notional: 100, balance_pct: 5 }).join()).toMatch(/one sizing mode per alert/);
    expect(messages({ ...base, risk_pct: 1 }).join()).toMatch(/risk_pct sizes the entry from its stop/);
    expect(messages({ ...base, action: 'close_all', close_pct: 50 }).join()).toMatch(/close_pct/);
  });

  it('checks a trailing callback against both venues when the exchange is not named', () => {
    expect(messages({ ...base, trailing_pct: 1 })).toEqual([]);
    expect(messages({ ...base, trailing_pct: 20 }).join()).toMatch(/trailing/);
  });
});
