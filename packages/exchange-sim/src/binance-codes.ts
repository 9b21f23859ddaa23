import type { AlgoOrder, Order, PosSide } from './engine.ts';

/** Binance USDⓈ-M enums as its REST answers and user data stream write them (one table for both). */
export const P_SIDE: Record<PosSide, string> = { both: 'BOTH', long: 'LONG', short: 'SHORT' };

export const STATUS: Record<Order['status'], string> = {
  new: 'NEW',
  partially_filled: 'PARTIALLY_FILLED',
  filled: 'FILLED',
  canceled: 'CANCELED',
  expired: 'EXPIRED',
  rejected: 'REJECTED',
};

/** Algo Service orders: a triggered conditional order ends FINISHED. */
export const ALGO_STATUS: Record<AlgoOrder['status'], string> = {
  new: 'NEW',
  triggered: 'FINISHED',
  canceled: 'CANCELED',
  expired: 'EXPIRED',
  rejected: 'REJECTED',
};
