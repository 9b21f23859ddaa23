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
 * What a conditional order is, in the trader's words: `stop`, `take_profit` or `trailing_stop` (ccxt calls
 * them all "market"). Binance algo orders say STOP_MARKET / TAKE_PROFIT_MARKET / TRAILING_STOP_MARKET in
 * orderType; OKX algo orders say move_order_stop in ordType or carry tpTriggerPx or slTriggerPx; ccxt's
 * unified takeProfitPrice covers both.
 */
export function conditionalKind(o: ccxt.Order, info: Dict): 'stop' | 'take_profit' | 'trailing_stop' {
  // An OKX OCO (SL+TP attached to an entry) that fired says which half did (`actualSide`, OKX "Get algo order
  // details": sl / tp); before that it carries both triggers and is reported by the rule below.
  const fired = String(info['actualSide'] ?? '').toLowerCase();
  if (fired === 'tp') return 'take_profit';
  if (fired === 'sl') return 'stop';
  const raw = String(info['orderType'] ?? info['type'] ?? '').toUpperCase();
  if (raw === 'TRAILING_STOP_MARKET' || info['ordType'] === 'move_order_stop') return 'trailing_stop';
  const takeProfit =
    raw.startsWith('TAKE_PROFIT') ||
    num(o.takeProfitPrice) !== null ||
    (num(info['tpTriggerPx']) !== null && num(info['slTriggerPx']) === null);
  return takeProfit ? 'take_profit' : 'stop';
}
