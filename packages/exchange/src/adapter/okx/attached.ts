/**
 * OKX protection attached to an entry (POST /api/v5/trade/order `attachAlgoOrds`, OKX API v5 "Place order"):
 * the SL/TP ride on the entry request itself and OKX books them as one algo order once the entry fills, under
 * the algoClOrdId we chose as `attachAlgoClOrdId`. One entry in the array carrying both SL and TP is the form
 * OKX documents for a plain SL+TP pair (an OCO algo order); several entries are its split-TP form.
 *
 * ccxt's unified `stopLoss` / `takeProfit` params build the same entry but drop `attachAlgoClOrdId`, without
 * which the attached order cannot be found by our id, so the entry is built here.
 */
import type { AttachedProtection, OrderInfo } from '../../types.ts';
import { num, type Dict } from '../util.ts';

export function attachAlgoOrds(a: AttachedProtection, priceToPrecision: (price: number) => string): Dict[] {
  if (a.stopLoss === undefined && a.takeProfit === undefined)
    throw new Error('attached protection needs a stop loss or a take profit price');
  const type = a.triggerPriceType ?? 'last';
  const ord: Dict = { attachAlgoClOrdId: a.clientOrderId };
  if (a.stopLoss !== undefined) {
    ord['slTriggerPx'] = priceToPrecision(a.stopLoss);
    ord['slOrdPx'] = '-1'; // market on trigger
    ord['slTriggerPxType'] = type;
  }
  if (a.takeProfit !== undefined) {
    ord['tpTriggerPx'] = priceToPrecision(a.takeProfit);
    ord['tpOrdPx'] = '-1';
    ord['tpTriggerPxType'] = type;
  }
  return [ord];
}

/**
 * One attached algo order as the worker records protection: its stop-loss leg and its take-profit leg (an OCO
 * order has both; cancelling either cancels the order).
 */
export function attachedLegs(o: OrderInfo, info: Dict, readable: (v: unknown) => number | null): OrderInfo[] {
  const sl = num(info['slTriggerPx']);
  const tp = num(info['tpTriggerPx']);
  const legs: OrderInfo[] = [];
  if (sl !== null) legs.push({ ...o, type: 'stop', triggerPrice: readable(sl) });
  if (tp !== null) legs.push({ ...o, type: 'take_profit', triggerPrice: readable(tp) });
  return legs.length ? legs : [o];
}
