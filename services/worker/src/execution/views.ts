/** What an executed signal answers (the guide's order_details) and the small vocabulary the legs share. */
import type { OrderInfo, OrderSide, PositionSide } from '@tradehook/exchange';

export interface ExecutionOutcome {
  status: 'executed' | 'ignored' | 'failed';
  reason: string | null;
  /** The guide's order_details. */
  result: OrderDetails;
}

export interface OrderDetails {
  success: boolean;
  exchange: string;
  account_id: string;
  action: string;
  /** The signal's symbol; a close_all answers with ALL_SYMBOLS and lists what it closed in `symbols`. */
  symbol: string;
  symbols?: string[];
  results: Record<string, unknown>;
  error?: string;
}

/** A rejection decided before anything was sent (sizing, limits, levels): final, no retry. */
export class ExecutionRejected extends Error {
  override readonly name = 'ExecutionRejected';
}

export const closingSide = (side: PositionSide): OrderSide => (side === 'long' ? 'sell' : 'buy');
export const openingSide = (side: PositionSide): OrderSide => (side === 'long' ? 'buy' : 'sell');
export const opposite = (side: PositionSide): PositionSide => (side === 'long' ? 'short' : 'long');
export const round = (n: number, digits = 8) => Number(n.toFixed(digits));

export function orderView(info: OrderInfo, extra: Record<string, unknown> = {}) {
  return {
    order_id: info.id,
    client_order_id: info.clientOrderId,
    symbol: info.symbol,
    side: info.side,
    amount: info.amount,
    filled: info.filled,
    average_price: info.average,
    trigger_price: info.triggerPrice ?? undefined,
    status: info.status,
    ...extra,
  };
}

/** Is this open conditional order protecting `side` of `symbol`? */
export function protects(o: OrderInfo, symbol: string, side: PositionSide): boolean {
  if (!o.conditional || o.symbol !== symbol) return false;
  if (o.positionSide) return o.positionSide === side;
  return o.side === closingSide(side);
}
