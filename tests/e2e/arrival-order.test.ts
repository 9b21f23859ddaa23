import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2EHarness, type E2EAccount, type JsonBody } from './harness.ts';

/**
 * The order of arrival decides the order of execution (README "What you can rely on"): two ingress processes,
 * four workers, ten (account, symbol) keys. Alerts of one key 10 and 50 ms apart reach the same ingress; 100 ms
 * apart they alternate between the two ingress processes (the documented cross-replica bound). Every key's
 * sequence numbers follow the sending order, and so do its orders at the exchange.
 */
let h: E2EHarness;
let secondIngress = '';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  h = await E2EHarness.start({
    workers: { binance: 2, okx: 2 },
    // Seven service processes here, and another test file's beside them, share one PostgreSQL with 100
    // connections: four workers at their default pools (10 + 5 each) would take most of it.
    env: { FILL_SYNC_INTERVAL_MS: '0', WORKER_PG_POOL_MAX: '6' },
  });
  const port = await freePort();
  await h.startService('ingress', { PORT: String(port), HOST: '127.0.0.1' }, 'ingress-2');
  secondIngress = `http://127.0.0.1:${port}`;
}, 180_000);

afterAll(async () => {
  await h?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function postTo(base: string, payload: unknown): Promise<string> {
  const res = await fetch(`${base}/api/v1/webhook/tradingview`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const body = (await res.json()) as JsonBody;
  if (res.status !== 202 && res.status !== 200)
    throw new Error(`webhook ${res.status} ${JSON.stringify(body)}`);
  return body.signal_id as string;
}

interface Key {
  account: E2EAccount;
  symbol: string;
  qty: number;
}

describe('arrival order across two ingress processes and four workers', () => {
  it('executes alerts 10, 50 and 100 ms apart in the order they arrived, for ten keys at once', async () => {
    const keys: Key[] = [];
    for (const exchange of ['binance', 'binance', 'binance', 'okx', 'okx'] as const) {
      const account = await h.registerAccount(exchange, { settings: { auto_sl_tp: false } });
      keys.push({ account, symbol: 'BTCUSDT', qty: 0.01 }, { account, symbol: 'ETHUSDT', qty: 0.1 });
    }
    expect(keys).toHaveLength(10);
    const plan: Array<{ gapMs: number; crossReplica: boolean }> = [
      { gapMs: 10, crossReplica: false },
      { gapMs: 50, crossReplica: false },
      { gapMs: 100, crossReplica: true },
    ];
    const actions = ['long', 'close_long', 'long', 'close_long'];
    const sent = new Map<Key, Array<Promise<string>>>(keys.map((k) => [k, []]));
    await Promise.all(
      keys.map(async (k, ki) => {
        for (const [pi, { gapMs, crossReplica }] of plan.entries()) {
          for (const [ai, action] of actions.entries()) {
            const base = crossReplica && ai % 2 === 1 ? secondIngress : h.ingressUrl;
            const alert = k.account.alert(action, k.symbol, { quantity: k.qty, id: `k${ki}p${pi}a${ai}` });
            // Not awaited: the next alert leaves `gapMs` after this one, whatever this one's answer time.
            sent.get(k)!.push(postTo(base, alert));
            await sleep(gapMs);
          }
          await sleep(300); // the plans of one key do not overlap
        }
      }),
    );
    const idsOf = new Map<Key, string[]>();
    for (const k of keys) idsOf.set(k, await Promise.all(sent.get(k)!));
    // One ingress sequences alerts of a key by when it receives them (received_at, its handler's clock): that is
    // asserted for the plans sent to one ingress. Across the two ingress processes the sequence is the order of
    // recording in Postgres, which can differ from received_at by the receive → record time; those inversions,
    // and alerts that reached an ingress in the other order than sent (client connect, event-loop lag on a
    // loaded host: no receiver can order what it has not received), are measured and printed.
    const perReplica = actions.length * 2;
    let crossInversions = 0;
    let wireInversions = 0;
    for (const k of keys) {
      const ids = idsOf.get(k)!;
      const { rows } = await h.pool.query<{ id: string; seq: string; received_at: Date }>(
        'SELECT id, seq, received_at FROM signals WHERE id = ANY($1::uuid[])',
        [ids],
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      const inversions = (list: typeof rows) => {
        // received_at has millisecond precision: alerts of one millisecond count in either order (ties by seq).
        const byArrival = [...list].sort(
          (a, b) => +a.received_at - +b.received_at || Number(a.seq) - Number(b.seq),
        );
        return byArrival.filter((r, i) => i > 0 && Number(r.seq) < Number(byArrival[i - 1]!.seq)).length;
      };
      const sameReplica = ids.slice(0, perReplica).map((id) => byId.get(id)!);
      expect(inversions(sameReplica), `${k.account.accountId} ${k.symbol}: seq follows arrival`).toBe(0);
      crossInversions += inversions(ids.slice(perReplica).map((id) => byId.get(id)!));
      wireInversions += ids.filter(
        (id, i) => i > 0 && Number(byId.get(id)!.seq) < Number(byId.get(ids[i - 1]!)!.seq),
      ).length;
    }
    console.log(
      `arrival order (10 keys × 12 alerts): same ingress 0 inversions; across two ingress processes ${crossInversions} of ${keys.length * 3} pairs recorded in the other order than received; ${wireInversions} of ${keys.length * 11} pairs reached an ingress in the other order than sent`,
    );

    // Execution follows the sequence: each key's orders at the exchange were placed in seq order.
    const all = [...idsOf.values()].flat();
    for (const o of await Promise.all(all.map((id) => h.waitForSignal(id, 90_000))))
      expect(['executed', 'ignored'], o.reason ?? '').toContain(o.status);
    const { rows: placed } = await h.pool.query<{ seq_key: string; seq: string }>(
      `SELECT s.seq_key, s.seq FROM orders o JOIN signals s ON s.id = o.signal_id
        WHERE s.id = ANY($1::uuid[]) ORDER BY o.sent_at, o.created_at`,
      [all],
    );
    const lastSeq = new Map<string, number>();
    for (const r of placed) {
      expect(Number(r.seq), r.seq_key).toBeGreaterThan(lastSeq.get(r.seq_key) ?? 0);
      lastSeq.set(r.seq_key, Number(r.seq));
    }
    expect(placed.length).toBeGreaterThan(keys.length * 4);
  }, 240_000);
});
