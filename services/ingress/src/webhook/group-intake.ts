import { createHash, randomUUID } from 'node:crypto';
import {
  groupWebhookPayloadSchema,
  MAX_GROUP_MEMBERS,
  isExitAction,
  memberQuantity,
  normaliseWebhook,
  sequenceKey,
  TimestampFormatError,
  type GroupWebhookPayload,
  type NormalisedSignal,
  type SignalJob,
} from '@tradehook/contracts';
import { safeEqual, verifyWebhookSecretHash } from '@tradehook/credentials';
import {
  findGroupForAlert,
  findSignalIdsByDedupKeys,
  findSignalStatus,
  insertQueuedSignals,
  markSignalUnqueued,
  UNQUEUED_REASON,
  type GroupForAlert,
} from '@tradehook/db';
import type { Logger } from '@tradehook/logger';
import type { IngressDeps } from '../deps.ts';
import { ApiError, validationFailed } from '../http-errors.ts';

/**
 * Group alerts (docs/decisions/0022-account-groups.md): an alert naming `group_id` is fanned out here, at
 * recording time, into one signal per member account: each with its own id, dedup key, per-(account, symbol)
 * seq and job, all inserted in one transaction, so nothing accepted is lost and a duplicate alert is a
 * duplicate for the whole group (409). From there on each member's signal is an ordinary signal: risk decides
 * it with that account's own limits (a halted account is rejected with its reason), the worker executes it;
 * one member's failure never touches another's.
 */

export interface ValidatedGroupAlert {
  groupId: string;
  payload: GroupWebhookPayload;
  secret: string;
  /** When the alert fired (epoch ms), if it said so. */
  sentAt: number | undefined;
}

/** True when the body asks for a group alert (a `group_id` field is present). */
export function isGroupAlert(body: Record<string, unknown>): boolean {
  return body.group_id !== undefined;
}

/** Validates a group alert's body (no I/O). */
export function validateGroupAlert(body: Record<string, unknown>): ValidatedGroupAlert {
  if (typeof body.secret !== 'string' || body.secret === '') {
    throw new ApiError('invalid_secret', 'Invalid webhook secret');
  }
  if (body.account_id !== undefined) {
    throw new ApiError(
      'validation_failed',
      'give account_id or group_id, not both: a group alert trades on every member account of the group',
      [{ path: 'group_id', message: 'account_id and group_id are exclusive' }],
    );
  }
  const parsed = groupWebhookPayloadSchema.safeParse(body);
  if (!parsed.success) throw validationFailed(parsed.error);
  const payload = parsed.data;
  let sentAt: number | undefined;
  try {
    // The same normalisation as a single alert (timestamp formats, aliases), once for the whole group.
    sentAt = normaliseWebhook({
      ...payload,
      account_id: '-',
      exchange: payload.exchange ?? 'binance',
    }).sent_at;
  } catch (err) {
    if (err instanceof TimestampFormatError) throw new ApiError('validation_failed', err.message);
    throw err;
  }
  return { groupId: payload.group_id, payload, secret: payload.secret, sentAt };
}

/**
 * Loads the group and authenticates the alert against the group's own secret, else WEBHOOK_SECRET. As for
 * accounts, an unknown group is only named to a caller holding the global secret (no probing of group ids).
 */
