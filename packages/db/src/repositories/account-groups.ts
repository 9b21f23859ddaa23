import type pg from 'pg';
import type { Exchange } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';
import type { NewSignal } from './signals.ts';

/**
 * The `account_groups` and `account_group_members` tables (docs/decisions/0022-account-groups.md), and the
 * one-transaction insert of a group alert's signals.
 */

export interface GroupRecord {
  id: string;
  groupId: string;
  name: string | null;
  webhookSecretHash: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupSummary extends GroupRecord {
  memberCount: number;
}

export interface GroupMemberRecord {
  accountRowId: string;
  exchange: Exchange;
  accountId: string;
  quantity: number | null;
  quantityMultiplier: number | null;
  /** The member account's own kill switch (risk_limits.trading_enabled; no row = enabled). */
  tradingEnabled: boolean;
  createdAt: Date;
}

const GROUP_COLUMNS = `g.id, g.group_id AS "groupId", g.name, g.webhook_secret_hash AS "webhookSecretHash",
       g.created_at AS "createdAt", g.updated_at AS "updatedAt"`;

/** Inserts a group; null when the group id is taken. */
export async function insertGroup(
  db: Queryable,
  g: { id: string; groupId: string; name: string | null; webhookSecretHash: string | null },
): Promise<GroupRecord | null> {
  const { rows } = await db.query<GroupRecord>(
    `INSERT INTO account_groups AS g (id, group_id, name, webhook_secret_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT (group_id) DO NOTHING
     RETURNING ${GROUP_COLUMNS}`,
    [g.id, g.groupId, g.name, g.webhookSecretHash],
  );
  return rows[0] ?? null;
}

export async function findGroup(db: Queryable, groupId: string): Promise<GroupRecord | null> {
  const { rows } = await db.query<GroupRecord>(
    `SELECT ${GROUP_COLUMNS} FROM account_groups g WHERE g.group_id = $1`,
    [groupId],
  );
  return rows[0] ?? null;
}

/** Every group by id, with its member count. */
export async function listGroups(db: Queryable): Promise<GroupSummary[]> {
  const { rows } = await db.query<GroupRecord & { memberCount: string }>(
    `SELECT ${GROUP_COLUMNS}, (SELECT count(*) FROM account_group_members m WHERE m.group_row_id = g.id) AS "memberCount"
       FROM account_groups g ORDER BY g.group_id`,
  );
  return rows.map((r) => ({ ...r, memberCount: Number(r.memberCount) }));
}

/** Changes name and/or secret hash (undefined = unchanged, null = cleared). False when the group is gone. */
export async function updateGroup(
  db: Queryable,
  groupId: string,
  patch: { name?: string | null; webhookSecretHash?: string | null },
): Promise<boolean> {
  const sets: string[] = [];
  const values: unknown[] = [groupId];
  if (patch.name !== undefined) sets.push(`name = $${values.push(patch.name)}`);
  if (patch.webhookSecretHash !== undefined)
    sets.push(`webhook_secret_hash = $${values.push(patch.webhookSecretHash)}`);
  const { rowCount } = await db.query(
    `UPDATE account_groups SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE group_id = $1`,
    values,
  );
  return (rowCount ?? 0) > 0;
}

/** Deletes a group and its memberships (never the accounts, never their signals). */
export async function deleteGroup(db: Queryable, groupId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM account_groups WHERE group_id = $1', [groupId]);
  return (rowCount ?? 0) > 0;
}

/** Members in (exchange, account id) order, with their sizing and their account's kill switch. */
export async function listGroupMembers(db: Queryable, groupRowId: string): Promise<GroupMemberRecord[]> {
  const { rows } = await db.query<{
    accountRowId: string;
    exchange: Exchange;
    accountId: string;
    quantity: string | null;
    quantityMultiplier: string | null;
    tradingEnabled: boolean | null;
    createdAt: Date;
  }>(
    `SELECT a.id AS "accountRowId", a.exchange::text AS exchange, a.account_id AS "accountId",
            m.quantity, m.quantity_multiplier AS "quantityMultiplier",
            l.trading_enabled AS "tradingEnabled", m.created_at AS "createdAt"
       FROM account_group_members m
       JOIN accounts a ON a.id = m.account_row_id
       LEFT JOIN risk_limits l ON l.account_row_id = a.id
      WHERE m.group_row_id = $1
      ORDER BY a.exchange, a.account_id`,
    [groupRowId],
  );
  return rows.map((r) => ({
    ...r,
    quantity: r.quantity === null ? null : Number(r.quantity),
    quantityMultiplier: r.quantityMultiplier === null ? null : Number(r.quantityMultiplier),
    tradingEnabled: r.tradingEnabled ?? true,
  }));
}

export interface MemberChange {
  exchange: Exchange;
  accountId: string;
  quantity: number | null;
  quantityMultiplier: number | null;
}

export type UpsertMembersResult =
  | { ok: true; added: number; updated: number }
  | { ok: false; reason: 'group_not_found' }
  | { ok: false; reason: 'unknown_accounts'; unknown: string[] }
  | { ok: false; reason: 'too_many'; count: number };

/**
 * Adds members (an existing member's sizing is replaced), in one transaction holding the group row, so two
 * concurrent additions cannot pass `maxMembers` together.
 */
export async function upsertGroupMembers(
  pool: pg.Pool,
  groupId: string,
  members: MemberChange[],
  maxMembers: number,
): Promise<UpsertMembersResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const group = await client.query<{ id: string }>(
      'SELECT id FROM account_groups WHERE group_id = $1 FOR UPDATE',
      [groupId],
    );
    const groupRowId = group.rows[0]?.id;
    if (!groupRowId) {
      await client.query('ROLLBACK');
      return { ok: false, reason: 'group_not_found' };
    }
    const keys = members.map((m) => `${m.exchange}:${m.accountId}`);
    const found = await client.query<{ id: string; key: string }>(
      `SELECT id, exchange::text || ':' || account_id AS key FROM accounts
        WHERE exchange::text || ':' || account_id = ANY($1::text[])`,
      [keys],
    );
    const rowIds = new Map(found.rows.map((r) => [r.key, r.id]));
    const unknown = keys.filter((k) => !rowIds.has(k));
    if (unknown.length > 0) {
      await client.query('ROLLBACK');
      return { ok: false, reason: 'unknown_accounts', unknown };
    }
    const { rows } = await client.query<{ inserted: boolean }>(
      `INSERT INTO account_group_members (group_row_id, account_row_id, quantity, quantity_multiplier)
       SELECT $1, * FROM unnest($2::uuid[], $3::numeric[], $4::numeric[])
       ON CONFLICT (group_row_id, account_row_id)
         DO UPDATE SET quantity = EXCLUDED.quantity, quantity_multiplier = EXCLUDED.quantity_multiplier
       RETURNING (xmax = 0) AS inserted`,
      [
        groupRowId,
        keys.map((k) => rowIds.get(k)),
        members.map((m) => m.quantity),
        members.map((m) => m.quantityMultiplier),
      ],
    );
    const count = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM account_group_members WHERE group_row_id = $1',
      [groupRowId],
    );
    const n = count.rows[0]?.n ?? 0;
    if (n > maxMembers) {
      await client.query('ROLLBACK');
      return { ok: false, reason: 'too_many', count: n };
    }
    await client.query('UPDATE account_groups SET updated_at = now() WHERE id = $1', [groupRowId]);
    await client.query('COMMIT');
    const added = rows.filter((r) => r.inserted).length;
    return { ok: true, added, updated: rows.length - added };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Removes one member; false when it was not a member. */
