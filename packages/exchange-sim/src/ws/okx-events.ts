/**
 * OKX v5 WebSocket push data (okx.com/docs-v5): "Tickers channel", "Mark price channel", "Order channel",
 * "Algo orders channel", "Positions channel", "Account channel". Rows are the REST rows of the same objects
 * (okx.ts), plus the fill fields the order channel adds for the fill this push reports.
 */
import type { Account, Engine, Order, PosSide, Trade } from '../engine.ts';
import type { Sim } from '../http.ts';
import { candles } from '../klines.ts';
import { type MarketSpec, marketById } from '../markets.ts';
import { decimalsOf, round, str } from '../num.ts';
import { positionsJson } from '../okx/account.ts';
import { orderJson } from '../okx/orders.ts';

const POS_SIDE_OUT: Record<PosSide, string> = { both: 'net', long: 'long', short: 'short' };

function spec(symbol: string): MarketSpec {
  return marketById(symbol) as MarketSpec;
}
const px = (m: MarketSpec, v: number) => str(round(v, m.pricePrecision));
const ct = (m: MarketSpec, qty: number) => str(round(qty / m.ctVal, decimalsOf(m.lotSz)));

/** "Tickers channel" row (same numbers as REST market/ticker). */
export function tickerRow(engine: Engine, symbol: string): Record<string, unknown> {
  const m = spec(symbol);
  const last = engine.price(m.id);
  const day = candles(m, last, 86_400_000, { limit: 1 })[0];
  return {
    instType: 'SWAP',
    instId: m.okxId,
    last: px(m, last),
    lastSz: str(m.minSz),
    askPx: px(m, last),
    askSz: '10',
    bidPx: px(m, last - m.tickSize),
    bidSz: '10',
    open24h: px(m, day?.open ?? last),
    high24h: px(m, Math.max(day?.high ?? last, last)),
    low24h: px(m, Math.min(day?.low ?? last, last)),
    volCcy24h: str(round(day?.volume ?? 0, 4)),
    vol24h: ct(m, day?.volume ?? 0),
    sodUtc0: px(m, day?.open ?? last),
    sodUtc8: px(m, day?.open ?? last),
    ts: String(Date.now()),
  };
}

/** "Mark price channel" row: one price per symbol here. */
export function markPriceRow(engine: Engine, symbol: string): Record<string, unknown> {
  const m = spec(symbol);
  return { instType: 'SWAP', instId: m.okxId, markPx: px(m, engine.price(m.id)), ts: String(Date.now()) };
}

/**
 * "Order channel" row: the REST order row with the fill fields describing THIS push's fill (`tradeId`,
 * `fillPx`, `fillSz`, `fillFee` negative = charged, `execType` T/M, `fillPnl`), empty when it reports none.
 */
export function orderRow(sim: Sim, order: Order, trade: Trade | undefined): Record<string, unknown> {
  const m = spec(order.symbol);
  return {
    ...orderJson(sim, order),
    tradeId: trade ? String(trade.id) : '',
    fillPx: trade ? px(m, trade.price) : '',
    fillSz: trade ? ct(m, trade.qty) : '0',
    fillTime: trade ? String(trade.time) : '',
    fillFee: trade ? str(-trade.fee) : '0',
    fillFeeCcy: trade ? 'USDT' : '',
    fillPnl: trade ? str(trade.realizedPnl) : '0',
    fillNotionalUsd: trade ? str(trade.quoteQty) : '',
    fillPxVol: '',
    fillPxUsd: '',
    fillMarkVol: '',
    fillFwdPx: '',
    fillMarkPx: trade ? px(m, trade.price) : '',
    fillIdxPx: trade ? px(m, trade.price) : '',
    execType: trade ? (trade.maker ? 'M' : 'T') : '',
    notionalUsd: str(round(order.qty * (order.price ?? sim.engine.price(order.symbol)), 8)),
    amendResult: '',
    reqId: '',
    code: '0',
    msg: '',
  };
}

/**
 * "Positions channel" rows for one instrument after a change: the open legs as REST reports them, and a
 * row with `pos` "0" for the leg this change closed (OKX pushes the closed position once).
 */
export function positionRows(
  sim: Sim,
  acct: Account,
  symbol: string,
  posSide: PosSide,
): Array<Record<string, unknown>> {
  const m = spec(symbol);
  const rows = positionsJson(sim, acct, m.okxId, 'SWAP');
  const outSide = POS_SIDE_OUT[posSide];
  if (rows.some((r) => r['posSide'] === outSide)) return rows;
  const p = sim.engine.position(acct, symbol, posSide);
  const st = sim.engine.settings(acct, symbol);
  const last = px(m, sim.engine.price(symbol));
  return [
    ...rows,
    {
      instType: 'SWAP',
      instId: m.okxId,
      posSide: outSide,
      pos: '0',
      availPos: '0',
      avgPx: '',
      mgnMode: st.marginMode,
      lever: String(st.leverage),
      ccy: 'USDT',
      posId: p ? String(p.id) : '',
      upl: '0',
      uplRatio: '0',
      realizedPnl: p ? str(round(p.realizedPnl - p.fees, 8)) : '0',
      pnl: p ? str(p.realizedPnl) : '0',
      fee: p ? str(-p.fees) : '0',
      fundingFee: '0',
      imr: '',
      margin: '',
      mmr: '0',
      notionalUsd: '0',
      liqPx: '',
      markPx: last,
      last,
      idxPx: last,
      cTime: p ? String(p.openedAt) : String(Date.now()),
      uTime: p ? String(p.updatedAt) : String(Date.now()),
    },
  ];
}
