import { PROTECTIVE_LEGS, type NotificationEvent, type OrderJob, type SignalJob } from '@tradehook/contracts';

/**
 * Notification events derived from what the services already record (a signal's outcome, a risk decision, new
 * fills), so the services emit with one call and the wording of an event lives here, not in the order path.
 */

/** A worker's terminal outcome, as process-order hands it to onCompleted. */
export interface OrderOutcome {
  status: 'executed' | 'ignored' | 'failed' | 'rejected';
  reason: string | null;
  result: { results: Record<string, unknown> };
}

type Leg = {
  filled?: unknown;
  amount?: unknown;
  average_price?: unknown;
  trigger_price?: unknown;
  status?: unknown;
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const leg = (v: unknown): Leg | undefined => (v && typeof v === 'object' ? (v as Leg) : undefined);

/** Trigger of a protection leg the exchange accepted (a refused one is reported in the reason instead). */
function placedTrigger(v: unknown): number | null {
  const l = leg(v);
  return l && l.status !== 'rejected' ? num(l.trigger_price) : null;
}

/** Exchange refusals of the key itself (ccxt AuthenticationError / PermissionDenied, named first by the worker). */
const KEY_REVOKED = /^(AuthenticationError|PermissionDenied)\b/;
const UNPROTECTED = /stop_loss not placed/;

export function eventsFromOrderOutcome(
  job: OrderJob,
  outcome: OrderOutcome,
  at = Date.now(),
): NotificationEvent[] {
  const s = job.signal;
  const base = {
    at,
    exchange: s.exchange,
    accountId: s.account_id,
    signalId: job.signalId,
    symbol: s.symbol,
  };
  const reason = outcome.reason ?? 'no reason recorded';
  switch (outcome.status) {
    case 'ignored':
      return [];
    case 'rejected':
      if (reason.includes('daily_loss_cap_reached')) return [{ kind: 'daily_loss_cap', ...base, reason }];
      return [{ kind: 'signal_rejected', ...base, action: s.action, reason, stage: 'execution' }];
    case 'failed': {
      if (reason.startsWith('unprotected'))
        return [{ kind: 'position_unprotected', ...base, reason, flattened: true }];
      const failed: NotificationEvent = { kind: 'signal_failed', ...base, action: s.action, reason };
      if (!KEY_REVOKED.test(reason)) return [failed];
      const { signalId: _id, symbol: _symbol, ...account } = base;
      return [failed, { kind: 'key_problem', ...account, problem: 'revoked', reason }];
    }
    case 'executed': {
      const r = outcome.result.results;
      const order = leg(r['entry']) ?? leg(r['exit']);
      const side = s.action === 'long' || s.action === 'short' ? s.action : null;
      const events: NotificationEvent[] = [
        {
          kind: 'signal_executed',
          ...base,
          action: s.action,
          side,
          amount: num(order?.filled) ?? num(order?.amount),
          price: num(order?.average_price),
          stopLoss: placedTrigger(r['stop_loss']),
          takeProfit: placedTrigger(r['take_profit']),
          note: outcome.reason,
        },
      ];
      // UNPROTECTED_POLICY=keep: the position stays open without its stop; the trader must know at once.
      if (outcome.reason && UNPROTECTED.test(outcome.reason))
        events.push({ kind: 'position_unprotected', ...base, reason: outcome.reason, flattened: false });
      return events;
    }
  }
}

/** Risk refused a signal before forwarding it. */
export function eventFromRiskRejection(
  job: SignalJob,
  decision: { code: string; reason: string },
  at = Date.now(),
): NotificationEvent {
  const s = job.signal;
  const base = {
    at,
    exchange: s.exchange,
    accountId: s.account_id,
    signalId: job.signalId,
    symbol: s.symbol,
  };
  if (decision.code === 'daily_loss_cap_reached')
    return { kind: 'daily_loss_cap', ...base, reason: decision.reason };
  return { kind: 'signal_rejected', ...base, action: s.action, reason: decision.reason, stage: 'risk' };
}

export interface RecordedFill {
  exchangeOrderId: string | null;
  clientOrderId: string | null;
  symbol: string;
  price: number;
  amount: number;
  fee: number;
  realizedPnl: number;
}

/** Our order legs the fills may belong to (see findFillLegs in the orders repository). */
export interface KnownLeg {
  exchangeOrderId: string | null;
  clientOrderId: string;
  symbol: string;
  leg: string;
  status: string;
  triggerPrice: number | null;
}

type ProtectionLeg = (typeof PROTECTIVE_LEGS)[number];
const isProtection = (leg: string): leg is ProtectionLeg =>
  (PROTECTIVE_LEGS as readonly string[]).includes(leg);
/** A stop-market fills near its trigger; a reducing fill this far from every trigger was someone else's close. */
const MAX_TRIGGER_DISTANCE = 0.03;

/** Which of our SL/TP/trailing stops (if any) produced a reducing fill. */
function protectionOf(f: RecordedFill, legs: KnownLeg[]): { key: string; leg: ProtectionLeg } | null {
  if (f.realizedPnl === 0) return null; // not reducing a position
  const own = legs.find(
    (l) =>
      (f.exchangeOrderId !== null && l.exchangeOrderId === f.exchangeOrderId) ||
      (f.clientOrderId !== null && l.clientOrderId === f.clientOrderId),
  );
  if (own) return isProtection(own.leg) ? { key: own.clientOrderId, leg: own.leg } : null; // an exit we sent
  let best: { key: string; leg: ProtectionLeg; distance: number } | null = null;
  for (const l of legs) {
    // `filled`: the stream's event may have settled the leg before its trades were read.
    const candidate = l.status === 'open' || l.status === 'filled';
    if (l.symbol !== f.symbol || !candidate || !isProtection(l.leg) || !l.triggerPrice) continue;
    const distance = Math.abs(f.price - l.triggerPrice) / l.triggerPrice;
    if (distance <= MAX_TRIGGER_DISTANCE && (!best || distance < best.distance))
      best = { key: l.clientOrderId, leg: l.leg, distance };
  }
  return best;
}

/**
 * SLs and TPs that fired on the exchange, from newly recorded fills: one event per protection order (its partial
 * fills summed), with the realised PnL the exchange reported.
 */
export function protectionHitEvents(
  exchange: OrderJob['signal']['exchange'],
  accountId: string,
  fills: RecordedFill[],
  legs: KnownLeg[],
  at = Date.now(),
): NotificationEvent[] {
  const byOrder = new Map<string, { leg: ProtectionLeg; fills: RecordedFill[] }>();
  for (const f of fills) {
    const hit = protectionOf(f, legs);
    if (!hit) continue;
    const entry = byOrder.get(hit.key) ?? { leg: hit.leg, fills: [] };
    entry.fills.push(f);
    byOrder.set(hit.key, entry);
  }
  return [...byOrder.values()].map(({ leg, fills: group }) => {
    const amount = group.reduce((s, f) => s + f.amount, 0);
    const notional = group.reduce((s, f) => s + f.amount * f.price, 0);
    return {
      kind: 'protection_hit',
      at,
      exchange,
      accountId,
      symbol: group[0]!.symbol,
      leg,
      amount,
      price: amount > 0 ? notional / amount : group[0]!.price,
      realizedPnl: group.reduce((s, f) => s + f.realizedPnl, 0),
      fee: group.reduce((s, f) => s + f.fee, 0),
    };
  });
}
