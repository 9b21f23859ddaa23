import { randomUUID } from 'node:crypto';
import {
  dedupKey,
  normaliseWebhook,
  sequenceKey,
  TimestampFormatError,
  webhookPayloadSchema,
  type NormalisedSignal,
  type SignalJob,
} from '@tradehook/contracts';
import { safeEqual, verifyWebhookSecretHash } from '@tradehook/credentials';
import {
  findSignalIdByDedupKey,
  findSignalStatus,
  insertQueuedSignal,
  markSignalUnqueued,
  UNQUEUED_REASON,
} from '@tradehook/db';
import type { Logger } from '@tradehook/logger';
import type { IngressDeps } from '../deps.ts';
import { ApiError, validationFailed } from '../http-errors.ts';

/** Turns a raw body (object from express.json or string from express.text) into a plain object. */
export function parseWebhookBody(body: unknown): Record<string, unknown> {
  let value = body;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') throw new ApiError('malformed', 'request body is empty');
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError('malformed', 'request body is not JSON: the alert message must be a JSON object');
    }
  }
  if (value === undefined || value === null) throw new ApiError('malformed', 'request body is empty');
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError('malformed', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export interface ValidatedSignal {
  signal: NormalisedSignal;
  secret: string;
}

/** Validates and normalises the body (no I/O, so the caller can take its arrival turn right after). */
export function validateSignal(body: Record<string, unknown>): ValidatedSignal {
  // A missing secret is an authentication failure, not a validation detail.
  if (typeof body.secret !== 'string' || body.secret === '') {
    throw new ApiError('invalid_secret', 'Invalid webhook secret');
  }
  const parsed = webhookPayloadSchema.safeParse(body);
  if (!parsed.success) {
    throw validationFailed(parsed.error);
  }
  const payload = parsed.data;
  let signal: NormalisedSignal;
  try {
    signal = normaliseWebhook(payload);
  } catch (err) {
    if (err instanceof TimestampFormatError) throw new ApiError('validation_failed', err.message);
    throw err;
  }
  return { signal, secret: payload.secret };
}

/**
 * Authenticates and checks staleness. Order matters: for an unknown account the global secret is checked
 * first, so without a valid secret nobody can probe which account ids exist.
 */
export async function authenticateSignal(
  deps: IngressDeps,
  { signal, secret }: ValidatedSignal,
  receivedAt: number,
): Promise<NormalisedSignal> {
  let account;
  try {
    account = await deps.accountCache.get(signal.exchange, signal.account_id);
  } catch {
    // 5xx on purpose: TradingView resends, and the resend can succeed once Postgres is back.
    throw new ApiError('unavailable', 'database unavailable, please retry');
  }
  const globalOk = () => safeEqual(secret, deps.config.WEBHOOK_SECRET);
  if (!account) {
    if (!globalOk()) throw new ApiError('invalid_secret', 'Invalid webhook secret');
    throw new ApiError('account_not_found', 'Account not found');
  }
  const secretOk = account.webhookSecretHash
    ? verifyWebhookSecretHash(secret, account.webhookSecretHash)
    : globalOk();
  if (!secretOk) throw new ApiError('invalid_secret', 'Invalid webhook secret');

  if (signal.sent_at !== undefined && signal.max_lag !== undefined) {
    const lagMs = receivedAt - signal.sent_at;
    if (lagMs > signal.max_lag * 1000) {
      throw new ApiError(
        'stale_signal',
        `alert is ${Math.round(lagMs / 1000)} s old, more than max_lag ${signal.max_lag} s`,
      );
    }
  }
  return signal;
}

export interface AcceptedSignal {
  signalId: string;
  seq: number;
  seqKey: string;
}

// Deletes the dedup marker only while it still names this signal.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Deduplicates, records (status `queued`, per-key seq in the same statement) and enqueues one signal.
 * Dedup (docs/decisions/0002-deduplication.md): Redis `SET NX PX window` is the fast check, the unique `signals.dedup_key`
 * the last word (hash keys carry the window bucket there). Failure to enqueue leaves a terminal `failed`
 * row whose dedup key is moved aside, and a 503 so TradingView resends.
 */
export async function acceptSignal(
  deps: IngressDeps,
  signal: NormalisedSignal,
  ctx: { requestId: string; sourceIp: string | null; receivedAt: number; logger: Logger },
  beforeEnqueue?: (signalId: string) => void,
): Promise<AcceptedSignal> {
  const { config, redis, pgPool } = deps;
  const signalId = randomUUID();
  const windowMs = config.DEDUP_WINDOW_SECONDS * 1000;
  const dedup = dedupKey(signal);
  const pgDedupKey = dedup.explicit ? dedup.key : `${dedup.key}:${Math.floor(ctx.receivedAt / windowMs)}`;
  const redisKey = `${config.QUEUE_PREFIX}:dedup:${dedup.key}`;

  let claimed: string | null;
  try {
    claimed = await redis.set(redisKey, signalId, 'PX', windowMs, 'NX');
  } catch {
    throw new ApiError('queue_unavailable', 'queue unavailable, please retry');
  }
  if (claimed === null) {
    // Someone holds the marker: a duplicate, unless the holder never made it into the queue.
    const holder = await redis.get(redisKey).catch(() => null);
    const row = holder ? await findSignalStatus(pgPool, holder) : null;
    if (row && !(row.status === 'failed' && row.reason === UNQUEUED_REASON)) {
      throw duplicate(row.id);
    }
    if (row) await redis.set(redisKey, signalId, 'PX', windowMs).catch(() => undefined);
  }
  const release = () =>
    redis.eval(RELEASE_SCRIPT, 1, redisKey, signalId).then(
      () => undefined,
      () => undefined,
    );

  const seqKey = sequenceKey(signal.exchange, signal.account_id, signal.symbol);
  let seq: number | null;
  try {
    seq = await insertQueuedSignal(pgPool, {
      id: signalId,
      signal,
      dedupKey: pgDedupKey,
      seqKey,
      requestId: ctx.requestId,
      sourceIp: ctx.sourceIp,
      receivedAt: new Date(ctx.receivedAt),
    });
  } catch (err) {
    await release();
    ctx.logger.error('signal insert failed', { err: (err as Error).message });
    throw new ApiError('unavailable', 'database unavailable, please retry');
  }
  if (seq === null) {
    const original = await findSignalIdByDedupKey(pgPool, pgDedupKey);
    if (original) await redis.set(redisKey, original, 'PX', windowMs).catch(() => undefined);
    else await release();
    throw duplicate(original);
  }

  const job: SignalJob = {
    signalId,
    requestId: ctx.requestId,
    receivedAt: ctx.receivedAt,
    signal,
  };
  beforeEnqueue?.(signalId);
  try {
    await deps.queues.signals.add('signal', job, { jobId: signalId });
  } catch (err) {
    ctx.logger.error('enqueue failed; signal recorded as failed, client told to retry', {
      signalId,
      err: (err as Error).message,
    });
    await markSignalUnqueued(pgPool, signalId).catch((e: Error) =>
      ctx.logger.error('could not mark unqueued signal', { signalId, err: e.message }),
    );
    await release();
    throw new ApiError('queue_unavailable', 'queue unavailable, please retry', undefined, {
      signal_id: signalId,
    });
  }
  return { signalId, seq, seqKey };
}

function duplicate(originalId: string | null): ApiError {
  return new ApiError(
    'duplicate',
    'duplicate alert: this signal was already received',
    undefined,
    originalId ? { signal_id: originalId } : undefined,
  );
}