export async function removeGroupMember(
  db: Queryable,
  groupRowId: string,
  exchange: Exchange,
  accountId: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM account_group_members m USING accounts a
      WHERE m.group_row_id = $1 AND m.account_row_id = a.id
        AND a.exchange = $2::"Exchange" AND a.account_id = $3`,
    [groupRowId, exchange, accountId],
  );
  return (rowCount ?? 0) > 0;
}

/** What a group alert needs in one round trip: the group, its secret hash and its members' sizing. */
export interface GroupForAlert {
  group: GroupRecord;
  members: Array<Pick<GroupMemberRecord, 'exchange' | 'accountId' | 'quantity' | 'quantityMultiplier'>>;
}

export async function findGroupForAlert(db: Queryable, groupId: string): Promise<GroupForAlert | null> {
  const group = await findGroup(db, groupId);
  if (!group) return null;
  const { rows } = await db.query<{
    exchange: Exchange;
    accountId: string;
    quantity: string | null;
    quantityMultiplier: string | null;
  }>(
    `SELECT a.exchange::text AS exchange, a.account_id AS "accountId", m.quantity,
            m.quantity_multiplier AS "quantityMultiplier"
       FROM account_group_members m JOIN accounts a ON a.id = m.account_row_id
      WHERE m.group_row_id = $1
      ORDER BY a.exchange, a.account_id`,
    [group.id],
  );
  return {
    group,
    members: rows.map((r) => ({
      exchange: r.exchange,
      accountId: r.accountId,
      quantity: r.quantity === null ? null : Number(r.quantity),
      quantityMultiplier: r.quantityMultiplier === null ? null : Number(r.quantityMultiplier),
    })),
  };
}

/**
 * Inserts every member signal of one group alert as `queued`, each with its own per-key seq (the same
 * statement as insertQueuedSignal), in ONE transaction: all are recorded or none. Keys are locked in sorted
 * order, so two group alerts sharing members cannot deadlock. Returns the seqs in input order, or null when
 * any dedup key already exists (the whole alert is a duplicate; nothing is kept).
 */
export async function insertQueuedSignals(pool: pg.Pool, signals: NewSignal[]): Promise<number[] | null> {
  const order = signals
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (a.s.seqKey < b.s.seqKey ? -1 : a.s.seqKey > b.s.seqKey ? 1 : 0));
  const seqs = new Array<number>(signals.length);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const { s, i } of order) {
      const { rows } = await client.query<{ seq: string }>(INSERT_QUEUED_SQL, insertValues(s));
      const row = rows[0];
      if (!row) {
        await client.query('ROLLBACK');
        return null;
      }
      seqs[i] = Number(row.seq);
    }
    await client.query('COMMIT');
    return seqs;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const INSERT_QUEUED_SQL = `WITH next AS (
       INSERT INTO signal_sequences (key, last_seq) VALUES ($1, 1)
       ON CONFLICT (key) DO UPDATE SET last_seq = signal_sequences.last_seq + 1
       RETURNING last_seq
     )
     INSERT INTO signals (id, exchange, account_id, action, symbol, payload, dedup_key, seq_key, seq, status,
                          request_id, source_ip, received_at, updated_at)
     SELECT $2, $3::"Exchange", $4, $5, $6, $7::jsonb, $8, $1, next.last_seq, 'queued', $9, $10, $11, $11
       FROM next
     ON CONFLICT (dedup_key) DO NOTHING
     RETURNING seq`;

function insertValues(s: NewSignal): unknown[] {
  return [
    s.seqKey,
    s.id,
    s.signal.exchange,
    s.signal.account_id,
    s.signal.action,
    s.signal.symbol,
    JSON.stringify(s.signal),
    s.dedupKey,
    s.requestId,
    s.sourceIp,
    s.receivedAt,
  ];
}

/** The signal ids recorded under any of these dedup keys (the originals of a duplicate group alert). */
export async function findSignalIdsByDedupKeys(db: Queryable, keys: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM signals WHERE dedup_key = ANY($1::text[]) ORDER BY exchange, account_id',
    [keys],
  );
  return rows.map((r) => r.id);
}
