/**
 * After one of several take-profits filled (or one TP of part of the position): the position is still open,
 * so the entry's other legs must stay consistent with what is left (docs/decisions/0026-several-take-profits-and-break-even.md).
 * - Nothing left (the TP closed the rest, or a stop fired meanwhile): every other leg of the entry is cancelled.
 * - Otherwise the stop is replaced by one for the remaining amount — at break-even (entry ± fees) when the alert
 *   asked for `break_even: "tp1"` and this was its first take-profit; the other take-profits stay as placed
 *   (each closes its own share). The new stop is placed before the old one is cancelled: never without a stop.
 * Runs once per filled TP row (claimFiredProtection / the reconciler's settle flip the row), from the stream
 * event or, when the stream missed it, from the reconciler. Its facts go into the signal's trace under
 * `results.after_take_profit_<index>`.
 */
import { clientOrderId, PROTECTIVE_LEGS, type Exchange } from '@tradehook/contracts';
import {
  findOrdersBySignal,
  findSignalPayload,
  recordSignalFollowUp,
  type OrderRow,
  type pg,
} from '@tradehook/db';
import type { PositionSide } from '@tradehook/exchange';
import type { Logger } from '@tradehook/logger';
import type { AccountContext } from '../accounts.ts';
import { breakEvenLevel, cancelOrders, moveStops, stopStillAhead } from './move-stop.ts';

export interface AfterTakeProfitDeps {
  pool: pg.Pool;
  exchange: Exchange;
  logger: Logger;
  /** BREAK_EVEN_FEE_PCT: taker fee in % for the break-even stop (entry and exit). */
  breakEvenFeePct: number;
}

const PART = /^th[0-9A-Za-z]{22}[A-Z](\d*)$/;
/** The leg's part in its client id: a take_profits index (1–6), 0 for the single SL/TP, 11+ for moved stops. */
export const partOf = (cid: string): number => Number(PART.exec(cid)?.[1] || 0);
/** Stops moved after take-profit k get part 10 + k: deterministic, so the follow-up of one fill runs once. */
const MOVED_STOP_PART = 10;

const isProtective = (r: OrderRow) => (PROTECTIVE_LEGS as readonly string[]).includes(r.leg);

export async function followTakeProfit(
  deps: AfterTakeProfitDeps,
  account: AccountContext,
  tp: OrderRow,
): Promise<Record<string, unknown>> {
  const { adapter } = account;
  const { pool } = deps;
  const signalId = tp.signalId;
  if (!signalId) return {};
  const symbol = tp.symbol;
  const side: PositionSide =
    (tp.positionSide as PositionSide | null) ?? (tp.side === 'sell' ? 'long' : 'short');
  const [positions, open, rows, payload] = await Promise.all([
    adapter.fetchPositions(symbol),
    adapter.fetchOpenOrders(symbol),
    findOrdersBySignal(pool, signalId),
    findSignalPayload(pool, signalId) as Promise<{ break_even?: string } | null>,
  ]);
  const openById = new Map(open.map((o) => [o.id, o]));
  const siblings = rows.filter(
    (r) =>
      r.clientOrderId !== tp.clientOrderId &&
      isProtective(r) &&
      r.status === 'open' &&
      r.exchangeOrderId !== null &&
      openById.has(r.exchangeOrderId),
  );
  const stops = siblings.filter((r) => r.leg === 'stop_loss');
  const held = positions.find((p) => p.symbol === symbol && p.side === side)?.amount ?? 0;
  // The position read may not show the TP's close yet (the event can come first): what the stop covered less
  // what the TP closed is the most that can be left.
  const covered = Math.max(0, ...stops.map((s) => s.amount ?? 0));
  const left = stops.length > 0 ? Math.min(held, Math.max(0, covered - (tp.amount ?? 0))) : held;
  const view: Record<string, unknown> = {
    take_profit: { client_order_id: tp.clientOrderId, index: partOf(tp.clientOrderId), amount: tp.amount },
    remaining: left,
  };
  const min = adapter.market(symbol).minAmount;
  if (!(left >= min)) {
    const ids = await cancelOrders(
      deps,
      account,
      siblings.map((r) => openById.get(r.exchangeOrderId!)!),
    );
    view['canceled_orders'] = ids;
    await record(deps, signalId, tp, view);
    return view;
  }

  // The take_profits index (a limit entry's later fills re-place the legs under parts 100, 200, …).
  const indexOf = (cid: string) => partOf(cid) % 100;
  const tpIndexes = rows.filter((r) => r.leg === 'take_profit').map((r) => indexOf(r.clientOrderId));
  const firstTp = tpIndexes.length > 0 ? Math.min(...tpIndexes) : 0;
  const entry = rows.find((r) => r.leg === 'entry');
  const market = positions.find((p) => p.symbol === symbol && p.side === side)?.markPrice ?? null;
  let breakEven: number | undefined;
  if (payload?.break_even === 'tp1' && indexOf(tp.clientOrderId) === firstTp && entry?.averagePrice) {
    const level = breakEvenLevel(account, symbol, side, entry.averagePrice, deps.breakEvenFeePct);
    // A level the market already passed would trigger at once: the stop keeps its level (said in the trace).
    if (stopStillAhead(side, level, market)) breakEven = level;
    else view['break_even'] = { skipped: `break-even ${level} is through the market (${market})` };
  }
  const amount = adapter.amountToPrecision(symbol, left);
  const moves = stops
    .filter((s) => (s.amount ?? 0) > amount.amount + 1e-12 || breakEven !== undefined)
    .map((old) => ({
      old,
      clientOrderId: clientOrderId(signalId, 'stop_loss', MOVED_STOP_PART + partOf(tp.clientOrderId)),
      amount,
      trigger: breakEven ?? null,
    }));
  const moved = await moveStops(deps, account, signalId, moves, openById);
  view['stop_loss'] = moved.views;
  view['canceled_orders'] = moved.canceled;
  if (moved.refused) view['note'] = `stop_loss not moved: ${moved.refused}; the earlier stop stays`;
  if (breakEven !== undefined && !moved.refused) view['break_even'] = { stop: breakEven };
  await record(deps, signalId, tp, view);
  return view;
}

async function record(
  deps: AfterTakeProfitDeps,
  signalId: string,
  tp: OrderRow,
  view: Record<string, unknown>,
): Promise<void> {
  await recordSignalFollowUp(deps.pool, signalId, `after_take_profit_${partOf(tp.clientOrderId)}`, view);
  deps.logger.info('take-profit filled: protection kept consistent', {
    signalId,
    symbol: tp.symbol,
    remaining: view['remaining'],
    breakEven: view['break_even'],
  });
}
