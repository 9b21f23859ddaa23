/** Binance USDⓈ-M (fapi) request parsing and the error shape shared by the route handlers. */
import { randomBytes } from 'node:crypto';
import { type Account, EngineError, type PosSide, type Side } from '../engine.ts';
import { reply, type Reply } from '../http.ts';
import { type MarketSpec, marketById } from '../markets.ts';
import { decimalsIn, isMultiple } from '../num.ts';

/** Open conditional orders per symbol (exchangeInfo filter MAX_NUM_ALGO_ORDERS). */
export const MAX_NUM_ALGO_ORDERS = 10;

const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
export const ORDER_TYPES = [
  'LIMIT',
  'MARKET',
  'STOP',
  'STOP_MARKET',
  'TAKE_PROFIT',
  'TAKE_PROFIT_MARKET',
  'TRAILING_STOP_MARKET',
];
/** exchangeInfo `timeInForce` (Binance USDⓈ-M "Exchange Information"); GTX is post-only. */
export const TIME_IN_FORCE = ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'];
export const ALGO_TYPES = [
  'STOP',
  'STOP_MARKET',
  'TAKE_PROFIT',
  'TAKE_PROFIT_MARKET',
  'TRAILING_STOP_MARKET',
];

export class BinanceError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly status = 400,
  ) {
    super(msg);
  }
}

export function err(code: number, msg: string, status = 400): never {
  throw new BinanceError(code, msg, status);
}

export function binanceErrorReply(code: number, msg: string, status = 400): Reply {
  return reply({ code, msg }, status);
}

export type Params = URLSearchParams;

export function need(p: Params, name: string): string {
  const v = p.get(name);
  if (v === null || v === '')
    err(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  return v;
}

export function bool(p: Params, name: string): boolean {
  return (p.get(name) ?? '').toLowerCase() === 'true';
}

export function market(p: Params, required = true): MarketSpec | undefined {
  const s = p.get('symbol');
  if (!s) {
    if (required) need(p, 'symbol');
    return undefined;
  }
  const m = marketById(s.toUpperCase());
  if (!m) err(-1121, 'Invalid symbol.');
  return m;
}

export function num(p: Params, name: string, decimals: number, step?: number, tickCode = -4014): number {
  const raw = need(p, name);
  const v = Number(raw);
  if (!Number.isFinite(v))
    err(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  if (decimalsIn(raw) > decimals) err(-1111, 'Precision is over the maximum defined for this asset.');
  if (step !== undefined && !isMultiple(v, step)) {
    if (tickCode === -4014) err(-4014, 'Price not increased by tick size.');
    err(-1013, 'Filter failure: LOT_SIZE');
  }
  return v;
}

export function sideOf(p: Params): Side {
  const s = need(p, 'side').toUpperCase();
  if (s !== 'BUY' && s !== 'SELL') err(-1117, 'Invalid side.');
  return s === 'BUY' ? 'buy' : 'sell';
}

/** positionSide vs the account's mode: -4061 on mismatch. */
export function posSideOf(acct: Account, p: Params): PosSide {
  const raw = (p.get('positionSide') ?? 'BOTH').toUpperCase();
  if (!['BOTH', 'LONG', 'SHORT'].includes(raw)) err(-4006, 'Invalid position side.');
  const hedge = acct.positionMode === 'hedge';
  if (hedge === (raw === 'BOTH')) err(-4061, "Order's position side does not match user's setting.");
  return raw.toLowerCase() as PosSide;
}

export function ensureClientId(p: Params, name: string): string {
  const id = p.get(name);
  if (id === null || id === '') return `sim${randomBytes(10).toString('hex')}`;
  if (!CLIENT_ID_RE.test(id)) {
    err(
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.`,
    );
  }
  return id;
}

export function engineCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EngineError) {
      switch (e.kind) {
        case 'insufficient_margin':
          err(-2019, 'Margin is insufficient.');
        // falls through (err never returns)
        case 'reduce_only_rejected':
        case 'no_position':
        case 'over_close':
          err(-2022, 'ReduceOnly Order is rejected.');
        // falls through
        case 'unknown_symbol':
          err(-1121, 'Invalid symbol.');
      }
    }
    throw e;
  }
}

export function timeWindow(
  p: Params,
  defaultDays: number,
  nowMs: number,
): { from: number; to: number; limit: number } {
  const start = p.get('startTime');
  const end = p.get('endTime');
  const to = end ? Number(end) : start ? Number(start) + defaultDays * 86_400_000 : nowMs + 1;
  const from = start ? Number(start) : to - defaultDays * 86_400_000;
  return { from, to, limit: Number(p.get('limit') ?? 0) };
}
