import { describe, expect, it } from 'vitest';
import { OKX_RULES, okxRule } from '@tradehook/exchange-sim';
import { OKX_LIMITS, okxLimit } from './okx-rate-rules.ts';

describe('OKX limits: the client budget and the simulator read the docs alike', () => {
  it('every endpoint the client budgets has the simulator’s limit, window and scope', () => {
    for (const [endpoint, limit] of Object.entries(OKX_LIMITS)) {
      expect(OKX_RULES[endpoint], endpoint).toEqual(limit);
    }
  });
  it('unlisted endpoints fall back alike', () => {
    for (const [m, p] of [
      ['GET', '/api/v5/market/books'],
      ['POST', '/api/v5/account/set-isolated-mode'],
    ] as const) {
      expect(okxLimit(m, p)).toEqual(okxRule(m, p));
    }
  });
});
