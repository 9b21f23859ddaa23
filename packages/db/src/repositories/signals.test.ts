import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequenceKey, SIGNAL_STATUSES, type NormalisedSignal, type SignalStatus } from '@tradehook/contracts';
import { createTestDatabase, type TestDatabase } from '../../../../tests/support/index.ts';
import { createPgPool, type pg } from '../client.ts';
import {
  completeSignal,
  failApprovedSignal,
  failStuckPredecessor,
  failUndecidedSignal,
  insertQueuedSignal,
  loadSignalState,
  markExecuting,
  markSignalUnqueued,
  recordDecision,
  SIGNAL_TRANSITIONS,
} from './signals.ts';

let db: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPgPool(db.url, { max: 2, onError: () => undefined });
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

/** A signal row put straight into `status`. */
async function signalIn(status: SignalStatus): Promise<string> {
  const id = randomUUID();
  const signal: NormalisedSignal = {
    account_id: 'lc',
    exchange: 'binance',
    action: 'long',
    symbol: 'BTC/USDT:USDT',
  };
  await insertQueuedSignal(pool, {
    id,
    signal,
    dedupKey: `test:${id}`,
    seqKey: sequenceKey('binance', 'lc', signal.symbol),
    requestId: 'req-lc',
    sourceIp: null,
    receivedAt: new Date(),
  });
  await pool.query(`UPDATE signals SET status = $2 WHERE id = $1`, [id, status]);
  return id;
}

const at = new Date();
const transitions: Record<keyof typeof SIGNAL_TRANSITIONS, (id: string) => Promise<boolean>> = {
  unqueued: (id) => markSignalUnqueued(pool, id),
  decided: (id) => recordDecision(pool, id, { status: 'approved', reason: null }, at),
  failedUndecided: (id) => failUndecidedSignal(pool, id, 'undecided', at),
  failedApproved: (id) => failApprovedSignal(pool, id, 'account gone'),
  failedStuck: (id) => failStuckPredecessor(pool, id, 'stuck'),
  executing: (id) => markExecuting(pool, id),
  completed: (id) => completeSignal(pool, id, 'executed', null, { success: true }),
};

describe('signal lifecycle transitions', () => {
  for (const [name, apply] of Object.entries(transitions)) {
    const from: readonly string[] = SIGNAL_TRANSITIONS[name as keyof typeof SIGNAL_TRANSITIONS];
    it(`${name}: applies from ${from.join(', ')} only, and says whether it did`, async () => {
      for (const status of SIGNAL_STATUSES) {
        const id = await signalIn(status);
        const applied = await apply(id);
        const after = (await loadSignalState(pool, id))!.status;
        expect({ status, applied }).toEqual({ status, applied: from.includes(status) });
        if (!applied) expect(after).toBe(status);
      }
    });
  }

  it('a final status is written once', async () => {
    const id = await signalIn('executing');
    expect(await completeSignal(pool, id, 'failed', 'first', null)).toBe(true);
    expect(await completeSignal(pool, id, 'executed', 'second', null)).toBe(false);
    const { rows } = await pool.query(`SELECT status, reason FROM signals WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ status: 'failed', reason: 'first' });
  });
});
