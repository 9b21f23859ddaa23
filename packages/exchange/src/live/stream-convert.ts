/** ccxt pro's pushed structures → ours (types.ts), with the adapter's contract sizes and order mapping. */
import type * as ccxt from 'ccxt';
import type { CcxtExchangeAdapter } from '../adapter.ts';
import type { Balance, OrderInfo, PositionInfo, PositionSide, TradeInfo } from '../types.ts';

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};

export function positionKey(symbol: string, side: PositionSide): string {
  return `${symbol}|${side}`;
}

/** A pushed position; `contracts` 0 means the leg is closed. Undefined for markets we do not trade. */
export function toPosition(
  adapter: CcxtExchangeAdapter,
  p: ccxt.Position,
): { key: string; position: PositionInfo } | undefined {
  const side: PositionSide | null = p.side === 'long' || p.side === 'short' ? p.side : null;
  if (!side || !p.symbol || !adapter.client.markets?.[p.symbol]) return undefined;
  const contracts = Math.abs(num(p.contracts) ?? 0);
  const cs = num(p.contractSize) ?? adapter.market(p.symbol).contractSize;
  return {
    key: positionKey(p.symbol, side),
    position: {
      symbol: p.symbol,
      side,
      contracts,
      amount: Number((contracts * cs).toPrecision(12)),
      entryPrice: num(p.entryPrice),
      markPrice: num(p.markPrice),
      unrealizedPnl: num(p.unrealizedPnl),
      leverage: num(p.leverage),
    },
  };
}

/**
 * A pushed order. Binance sends conditional orders of the Algo Service as ALGO_UPDATE (`aid` in the raw
 * event) on the same stream as the plain ones; OKX sends them on its own channel (`orders-algo`).
 */
export function toOrder(adapter: CcxtExchangeAdapter, o: ccxt.Order, fromAlgoChannel: boolean): OrderInfo {
  const info = (o.info ?? {}) as Record<string, unknown>;
  const conditional = fromAlgoChannel || info['aid'] !== undefined;
  return adapter.toOrderInfo(o, conditional);
}

/**
 * A pushed fill (ccxt pro `watchMyTrades`) as the REST trade history would report it, so both land on the same
 * fills row (unique per symbol and trade id); the venue's differences are its adapter's `fromPushedTrade`.
 * Undefined for a market we do not trade or an event without a fill.
 */
export function toStreamTrade(adapter: CcxtExchangeAdapter, t: ccxt.Trade): TradeInfo | undefined {
  if (!t.symbol || !adapter.client.markets?.[t.symbol] || t.id === undefined || t.id === '') return undefined;
  const trade = adapter.fromPushedTrade(t);
  return trade.amount > 0 ? trade : undefined;
}

/** The USDT line of a pushed balance; fields the push lacks keep their previous value. */
export function toBalance(b: ccxt.Balances, previous: Balance | undefined): Balance | undefined {
  const usdt = (b as unknown as Record<string, { free?: unknown; total?: unknown } | undefined>)['USDT'];
  if (!usdt) return previous;
  return {
    asset: 'USDT',
    free: num(usdt.free) ?? previous?.free ?? 0,
    total: num(usdt.total) ?? previous?.total ?? 0,
  };
}

export function isOpenStatus(status: string): boolean {
  return status === 'open';
}
