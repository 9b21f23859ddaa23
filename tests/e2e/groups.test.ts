import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2EHarness, type E2EAccount, type JsonBody } from './harness.ts';

/**
 * "One alert, many accounts" as processes (docs/decisions/0022-account-groups.md): 200 simulator accounts in
 * one group, one of them halted; one alert in → 200 signals, each with its own trace → 199 orders at the
 * simulator and in Postgres, the halted member rejected with its reason; a resend is a 409 for the group; a
 * second alert runs after the first on every member (its own per-(account, symbol) order).
 */
const MEMBERS = 200;
const BTC = 'BTCUSDT';
let h: E2EHarness;
const accounts: E2EAccount[] = [];

async function inBatches<T, R>(
  items: T[],
  size: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)))));
  }
  return out;
}

async function waitForAll(ids: string[], timeoutMs: number): Promise<Map<string, JsonBody>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await h.pool.query(
      `SELECT id, account_id, status, reason, seq, received_at FROM signals WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const terminal = rows.filter((r) => ['executed', 'ignored', 'failed', 'rejected'].includes(r.status));
    if (terminal.length === ids.length) return new Map(rows.map((r) => [r.id as string, r]));
    if (Date.now() > until) {
      throw new Error(
        `${ids.length - terminal.length} of ${ids.length} signals still unfinished after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  // One worker at its default concurrency: Postgres connections are shared with the other e2e files running
  // alongside (two at a time); more workers here made theirs fail with "too many clients".
  h = await E2EHarness.start({ workers: { binance: 1, okx: 0 } });
  const made = await inBatches(Array.from({ length: MEMBERS }), 10, (_x, i) =>
    h.registerAccount('binance', {
      accountId: `grp_${String(i).padStart(3, '0')}`,
      settings: { auto_sl_tp: false },
    }),
  );
  accounts.push(...made);
}, 240_000);

afterAll(async () => {
  await h?.stop();
}, 60_000);

describe('one alert, 200 accounts', () => {
  const halted = () => accounts[17]!;
  const doubled = () => accounts[42]!;
  const fixed = () => accounts[99]!;
  let entryIds: string[] = [];

  it('creates the group through the admin API and halts one member', async () => {
    const res = await h.api('POST', '/api/v1/groups', {
      group_id: 'desk200',
      name: 'Two hundred',
      members: accounts.map((a) => ({
        exchange: a.exchange,
        account_id: a.accountId,
        ...(a === doubled() ? { quantity_multiplier: 2 } : {}),
        ...(a === fixed() ? { quantity: 0.003 } : {}),
      })),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.group.member_count).toBe(MEMBERS);
    const halt = await h.api('POST', `/api/v1/accounts/binance/${halted().accountId}/halt`, {
      reason: 'test',
    });
    expect(halt.status).toBe(200);
  });

  it('one alert → 200 signals → 199 orders at the simulator and in Postgres; the halted member is rejected', async () => {
    const alert = {
      group_id: 'desk200',
      action: 'long',
      symbol: BTC,
      quantity: 0.002,
      secret: h.webhookSecret,
      id: 'grp-long-1',
    };
    const res = await h.webhook(alert);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.count).toBe(MEMBERS);
    entryIds = res.body.signals.map((s: JsonBody) => s.signal_id);
    expect(new Set(entryIds).size).toBe(MEMBERS);
    expect(new Set(res.body.signals.map((s: JsonBody) => s.account_id))).toEqual(
      new Set(accounts.map((a) => a.accountId)),
    );

    // A resend of the same alert is a duplicate for the whole group.
    const dup = await h.webhook(alert);
    expect(dup.status).toBe(409);
    expect(dup.body.signal_ids).toHaveLength(MEMBERS);

    const rows = await waitForAll(entryIds, 180_000);
    const byAccount = new Map([...rows.values()].map((r) => [r.account_id as string, r]));
    const statuses = [...rows.values()].map((r) => r.status);
    expect(statuses.filter((s) => s === 'executed')).toHaveLength(MEMBERS - 1);
    const rejected = byAccount.get(halted().accountId)!;
    expect(rejected.status).toBe('rejected');
    expect(rejected.reason).toMatch(/trading is disabled for this account/);

    // Each member's signal has its own trace: its own request row, seq 1 of its own key.
    for (const r of rows.values()) expect(Number(r.seq)).toBe(1);
    const { rows: orders } = await h.pool.query(
      `SELECT o.signal_id, o.account_id, o.leg, o.status, o.filled_amount FROM orders o
        WHERE o.signal_id = ANY($1::uuid[]) AND o.leg = 'entry'`,
      [entryIds],
    );
    expect(orders).toHaveLength(MEMBERS - 1);
    expect(new Set(orders.map((o) => o.signal_id)).size).toBe(MEMBERS - 1);
    expect(orders.find((o) => o.account_id === halted().accountId)).toBeUndefined();
    const filled = new Map(orders.map((o) => [o.account_id as string, Number(o.filled_amount)]));
    expect(filled.get(doubled().accountId)).toBe(0.004);
    expect(filled.get(fixed().accountId)).toBe(0.003);
    expect(filled.get(accounts[0]!.accountId)).toBe(0.002);

    // At the simulator: every member but the halted one holds its position; the halted one sent nothing.
    const views = await inBatches(accounts, 20, (a) => h.simAccount(a));
    views.forEach((view, i) => {
      const a = accounts[i]!;
      const expected =
        a === halted()
          ? []
          : [
              expect.objectContaining({
                symbol: BTC,
                qty: a === doubled() ? 0.004 : a === fixed() ? 0.003 : 0.002,
              }),
            ];
      expect(view.positions, a.accountId).toEqual(expected);
    });
    expect(await h.simOrders(halted())).toEqual([]);
  }, 240_000);

  it('the next alert of the group runs after the first on every member (seq 2 of each key)', async () => {
    const res = await h.webhook({
      group_id: 'desk200',
      action: 'close_long',
      symbol: BTC,
      secret: h.webhookSecret,
      id: 'grp-close-1',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const ids: string[] = res.body.signal_ids;
    const rows = await waitForAll(ids, 180_000);
    for (const r of rows.values()) {
      expect(Number(r.seq)).toBe(2);
      // Exits are never blocked, a halted account included: it has nothing to close.
      expect(r.status, `${r.account_id}: ${r.reason}`).toBe(
        r.account_id === halted().accountId ? 'ignored' : 'executed',
      );
    }
    const { rows: order } = await h.pool.query(
      `SELECT count(*)::int AS n FROM signals a JOIN signals b ON a.account_id = b.account_id
        WHERE a.id = ANY($1::uuid[]) AND b.id = ANY($2::uuid[]) AND b.completed_at <= a.completed_at`,
      [ids, entryIds],
    );
    expect(order[0].n).toBe(MEMBERS);
    const views = await inBatches(accounts, 20, (a) => h.simAccount(a));
    for (const view of views) expect(view.positions).toEqual([]);
  }, 240_000);
});
