/** OKX v5 request parsing, the error shapes and the helpers shared by the route handlers. */
import {
  type Account,
  type AlgoOrder,
  EngineError,
  type MarginMode,
  type Order,
  type PosSide,
  type Side,
} from '../engine.ts';
import { MARKETS, type MarketSpec } from '../markets.ts';
import { type Reply, reply } from '../http.ts';
import { decimalsIn, decimalsOf, isMultiple, round, str } from '../num.ts';
import { randomBytes } from 'node:crypto';

export const CL_ORD_ID_RE = /^[A-Za-z0-9]{1,32}$/;

export class OkxError extends Error {
  constructor(
    readonly code: string,
    msg: string,
    readonly status = 200,
  ) {
    super(msg);
  }
}

export function err(code: string, msg: string, status = 200): never {
  throw new OkxError(code, msg, status);
}

export function okxErrorReply(code: string, msg: string, status = 200): Reply {
  return reply({ code, msg, data: [] }, status);
}

export function ok(data: unknown[]): Reply {
  return reply({ code: '0', msg: '', data });
}

export type Dict = Record<string, unknown>;

export function s(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : String(v);
}

export function inst(id: string | undefined, required = true): MarketSpec | undefined {
  if (!id) {
    if (required) err('51000', 'Parameter instId error');
    return undefined;
  }
  const m = MARKETS.find((x) => x.okxId === id);
  if (!m) err('51001', "Instrument ID, Instrument ID code, or Spread ID doesn't exist.");
  return m;
}

export const szDec = (m: MarketSpec) => decimalsOf(m.lotSz);
export const contracts = (m: MarketSpec, qty: number) => round(qty / m.ctVal, szDec(m));
export const ctStr = (m: MarketSpec, qty: number) => str(contracts(m, qty));
export const px = (m: MarketSpec, v: number) => str(round(v, m.pricePrecision));

export function parseSz(m: MarketSpec, raw: string | undefined): number {
  if (raw === undefined) err('51000', 'Parameter sz error');
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) err('51000', 'Parameter sz error');
  if (decimalsIn(raw) > szDec(m) || !isMultiple(v, m.lotSz))
    err('51121', `Order quantity must be a multiple of the lot size. Lot size is ${str(m.lotSz)}.`);
  if (v < m.minSz) err('51020', `Your order should meet or exceed the minimum order amount.`);
  return round(v * m.ctVal, 10);
}

export function parsePx(m: MarketSpec, raw: string | undefined, name: string): number {
  if (raw === undefined) err('51000', `Parameter ${name} error`);
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) err('51000', `Parameter ${name} error`);
  if (!isMultiple(v, m.tickSize)) err('51000', `Parameter ${name} error`);
  return v;
}

export function posSideOf(acct: Account, raw: string | undefined): PosSide {
  if (acct.positionMode === 'hedge') {
    if (raw !== 'long' && raw !== 'short') err('51000', 'Parameter posSide error');
    return raw;
  }
  if (raw !== undefined && raw !== 'net') err('51000', 'Parameter posSide error');
  return 'both';
}

export function sideOf(raw: string | undefined): Side {
  if (raw !== 'buy' && raw !== 'sell') err('51000', 'Parameter side error');
  return raw;
}

export function tdModeOf(raw: string | undefined): MarginMode {
  if (raw !== 'cross' && raw !== 'isolated') err('51000', 'Parameter tdMode error');
  return raw;
}

export const POS_SIDE_OUT: Record<PosSide, string> = { both: 'net', long: 'long', short: 'short' };
export const STATE: Record<Order['status'], string> = {
  new: 'live',
  partially_filled: 'partially_filled',
  filled: 'filled',
  canceled: 'canceled',
  expired: 'canceled',
  rejected: 'canceled',
};
export const ALGO_STATE: Record<AlgoOrder['status'], string> = {
  new: 'live',
  triggered: 'effective',
  canceled: 'canceled',
  expired: 'order_failed',
  rejected: 'order_failed',
};

export interface Outcome {
  data: Dict;
  ok: boolean;
}

export function itemError(e: unknown, base: Dict): Outcome {
  if (e instanceof OkxError) return { ok: false, data: { ...base, sCode: e.code, sMsg: e.message } };
  if (e instanceof EngineError) {
    const [code, msg] =
      e.kind === 'insufficient_margin'
        ? ['51008', 'Order failed. Insufficient USDT margin in account']
        : e.kind === 'unknown_symbol'
          ? ['51001', "Instrument ID doesn't exist."]
          : [
              '51169',
              "Order failed because you don't have any positions in this direction for this contract.",
            ];
    return { ok: false, data: { ...base, sCode: code, sMsg: msg } };
  }
  throw e;
}

export function clientIdOf(raw: unknown): string {
  const v = s(raw);
  if (v === undefined) return '';
  if (!CL_ORD_ID_RE.test(v)) err('51000', 'Parameter clOrdId error');
  return v;
}

/** Simple mode (acctLv 1) trades spot only: a swap order is refused (OKX error code 51010). */
export function refuseSimpleMode(acct: Account): void {
  if (acct.acctLv === '1') err('51010', "You can't complete this request under your current account mode.");
}

export function batchReply(outcomes: Outcome[], inTime: number): Reply {
  const okCount = outcomes.filter((x) => x.ok).length;
  const code = okCount === outcomes.length ? '0' : okCount === 0 ? '1' : '2';
  const msg =
    code === '0' ? '' : code === '1' ? 'All operations failed' : 'Bulk operation partially succeeded';
  return reply({
    code,
    msg,
    data: outcomes.map((x) => x.data),
    inTime: String(Math.round(inTime * 1000)),
    outTime: String(Math.round(performance.timeOrigin * 1000 + performance.now() * 1000)),
  });
}

export function paginate<T extends { id: number }>(list: T[], q: URLSearchParams, newestFirst = true): T[] {
  const after = q.get('after'); // older than
  const before = q.get('before'); // newer than
  let out = newestFirst ? [...list].reverse() : [...list];
  if (after) out = out.filter((x) => x.id < Number(after));
  if (before) out = out.filter((x) => x.id > Number(before));
  return out.slice(0, Math.min(Number(q.get('limit') ?? 100), 100));
}

export function parseJsonBody(body: string): unknown {
  if (!body) return {};
  try {
    return JSON.parse(body);
  } catch {
    err('50002', 'JSON syntax error');
  }
}

/** Random-looking id generator for tests. */
export function okxClientId(): string {
  return `sim${randomBytes(8).toString('hex')}`;
}
