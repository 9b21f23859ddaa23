import type { pg } from '@tradehook/db';
import {
  markOrderSent,
  restoreOrderSentAt,
  updateOrderOutcome,
  type OrderRow,
  type OrderStatus,
} from '@tradehook/db';
import {
  classifyExchangeError,
  exchangeErrorMessage,
  provesNotExecuted,
  type ExchangeAdapter,
  type OrderInfo,
} from '@tradehook/exchange';

/** ccxt unified order status → our orders.status. */
export function orderStatusOf(info: OrderInfo): OrderStatus {
  switch (info.status) {
    case 'closed':
      return 'filled';
    case 'open':
      return 'open';
    case 'canceled':
    case 'expired':
      return 'canceled';
    case 'rejected':
      return 'rejected';
    default:
      return 'unknown';
  }
}

/** What a recorded leg already tells us, so a retry need not ask the exchange again. */
function fromRow(row: OrderRow, conditional: boolean): OrderInfo {
  return {
    id: row.exchangeOrderId ?? '',
    clientOrderId: row.clientOrderId,
    symbol: row.symbol,
    side: row.side as OrderInfo['side'],
    type: row.type,
    status: row.status === 'filled' ? 'closed' : row.status,
    amount: row.amount,
    filled: row.filledAmount,
    average: row.averagePrice,
    price: null,
    triggerPrice: row.triggerPrice,
    reduceOnly: row.reduceOnly,
    conditional,
    positionSide: (row.positionSide as OrderInfo['positionSide']) ?? null,
  };
}

export interface LegResult {
  info: OrderInfo;
  /** The order was found at the exchange rather than sent by this attempt. */
  adopted: boolean;
}

function marketLegSettled(o: OrderInfo): boolean {
  if (o.status === 'closed') return o.average !== null;
  return o.status === 'canceled' || o.status === 'expired' || o.status === 'rejected';
}

/** A market leg recorded `open`/`unknown` is not settled; a resting conditional or limit leg is. */
function recordedFinal(row: OrderRow, rests: boolean): boolean {
  if (!row.exchangeOrderId) return false;
  if (row.status === 'filled' || row.status === 'canceled') return true;
  return rests && row.status === 'open';
}

export interface LegOptions {
  /** A limit order: found open at the exchange, it is placed (not a market order still to settle). */
  rests?: boolean;
}

/**
 * Sends one planned leg exactly once (docs/decisions/0001-exactly-once-orders.md,
 * docs/decisions/0016-uncertain-sends.md):
 * - a leg with a final recorded outcome is not touched again;
 * - a leg that may have left before (sent_at set: timeout, crash, retry) is looked up by its client id until it
 *   is found or its request can no longer land (`landingWindowMs` after it was signed); only then is it sent;
 * - sent_at is committed before every request leaves; a send that the exchange provably refused (rate limit,
 *   timestamp, explicit rejection) puts back the sent_at of the previous send;
 * - after an uncertain failure (timeout, 5xx, -1007, 50004) the same look-up runs before the error is reported.
 */
export async function runLeg(
  pool: pg.Pool,
  adapter: ExchangeAdapter,
  row: OrderRow,
  conditional: boolean,
  send: () => Promise<OrderInfo>,
  opts: LegOptions = {},
): Promise<LegResult> {
  const rests = conditional || opts.rests === true;
  if (recordedFinal(row, rests)) return { info: fromRow(row, conditional), adopted: true };
  if (row.sentAt) {
    const found = await lookUpUntilLandingWindowPassed(
      adapter,
      row,
      conditional,
      row.sentAt.getTime(),
      rests,
    );
    if (found) {
      await record(pool, row, found);
      return { info: found, adopted: true };
    }
  }
  const signedAt = Date.now();
  await markOrderSent(pool, row.clientOrderId);
  let info: OrderInfo;
  try {
    info = await send();
  } catch (err) {
    if (provesNotExecuted(err)) {
      await restoreOrderSentAt(pool, row.clientOrderId, row.sentAt);
      const final = classifyExchangeError(err) === 'final';
      await updateOrderOutcome(pool, row.clientOrderId, {
        status: final ? 'rejected' : 'unknown',
        error: exchangeErrorMessage(err),
      });
      throw err;
    }
    const found = await lookUpUntilLandingWindowPassed(adapter, row, conditional, signedAt, rests).catch(
      () => null,
    );
    if (found) {
      await record(pool, row, found);
      return { info: found, adopted: true };
    }
    await updateOrderOutcome(pool, row.clientOrderId, {
      status: 'unknown',
      error: exchangeErrorMessage(err),
    });
    throw err;
  }
  await record(pool, row, info);
  return { info, adopted: false };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Binance keeps a client id unique only while the order is open, so "not found" is proof of nothing while the
 * first request may still reach the matching engine. Ask again with backoff until the order shows up or a
 * look-up that *started* after the landing window still does not find it. A market leg found unsettled is
 * polled to its fill. Throws when the exchange cannot be asked (the job retries, nothing is sent).
 */
async function lookUpUntilLandingWindowPassed(
  adapter: ExchangeAdapter,
  row: OrderRow,
  conditional: boolean,
  signedAtMs: number,
  rests: boolean,
): Promise<OrderInfo | null> {
  const deadline = signedAtMs + adapter.landingWindowMs();
  // Look-ups that fail (the exchange still unreachable) are retried a little past the window, then reported.
  const giveUpAt = deadline + adapter.landingWindowMs();
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    const startedAt = Date.now();
    let found: OrderInfo | null | undefined;
    try {
      found = await adapter.findOrder(row.symbol, row.clientOrderId, conditional);
    } catch (err) {
      if (classifyExchangeError(err) === 'final' || startedAt >= giveUpAt) throw err;
    }
    if (found) {
      return rests || marketLegSettled(found)
        ? found
        : adapter.settleMarketOrder(row.symbol, row.clientOrderId);
    }
    if (found === null && startedAt >= deadline) return null; // an answer, asked after the window: proof
    await sleep(Math.max(10, Math.min(wait, deadline - Date.now() + 10)));
  }
}

async function record(pool: pg.Pool, row: OrderRow, info: OrderInfo): Promise<void> {
  await updateOrderOutcome(pool, row.clientOrderId, {
    status: orderStatusOf(info),
    exchangeOrderId: info.id || null,
    filledAmount: info.filled,
    averagePrice: info.average,
    triggerPrice: info.triggerPrice,
    error: null,
  });
}
