/**
 * Replacing an entry's stop (after a take-profit fill, or at break-even): the new stop is planned on its own
 * row (deterministic client id, so the move runs once) and placed before the old one is cancelled — the
 * position is never without a stop; a refused new stop keeps the old one (reduce-only, it closes at most what
 * is left). Shared by after-take-profit.ts and break-even-watch.ts.
 */
import type { Exchange } from '@tradehook/contracts';
import {
  findOrdersBySignal,
  insertPlannedOrders,
  markOrdersCanceled,
  type OrderRow,
  type pg,
} from '@tradehook/db';
import type { OrderInfo, PositionSide } from '@tradehook/exchange';
import type { AccountContext } from '../accounts.ts';
import { placeConditionalLeg } from '../execution/resize-protection.ts';

export interface StopMove {
  old: OrderRow;
  clientOrderId: string;
  amount: { amount: number; exchangeAmount: number };
  trigger: number | null;
}

export interface MoveDeps {
  pool: pg.Pool;
  exchange: Exchange;
}

/** The break-even stop: the entry's fill price plus (long) / minus (short) entry and exit fees at `feePct` %. */
export function breakEvenLevel(
  account: AccountContext,
  symbol: string,
  side: PositionSide,
  entryPrice: number,
  feePct: number,
): number {
  const fee = (2 * feePct) / 100;
  return account.adapter.priceToPrecision(symbol, entryPrice * (side === 'long' ? 1 + fee : 1 - fee));
}

/** Is `level` a stop the market has not passed (a long's below the price, a short's above)? */
export const stopStillAhead = (side: PositionSide, level: number, market: number | null): boolean =>
  market === null || (side === 'long' ? level < market : level > market);

export async function moveStops(
  deps: MoveDeps,
  account: AccountContext,
  signalId: string,
  moves: StopMove[],
  openById: Map<string, OrderInfo>,
): Promise<{ views: Array<Record<string, unknown>>; canceled: string[]; refused?: string }> {
  if (moves.length === 0) return { views: [], canceled: [] };
  await insertPlannedOrders(
    deps.pool,
    moves.map((m) => ({
      signalId,
      exchange: deps.exchange,
      accountId: account.settings.accountId,
      clientOrderId: m.clientOrderId,
      leg: 'stop_loss',
      symbol: m.old.symbol,
      side: m.old.side as 'buy' | 'sell',
      positionSide: m.old.positionSide as PositionSide | null,
      type: 'stop_market',
      reduceOnly: true,
      amount: m.amount.amount,
      exchangeAmount: m.amount.exchangeAmount,
      triggerPrice: m.trigger ?? m.old.triggerPrice,
    })),
  );
  const rows = await findOrdersBySignal(deps.pool, signalId);
  const planned = moves.map((m) => rows.find((r) => r.clientOrderId === m.clientOrderId)!);
  const placed = await Promise.all(planned.map((row) => placeConditionalLeg(deps.pool, account, row)));
  const replaced = moves.filter((_, i) => placed[i]!.error === undefined).map((m) => m.old);
  const canceled = await cancelOrders(
    deps,
    account,
    replaced.flatMap((r) => {
      const o = r.exchangeOrderId ? openById.get(r.exchangeOrderId) : undefined;
      return o ? [o] : [];
    }),
  );
  const refused = placed.find((p) => p.error !== undefined)?.error;
  return { views: placed.map((p) => p.view), canceled, ...(refused ? { refused } : {}) };
}

export async function cancelOrders(
  deps: MoveDeps,
  account: AccountContext,
  orders: OrderInfo[],
): Promise<string[]> {
  await Promise.all(orders.map((o) => account.adapter.cancelOrder(o)));
  const ids = orders.map((o) => o.id);
  await markOrdersCanceled(deps.pool, deps.exchange, account.settings.accountId, ids);
  return ids;
}
