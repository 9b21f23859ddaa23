/** ccxt structures → ours (types.ts), with the adapter's contract sizes and readable prices. */
import type * as ccxt from 'ccxt';
import type { OrderInfo, OrderSide, TradeInfo } from '../types.ts';
import type { CcxtExchangeAdapter } from './base.ts';
import { conditionalKind, num, type Dict } from './util.ts';

export function toTradeInfo(a: CcxtExchangeAdapter, t: ccxt.Trade, symbol: string): TradeInfo {
  const cs = a.contractSize(symbol);
  const info = (t.info ?? {}) as Dict;
  const fee = t.fee as { cost?: number; currency?: string } | undefined;
  return {
    id: String(t.id),
    orderId: t.order ? String(t.order) : null,
    clientOrderId:
      (info['clOrdId'] as string | undefined) || (info['clientOrderId'] as string | undefined) || null,
    symbol: t.symbol ?? symbol,
    side: t.side as OrderSide,
    price: Number(t.price),
    amount: Number(((num(t.amount) ?? 0) * cs).toPrecision(12)),
    // ccxt's sign: positive = paid, negative = rebate received (kept: a rebate is income, not a cost).
    fee: num(fee?.cost) ?? 0,
    feeAsset: fee?.currency ?? null,
    realizedPnl: num(info['realizedPnl']) ?? num(info['fillPnl']) ?? 0,
    timestamp: Number(t.timestamp),
  };
}

export function toOrderInfo(a: CcxtExchangeAdapter, o: ccxt.Order, conditional: boolean): OrderInfo {
  const info = (o.info ?? {}) as Dict;
  const symbol = o.symbol ?? '';
  const cs = symbol && a.client.markets?.[symbol] ? a.contractSize(symbol) : 1;
  const scale = (v: unknown) => {
    const n = num(v);
    return n === null ? null : Number((n * cs).toPrecision(12));
  };
  const rawPosSide = String(info['positionSide'] ?? info['posSide'] ?? '').toLowerCase();
  // An OKX algo order is identified by algoClOrdId; ccxt may report the (deprecated) clOrdId instead.
  const clientOrderId =
    (conditional && (info['algoClOrdId'] as string | undefined)) ||
    o.clientOrderId ||
    (info['algoClOrdId'] as string | undefined) ||
    (info['clientAlgoId'] as string | undefined) ||
    null;
  return {
    id: String(o.id),
    clientOrderId: clientOrderId || null,
    symbol,
    side: o.side as OrderSide,
    type: conditional
      ? conditionalKind(o, info)
      : String(o.type ?? info['orderType'] ?? info['ordType'] ?? 'market').toLowerCase(),
    status: o.status ?? 'unknown',
    amount: scale(o.amount),
    // One rule on both venues: a conditional order that has not fired has filled 0 (Binance's algo
    // answer omits the field, OKX's reports it).
    filled: scale(o.filled) ?? (conditional ? 0 : null),
    average: a.readablePrice(symbol, o.average),
    price: a.readablePrice(symbol, o.price),
    triggerPrice: a.readablePrice(symbol, o.triggerPrice ?? o.stopLossPrice ?? o.takeProfitPrice),
    reduceOnly: o.reduceOnly === true || info['reduceOnly'] === true || info['reduceOnly'] === 'true',
    conditional,
    positionSide: rawPosSide === 'long' || rawPosSide === 'short' ? rawPosSide : null,
  };
}
