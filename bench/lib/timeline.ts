import pg from 'pg';
import type { BenchEnvironment } from './environment.ts';
import { waitUntil } from '../../scripts/lib/supervisor.ts';

/** What the pipeline recorded about each benchmark signal (epoch ms), read straight from Postgres. */
export interface SignalTimeline {
  id: string;
  alertId: string;
  accountId: string;
  status: string;
  reason: string | null;
  receivedAt: number;
  riskDecidedAt: number | null;
  execStartedAt: number | null;
  completedAt: number | null;
  /** The signal's first entry/exit order leg. */
  clientOrderId: string | null;
  sentAt: number | null;
}

export const TERMINAL = ['rejected', 'executed', 'ignored', 'failed'];

const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

export async function withDb<T>(env: BenchEnvironment, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Signals whose alert id starts with `alertPrefix`, grouped by status. */
export async function countByStatus(
  env: BenchEnvironment,
  alertPrefix: string,
): Promise<Record<string, number>> {
  return withDb(env, async (client) => {
    const { rows } = await client.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM signals WHERE payload->>'alert_id' LIKE $1 GROUP BY status`,
      [`${alertPrefix}%`],
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  });
}

/**
 * Waits until at least `count` signals of the prefix exist and every one of them is in `statuses`. (An alert
 * whose answer timed out at the sender may still have been accepted: it is waited for too.)
 */
export async function waitForStatuses(
  env: BenchEnvironment,
  alertPrefix: string,
  count: number,
  statuses: string[],
  timeoutMs: number,
): Promise<Record<string, number>> {
  let last: Record<string, number> = {};
  try {
    await waitUntil(
      `${count} signals ${alertPrefix}* to reach ${statuses.join('|')}`,
      async () => {
        last = await countByStatus(env, alertPrefix);
        const all = Object.values(last).reduce((n, c) => n + c, 0);
        const done = statuses.reduce((n, s) => n + (last[s] ?? 0), 0);
        return done >= count && done === all;
      },
      { timeoutMs },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; statuses so far ${JSON.stringify(last)}`, { cause: err });
  }
  return last;
}

export async function readTimelines(env: BenchEnvironment, alertPrefix: string): Promise<SignalTimeline[]> {
  return withDb(env, async (client) => {
    const { rows } = await client.query<SignalTimeline>(
      `SELECT s.id, s.payload->>'alert_id' AS "alertId", s.account_id AS "accountId", s.status, s.reason,
              ${ms('s.received_at')} AS "receivedAt", ${ms('s.risk_decided_at')} AS "riskDecidedAt",
              ${ms('s.exec_started_at')} AS "execStartedAt", ${ms('s.completed_at')} AS "completedAt",
              o.client_order_id AS "clientOrderId", ${ms('o.sent_at')} AS "sentAt"
         FROM signals s
         LEFT JOIN LATERAL (
           SELECT client_order_id, sent_at FROM orders
            WHERE signal_id = s.id AND leg IN ('entry', 'exit')
            ORDER BY sent_at NULLS LAST, created_at
            LIMIT 1
         ) o ON true
        WHERE s.payload->>'alert_id' LIKE $1`,
      [`${alertPrefix}%`],
    );
    return rows;
  });
}
