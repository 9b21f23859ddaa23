import { sequenceKey } from '@tradehook/contracts';
import { findSignalStatus } from '@tradehook/db';
import { publishSignalChanged } from '@tradehook/queue';
import { Router, type Request, type Response } from 'express';
import type { IngressDeps } from '../deps.ts';
import { ApiError } from '../http-errors.ts';
import { redisRateLimit } from '../rate-limit.ts';
import { requestIdOf, requestLogger, setAccessLine } from '../request-context.ts';
import { ipAllowList, plainIp } from './ip-allowlist.ts';
import { ArrivalOrder } from './arrival-order.ts';
import { acceptSignal, authenticateSignal, parseWebhookBody, validateSignal } from './intake.ts';
import { sendAccepted, sendOutcome, statusUrl } from './outcome.ts';
import {
  acceptGroupSignals,
  authenticateGroupAlert,
  isGroupAlert,
  memberSeqKeys,
  memberSignals,
  validateGroupAlert,
} from './group-intake.ts';

const ACCEPTED_TYPES = ['application/json', 'application/*+json', 'text/plain'];

/** `?wait=<ms>` (bare `?wait` = the maximum), bounded by WEBHOOK_WAIT_MAX_MS; 0 = answer at once. */
function waitMs(req: Request, max: number): number {
  const raw = req.query.wait;
  if (raw === undefined) return 0;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === '' || value === 'true') return max;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new ApiError('validation_failed', 'wait must be a number of milliseconds');
  return Math.min(Math.floor(n), max);
}

/**
 * `POST /api/v1/webhook/tradingview`: the TradingView receiver. Answers 202 after one Redis SET, one SQL
 * statement and one enqueue; never calls an exchange.
 */
export function createWebhookRouter(deps: IngressDeps): Router {
  const router = Router();
  const arrivals = new ArrivalOrder();
  router.post(
    '/api/v1/webhook/tradingview',
    ipAllowList(deps.config.IP_ALLOWLIST),
    redisRateLimit(deps, 'webhook', deps.config.RATE_LIMIT_WEBHOOK_MAX),
    async (req, res) => {
      const receivedAt = Date.now();
      const logger = requestLogger(res);
      if (!req.is(ACCEPTED_TYPES)) {
        if (
          !req.get('content-type') &&
          !Number(req.get('content-length') ?? 0) &&
          !req.get('transfer-encoding')
        ) {
          throw new ApiError('malformed', 'request body is empty');
        }
        throw new ApiError('unsupported_media_type', 'send the alert as application/json or text/plain');
      }
      const wait = waitMs(req, deps.config.WEBHOOK_WAIT_MAX_MS);
      const body = parseWebhookBody(req.body);
      if (isGroupAlert(body)) return groupAlert(body, receivedAt, res);
      // A refusal is logged with the request's access line (request-context.ts), with the source IP.
      const validated = validateSignal(body);
      // Taken before the first await: alerts of one key are recorded (and sequenced) in arrival order.
      const { exchange, account_id: accountId, symbol } = validated.signal;
      const release = await arrivals.enter(sequenceKey(exchange, accountId, symbol));
      let signal;
      let done: Promise<boolean> | undefined;
      let accepted;
      try {
        signal = await authenticateSignal(deps, validated, receivedAt);
        accepted = await acceptSignal(
          deps,
          signal,
          { requestId: requestIdOf(res), sourceIp: plainIp(req.ip) || null, receivedAt, logger },
          // Listen before enqueueing so a fast outcome cannot slip past the waiter.
          wait > 0 ? (id) => (done = deps.signalDone.wait(id, wait)) : undefined,
        );
      } finally {
        release();
      }
      // One line per accepted webhook: the access line, written when the answer is sent, carries these too.
      setAccessLine(res, 'signal accepted', {
        signalId: accepted.signalId,
        seqKey: accepted.seqKey,
        seq: accepted.seq,
        action: signal.action,
        acceptMs: Date.now() - receivedAt,
      });
      // Live views (dashboard) only: never delays or fails the answer.
      publishSignalChanged(deps.redis, deps.config.QUEUE_PREFIX, accepted.signalId).catch(() => undefined);

      const summary = {
        id: accepted.signalId,
        status: 'queued',
        account_id: signal.account_id,
        exchange: signal.exchange,
        action: signal.action,
        symbol: signal.symbol,
      };
      if (!done) return sendAccepted(res, summary);
      await done;
      const row = await findSignalStatus(deps.pgPool, accepted.signalId).catch(() => null);
      if (!row) return sendAccepted(res, summary);
      sendOutcome(res, row);
    },
  );

  /**
   * A group alert (group-intake.ts): the group's turn first (group alerts of one group in arrival order),
   * then, once the members are known, every member key's turn at once, held until all are recorded.
   * `?wait` does not apply: the answer lists each member's signal id at once (202).
   */
  async function groupAlert(body: Record<string, unknown>, receivedAt: number, res: Response): Promise<void> {
    const logger = requestLogger(res);
    const alert = validateGroupAlert(body);
    const releases = [await arrivals.enter(`group:${alert.groupId}`)];
    let accepted;
    try {
      const loaded = await authenticateGroupAlert(deps, alert, receivedAt);
      const signals = memberSignals(alert, loaded);
      // Entered in one synchronous loop, so every request's turns form one order and cannot wait on each other.
      const turns = [...new Set(memberSeqKeys(signals))].map((key) => arrivals.enter(key));
      releases.push(...(await Promise.all(turns)));
      accepted = await acceptGroupSignals(deps, alert, signals, {
        requestId: requestIdOf(res),
        sourceIp: plainIp(res.req.ip) || null,
        receivedAt,
        logger,
      });
    } finally {
      for (const release of releases) release();
    }
    setAccessLine(res, 'group alert accepted', {
      groupId: alert.groupId,
      signals: accepted.length,
      action: alert.payload.action,
      acceptMs: Date.now() - receivedAt,
    });
    for (const a of accepted) {
      publishSignalChanged(deps.redis, deps.config.QUEUE_PREFIX, a.signalId).catch(() => undefined);
    }
    res.status(202).json({
      success: true,
      message: `Group alert accepted: ${accepted.length} signals queued`,
      group_id: alert.groupId,
      status: 'queued',
      action: alert.payload.action,
      symbol: accepted[0]?.signal.symbol,
      count: accepted.length,
      signal_ids: accepted.map((a) => a.signalId),
      signals: accepted.map((a) => ({
        signal_id: a.signalId,
        account_id: a.signal.account_id,
        exchange: a.signal.exchange,
        status: 'queued',
        status_url: statusUrl(a.signalId),
      })),
    });
  }
  return router;
}
