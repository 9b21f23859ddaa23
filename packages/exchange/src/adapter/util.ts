import type * as ccxt from 'ccxt';
import { MONEY_DECIMALS, roundDecimals } from '@tradehook/contracts';
import type { OrderInfo } from '../types.ts';

export type Dict = Record<string, unknown>;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const num = (v: unknown): number | null => {
  if (v === undefined || v === null || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** Filled with a price, or ended without filling: nothing more will happen to this market order. */
export function isSettled(o: OrderInfo): boolean {
  if (o.status === 'closed') return o.average !== null;
  return o.status === 'canceled' || o.status === 'expired' || o.status === 'rejected';
}

/** Quote-asset amounts (PnL, fees) to 8 decimals, the exchanges' own precision for USDT amounts. */
export function roundMoney(n: number | null): number | null {
  return n === null ? null : roundDecimals(n, MONEY_DECIMALS);
}

/**
 * What a conditional order is, in the trader's words: `stop` or `take_profit` (ccxt calls both "market").
 * Binance algo orders say STOP_MARKET / TAKE_PROFIT_MARKET in orderType; OKX conditional orders carry
 * tpTriggerPx or slTriggerPx; ccxt's unified takeProfitPrice covers both.
 */
export function conditionalKind(o: ccxt.Order, info: Dict): 'stop' | 'take_profit' {
  // An OKX OCO (SL+TP attached to an entry) that fired says which half did (`actualSide`, OKX "Get algo order
  // details": sl / tp); before that it carries both triggers and is reported by the rule below.
  const fired = String(info['actualSide'] ?? '').toLowerCase();
  if (fired === 'tp') return 'take_profit';
  if (fired === 'sl') return 'stop';
  const raw = String(info['orderType'] ?? info['type'] ?? '').toUpperCase();
  const takeProfit =
    raw.startsWith('TAKE_PROFIT') ||
    num(o.takeProfitPrice) !== null ||
    (num(info['tpTriggerPx']) !== null && num(info['slTriggerPx']) === null);
  return takeProfit ? 'take_profit' : 'stop';
}