export async function authenticateGroupAlert(
  deps: IngressDeps,
  alert: ValidatedGroupAlert,
  receivedAt: number,
): Promise<GroupForAlert> {
  let loaded: GroupForAlert | null;
  try {
    loaded = await findGroupForAlert(deps.pgPool, alert.groupId);
  } catch {
    throw new ApiError('unavailable', 'database unavailable, please retry');
  }
  const globalOk = () => safeEqual(alert.secret, deps.config.WEBHOOK_SECRET);
  if (!loaded) {
    if (!globalOk()) throw new ApiError('invalid_secret', 'Invalid webhook secret');
    throw new ApiError('group_not_found', `account group "${alert.groupId}" not found`);
  }
  const hash = loaded.group.webhookSecretHash;
  const secretOk = hash ? verifyWebhookSecretHash(alert.secret, hash) : globalOk();
  if (!secretOk) throw new ApiError('invalid_secret', 'Invalid webhook secret');

  const { max_lag: maxLag } = alert.payload;
  if (alert.sentAt !== undefined && maxLag !== undefined) {
    const lagMs = receivedAt - alert.sentAt;
    if (lagMs > maxLag * 1000) {
      throw new ApiError(
        'stale_signal',
        `alert is ${Math.round(lagMs / 1000)} s old, more than max_lag ${maxLag} s`,
      );
    }
  }
  if (loaded.members.length === 0) {
    throw new ApiError('validation_failed', `account group "${alert.groupId}" has no members`);
  }
  if (loaded.members.length > MAX_GROUP_MEMBERS) {
    throw new ApiError(
      'validation_failed',
      `account group "${alert.groupId}" has ${loaded.members.length} members, more than ${MAX_GROUP_MEMBERS}`,
    );
  }
  const exchange = alert.payload.exchange;
  if (exchange !== undefined) {
    const others = loaded.members.filter((m) => m.exchange !== exchange);
    if (others.length > 0) {
      const named = others
        .slice(0, 5)
        .map((m) => `${m.exchange}:${m.accountId}`)
        .join(', ');
      throw new ApiError(
        'validation_failed',
        `exchange is ${exchange} but ${others.length} member(s) of group "${alert.groupId}" are not (${named}${others.length > 5 ? ', …' : ''}); leave exchange out to trade every member on its own exchange`,
      );
    }
  }
  return loaded;
}

/** One normalised signal per member: the alert with the member's account, exchange and sizing. */
export function memberSignals(alert: ValidatedGroupAlert, loaded: GroupForAlert): NormalisedSignal[] {
  return loaded.members.map((m) => {
    const signal = normaliseWebhook({ ...alert.payload, account_id: m.accountId, exchange: m.exchange });
    // A close that names no quantity closes the whole position (or its close_pct): a member's fixed
    // quantity must not turn it into a partial close.
    const quantity =
      isExitAction(signal.action) && signal.quantity === undefined
        ? undefined
        : memberQuantity(signal.quantity, m);
    if (quantity === undefined) delete signal.quantity;
    else signal.quantity = quantity;
    signal.group_id = alert.groupId;
    return signal;
  });
}

/** The arrival-order keys of a group alert's member signals (taken all at once by the router). */
export function memberSeqKeys(signals: NormalisedSignal[]): string[] {
  return signals.map((s) => sequenceKey(s.exchange, s.account_id, s.symbol));
}

export interface AcceptedGroupSignal {
  signalId: string;
  seq: number;
  seqKey: string;
  signal: NormalisedSignal;
}

