import type { pg } from '@tradehook/db';
import { markOrderSent, updateOrderOutcome, type OrderRow, type OrderStatus } from '@tradehook/db';
import {
  classifyExchangeError,
  exchangeErrorMessage,
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

/**
 * Sends one planned leg exactly once (docs/decisions/0001-exactly-once-orders.md):
 * - a leg with a final recorded outcome is not touched again;
 * - a leg that may have left before (sent_at set: timeout, crash, retry) is looked up by its client id first
 *   and adopted when found; only "not found" makes it safe to send;
 * - sent_at is committed before the request leaves.
 */
export async function runLeg(
  pool: pg.Pool,
  adapter: ExchangeAdapter,
  row: OrderRow,
  conditional: boolean,
  send: () => Promise<OrderInfo>,
): Promise<LegResult> {
  if (row.exchangeOrderId && ['filled', 'open', 'canceled'].includes(row.status)) {
    return { info: fromRow(row, conditional), adopted: true };
  }
  if (row.sentAt) {
    const found = await adapter.findOrder(row.symbol, row.clientOrderId, conditional);
    if (found) {
      await record(pool, row, found);
      return { info: found, adopted: true };
    }
  }
  await markOrderSent(pool, row.clientOrderId);
  let info: OrderInfo;
  try {
    info = await send();
  } catch (err) {
    const final = classifyExchangeError(err) === 'final';
    await updateOrderOutcome(pool, row.clientOrderId, {
      status: final ? 'rejected' : 'unknown',
      error: exchangeErrorMessage(err),
    });
    throw err;
  }
  await record(pool, row, info);
  return { info, adopted: false };
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
