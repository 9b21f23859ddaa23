import type { Account, Order } from './engine.ts';

/**
 * What the exchanges report can lag what they did. Binance USDⓈ-M answers -2013 "Order does not exist" for
 * an order its query path has not seen yet, and documents -1007 / 503 answers whose "execution status" is
 * unknown and may show up later; OKX's placement answer only says the request was accepted (the order's state
 * comes from the order channel or a query), and a fresh order can answer 51603 for a moment. Per account,
 * from the control API:
 * - `visibilityMs`: single-order queries do not find an order (plain or conditional) younger than this;
 * - `fillMs`: a market order is reported `NEW`/`live` and unfilled (placement answer and queries) until it is
 *   this old, although the engine filled it at once.
 */
export interface ReportLag {
  visibilityMs: number;
  fillMs: number;
}

export const NO_REPORT_LAG: ReportLag = { visibilityMs: 0, fillMs: 0 };

export function notVisibleYet(acct: Account, createdAt: number, nowMs: number): boolean {
  return nowMs - createdAt < acct.reportLag.visibilityMs;
}

/** The order as the exchange would report it now. */
export function asReported(acct: Account | undefined, o: Order, nowMs: number): Order {
  if (!acct || o.type !== 'market' || nowMs - o.createdAt >= acct.reportLag.fillMs) return o;
  return { ...o, status: 'new', filledQty: 0, avgPrice: 0, updatedAt: o.createdAt };
}

export function reportLagOf(v: unknown): ReportLag | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error('report_lag must be an object');
  const o = v as Record<string, unknown>;
  const ms = (key: string): number => {
    const n = Number(o[key] ?? 0);
    if (!Number.isInteger(n) || n < 0 || n > 600_000)
      throw new Error(`report_lag.${key} must be 0..600000 ms`);
    return n;
  };
  return { visibilityMs: ms('visibility_ms'), fillMs: ms('fill_ms') };
}