const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The group alert's dedup key: its explicit alert id, else a hash of the alert (no secret). */
function groupDedupKey(alert: ValidatedGroupAlert): { key: string; explicit: boolean } {
  const { secret: _secret, id, alert_id: alertId, ...rest } = alert.payload;
  const explicit = alertId ?? id;
  if (explicit !== undefined) return { key: `gid:${alert.groupId}:${String(explicit)}`, explicit: true };
  const canonical = JSON.stringify(
    Object.entries(rest)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const hash = createHash('sha256').update(canonical).digest('base64url').slice(0, 32);
  return { key: `gh:${alert.groupId}:${hash}`, explicit: false };
}

/**
 * Deduplicates the alert once for the group (Redis marker, then the member signals' unique dedup keys),
 * records every member signal in one transaction and enqueues their jobs. A failed enqueue marks every member
 * signal unqueued and answers 503, so TradingView's resend is taken as new.
 */
export async function acceptGroupSignals(
  deps: IngressDeps,
  alert: ValidatedGroupAlert,
  signals: NormalisedSignal[],
  ctx: { requestId: string; sourceIp: string | null; receivedAt: number; logger: Logger },
): Promise<AcceptedGroupSignal[]> {
  const { config, redis, pgPool } = deps;
  const ids = signals.map(() => randomUUID());
  const windowMs = config.DEDUP_WINDOW_SECONDS * 1000;
  const dedup = groupDedupKey(alert);
  const pgGroupKey = dedup.explicit ? dedup.key : `${dedup.key}:${Math.floor(ctx.receivedAt / windowMs)}`;
  const memberKeys = signals.map((s) => `${pgGroupKey}:${s.exchange}:${s.account_id}`);
  const redisKey = `${config.QUEUE_PREFIX}:dedup:${dedup.key}`;
  const marker = ids[0]!;

  let claimed: string | null;
  try {
    claimed = await redis.set(redisKey, marker, 'PX', windowMs, 'NX');
  } catch {
    throw new ApiError('queue_unavailable', 'queue unavailable, please retry');
  }
  if (claimed === null) {
    const holder = await redis.get(redisKey).catch(() => null);
    const row = holder ? await findSignalStatus(pgPool, holder) : null;
    if (row && !(row.status === 'failed' && row.reason === UNQUEUED_REASON)) {
      throw duplicate(await findSignalIdsByDedupKeys(pgPool, memberKeys).catch(() => [row.id]));
    }
    if (row) await redis.set(redisKey, marker, 'PX', windowMs).catch(() => undefined);
  }
  const release = () =>
    redis.eval(RELEASE_SCRIPT, 1, redisKey, marker).then(
      () => undefined,
      () => undefined,
    );

  const seqKeys = memberSeqKeys(signals);
  const receivedAt = new Date(ctx.receivedAt);
  let seqs: number[] | null;
  try {
    seqs = await insertQueuedSignals(
      pgPool,
      signals.map((signal, i) => ({
        id: ids[i]!,
        signal,
        dedupKey: memberKeys[i]!,
        seqKey: seqKeys[i]!,
        requestId: ctx.requestId,
        sourceIp: ctx.sourceIp,
        receivedAt,
      })),
    );
  } catch (err) {
    await release();
    ctx.logger.error('group signal insert failed', { err: (err as Error).message });
    throw new ApiError('unavailable', 'database unavailable, please retry');
  }
  if (seqs === null) {
    const originals = await findSignalIdsByDedupKeys(pgPool, memberKeys).catch(() => []);
    if (originals[0]) await redis.set(redisKey, originals[0], 'PX', windowMs).catch(() => undefined);
    else await release();
    throw duplicate(originals);
  }

  const jobs = signals.map((signal, i) => ({
    name: 'signal',
    data: { signalId: ids[i]!, requestId: ctx.requestId, receivedAt: ctx.receivedAt, signal } as SignalJob,
    opts: { jobId: ids[i]! },
  }));
  try {
    await deps.queues.signals.addBulk(jobs);
  } catch (err) {
    ctx.logger.error('group enqueue failed; signals recorded as failed, client told to retry', {
      groupId: alert.groupId,
      err: (err as Error).message,
    });
    // A job that did get in finds its row failed and stops there (risk decides only `queued` rows).
    for (const id of ids) {
      await markSignalUnqueued(pgPool, id).catch((e: Error) =>
        ctx.logger.error('could not mark unqueued signal', { signalId: id, err: e.message }),
      );
    }
    await release();
    throw new ApiError('queue_unavailable', 'queue unavailable, please retry', undefined, {
      signal_ids: ids,
    });
  }
  return signals.map((signal, i) => ({ signalId: ids[i]!, seq: seqs[i]!, seqKey: seqKeys[i]!, signal }));
}

function duplicate(originalIds: string[]): ApiError {
  return new ApiError(
    'duplicate',
    'duplicate alert: this group alert was already received',
    undefined,
    originalIds.length ? { signal_id: originalIds[0], signal_ids: originalIds } : undefined,
  );
}
