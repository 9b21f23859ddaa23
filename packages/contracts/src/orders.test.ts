import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLIENT_ORDER_ID_PATTERN, clientOrderId, ORDER_LEGS } from './orders.ts';

describe('clientOrderId', () => {
  const legs = [...ORDER_LEGS, 'flip'] as const;

  it('is at most 32 characters of [A-Za-z0-9] for every leg and part', () => {
    for (const id of [
      randomUUID(),
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '00000000-0000-0000-0000-000000000000',
    ]) {
      for (const leg of legs) {
        for (const part of [0, 1, 9, 9999]) {
          const coid = clientOrderId(id, leg, part);
          expect(coid).toMatch(CLIENT_ORDER_ID_PATTERN);
          expect(coid.length).toBeLessThanOrEqual(32);
        }
      }
    }
  });

  it('is deterministic for (signal, leg, part)', () => {
    const id = randomUUID();
    expect(clientOrderId(id, 'entry')).toBe(clientOrderId(id, 'entry'));
    expect(clientOrderId(id, 'stop_loss', 2)).toBe(clientOrderId(id, 'stop_loss', 2));
  });

  it('is unique per leg, per part and per signal', () => {
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const all = new Set<string>();
    let count = 0;
    for (const id of ids) {
      for (const leg of legs) {
        for (const part of [0, 1, 2]) {
          all.add(clientOrderId(id, leg, part));
          count++;
        }
      }
    }
    expect(all.size).toBe(count);
  });

  it('rejects invalid parts', () => {
    expect(() => clientOrderId(randomUUID(), 'entry', -1)).toThrow();
    expect(() => clientOrderId(randomUUID(), 'entry', 10_000)).toThrow();
    expect(() => clientOrderId(randomUUID(), 'entry', 1.5)).toThrow();
  });
});
