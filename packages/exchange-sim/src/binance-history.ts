/**
 * Binance USDⓈ-M account history: `GET /fapi/v1/userTrades` and `GET /fapi/v1/income`, with the documented
 * window and paging rules enforced (a client that relies on anything looser fails here as it would there).
 */
import type { Account, Engine, IncomeType, Trade } from './engine.ts';
import { reply, type Reply } from './http.ts';
import { marketById, type MarketSpec } from './markets.ts';
import { fmt } from './num.ts';
import { P_SIDE } from './binance-codes.ts';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

type Params = URLSearchParams;
type Checked<T> = { ok: T } | { error: Reply };

const fail = (code: number, msg: string): { error: Reply } => ({ error: reply({ code, msg }, 400) });

function intParam(p: Params, name: string): Checked<number | undefined> {
  const raw = p.get(name);
  if (raw === null || raw === '') return { ok: undefined };
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 0)
    return fail(-1130, `Data sent for parameter '${name}' is not valid.`);
  return { ok: v };
}

function limitParam(p: Params, def: number, max: number): Checked<number> {
  const l = intParam(p, 'limit');
  if ('error' in l) return l;
  if (l.ok === undefined) return { ok: def };
  if (l.ok < 1 || l.ok > max) return fail(-1130, "Data sent for parameter 'limit' is not valid.");
  return { ok: l.ok };
}

/**
 * The time range of a history query. Binance "Account Trade List (USER_DATA)": both absent → the last 7 days;
 * "The time between startTime and endTime cannot be longer than 7 days" (error -1127 INVALID_INTERVAL, "More
 * than %s hours between startTime and endTime." in the USDⓈ-M error codes); only startTime → 7 days from it,
 * as ccxt assumes (binance.fetchMyTrades caps endTime = since + 7 d).
 */
function window(p: Params, nowMs: number): Checked<{ from: number; to: number; bounded: boolean }> {
  const s = intParam(p, 'startTime');
  if ('error' in s) return s;
  const e = intParam(p, 'endTime');
  if ('error' in e) return e;
  const start = s.ok;
  const end = e.ok;
  if (start !== undefined && end !== undefined) {
    if (end < start) return fail(-1127, 'startTime must be before endTime.');
    if (end - start > WEEK_MS) return fail(-1127, 'More than 168 hours between startTime and endTime.');
    return { ok: { from: start, to: end, bounded: true } };
  }
  if (start !== undefined) return { ok: { from: start, to: start + WEEK_MS, bounded: true } };
  if (end !== undefined) return { ok: { from: end - WEEK_MS, to: end, bounded: false } };
  return { ok: { from: nowMs - WEEK_MS, to: nowMs, bounded: false } };
}

export function tradeJson(t: Trade, m: MarketSpec): Record<string, unknown> {
  // Field names and types of the response example in Binance's "Account Trade List (USER_DATA)" docs
  // (test-fixtures/binance-user-trades.json).
  return {
    symbol: t.symbol,
    id: t.id,
    orderId: t.orderId,
    side: t.side.toUpperCase(),
    price: fmt(t.price, m.pricePrecision),
    qty: fmt(t.qty, m.quantityPrecision),
    realizedPnl: fmt(t.realizedPnl, 8),
    quoteQty: fmt(t.quoteQty, 8),
    // A negative commission is a rebate paid to the account (negative maker fee).
    commission: fmt(t.fee, 8),
    commissionAsset: t.feeAsset,
    marginAsset: 'USDT',
    time: t.time,
    positionSide: P_SIDE[t.posSide],
    maker: t.maker,
    buyer: t.side === 'buy',
  };
}

/** `GET /fapi/v1/userTrades` (weight 5): ascending by id. */
export function userTrades(engine: Engine, acct: Account, p: Params): Reply {
  const symbol = p.get('symbol');
  if (!symbol)
    return reply(
      { code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." },
      400,
    );
  const m = marketById(symbol.toUpperCase());
  if (!m) return reply({ code: -1121, msg: 'Invalid symbol.' }, 400);
  const limit = limitParam(p, 500, 1000);
  if ('error' in limit) return limit.error;
  const fromId = intParam(p, 'fromId');
  if ('error' in fromId) return fromId.error;
  // "The parameter fromId cannot be sent with startTime or endTime." (-1128: combination of optional
  // parameters invalid).
  if (fromId.ok !== undefined && (p.get('startTime') || p.get('endTime')))
    return reply({ code: -1128, msg: 'Combination of optional parameters invalid.' }, 400);
  let list = acct.trades.filter((t) => t.symbol === m.id);
  const orderId = p.get('orderId');
  if (orderId) list = list.filter((t) => String(t.orderId) === orderId);
  if (fromId.ok !== undefined) {
    const from = fromId.ok;
    list = list.filter((t) => t.id >= from).slice(0, limit.ok);
  } else {
    const w = window(p, engine.clock.now());
    if ('error' in w) return w.error;
    list = list.filter((t) => t.time >= w.ok.from && t.time <= w.ok.to);
    // From a startTime the oldest trades come first; otherwise the most recent ones.
    list = w.ok.bounded ? list.slice(0, limit.ok) : list.slice(-limit.ok);
  }
  return reply(list.map((t) => tradeJson(t, m)));
}

/** `GET /fapi/v1/income` (weight 30): ascending by time; same 7-day window rules; limit default 100, max 1000. */
export function income(engine: Engine, acct: Account, p: Params): Reply {
  const symbol = p.get('symbol');
  const m = symbol ? marketById(symbol.toUpperCase()) : undefined;
  if (symbol && !m) return reply({ code: -1121, msg: 'Invalid symbol.' }, 400);
  const type = p.get('incomeType') as IncomeType | null;
  const limit = limitParam(p, 100, 1000);
  if ('error' in limit) return limit.error;
  const w = window(p, engine.clock.now());
  if ('error' in w) return w.error;
  const list = acct.income.filter(
    (x) =>
      (!m || x.symbol === m.id) && (!type || x.type === type) && x.time >= w.ok.from && x.time <= w.ok.to,
  );
  const page = w.ok.bounded ? list.slice(0, limit.ok) : list.slice(-limit.ok);
  return reply(
    page.map((x) => ({
      symbol: x.symbol,
      incomeType: x.type,
      income: fmt(x.amount, 8),
      asset: x.asset,
      // As recorded (test-fixtures/binance-income-funding-fee.json): `info` repeats the type.
      info: x.type,
      time: x.time,
      tranId: x.tranId,
      tradeId: x.tradeId === undefined ? '' : String(x.tradeId),
    })),
  );
}

/**
 * Binance "Toggle BNB Burn On Futures Trade" (`POST /fapi/v1/feeBurn`, feeBurn "true" | "false", answers
 * `{"code":200,"msg":"success"}`) and "Get BNB Burn Status" (`GET /fapi/v1/feeBurn` → `{"feeBurn":true}`).
 */
export function feeBurn(acct: Account, method: string, p: Params): Reply {
  if (method === 'GET') return reply({ feeBurn: acct.feeBurn });
  const v = p.get('feeBurn');
  if (v !== 'true' && v !== 'false')
    return reply(
      { code: -1102, msg: "Mandatory parameter 'feeBurn' was not sent, was empty/null, or malformed." },
      400,
    );
  acct.feeBurn = v === 'true';
  return reply({ code: 200, msg: 'success' });
}
