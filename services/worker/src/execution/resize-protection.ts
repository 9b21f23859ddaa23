/**
 * After a partial close: the open SL/TP legs of ours protecting that position (rows `open` in `orders`, still
 * open at the exchange — any number of them, e.g. several take-profits per entry) are replaced by legs for
 * what remains, at the same triggers. Each new leg keeps its old leg's share of the position: a stop that
 * covered the whole position covers the whole remainder; each take-profit closes the same fraction of it.
 *
 * Order of operations — the position is never without a stop:
 * 1. the new stops are placed; 2. only then are the old stops cancelled; 3. the old take-profits are
 *    cancelled; 4. the new take-profits are placed.
 * Steps 1–2 leave two reduce-only stops on the position for a moment. Both venues accept that: conditional
 * orders are not checked against the position when placed, only when they trigger (Binance USDⓈ-M "New Algo
 * Order": the order waits in the Algo Service, and an order the matching engine refuses on trigger ends
 * REJECTED/EXPIRED — "Event Algo Order Update"; OKX "Place algo order": a triggered reduce-only order with no
 * position left fails with 51169); the simulator does the same (engine.ts `trigger`). Whichever fires first,
 * the other can close at most what is left. Take-profits are cancelled before their replacements are placed
 * so a symbol never holds more than old stops + new stops + old TPs at once, under Binance's
 * MAX_NUM_ALGO_ORDERS of 10 per symbol even with 6 take-profits; a take-profit missing for a moment risks no
 * loss. A new stop the exchange refuses keeps the old ones (reduce-only: they still close at most what is
 * left).
 *
 * Retries: the new legs are planned in one insert (client ids: this close signal's id, leg and part), so a
 * retried job resumes that plan; the cancels act on whatever old legs are still open.
 */
import { clientOrderId } from '@tradehook/contracts';
import { findOpenProtection, findOrdersBySignal, type NewOrder, type OrderRow, type pg } from '@tradehook/db';
import {
  classifyExchangeError,
  exchangeErrorMessage,
  type OrderInfo,
  type OrderSide,
  type PositionSide,
} from '@tradehook/exchange';
import type { AccountContext } from '../accounts.ts';
import { atPrecision } from './close-part.ts';
import { cancelOrders, cancelProtection, newRow, planLegs, type Execution } from './context.ts';
import { runLeg } from './order-legs.ts';
import type { ProtectionKind } from './protection.ts';
import { closingSide, orderView, round } from './views.ts';

export interface Resized {
  /** For the trace (`results.resized`). */
  view: Record<string, unknown>;
  canceled: string[];
  /** What the answer must say (legs dropped or kept, refusals). */
  notes: string[];
}

const isProtection = (r: OrderRow) => r.leg === 'stop_loss' || r.leg === 'take_profit';

/**
 * After the reduce-only close of a part: what is left of the position, by REST (the stream may not show the
 * close yet), and its protection resized — or, when nothing is left (the part was all of it, or a stop fired
 * meanwhile), cancelled as after a full close.
 */
export async function protectRemainder(
  x: Execution,
  side: PositionSide,
  hedge: boolean,
  closed: OrderInfo,
): Promise<Resized> {
  const symbol = x.job.signal.symbol;
  const positions = await x.account.adapter.fetchPositions(symbol);
  const left = positions.find((p) => p.symbol === symbol && p.side === side);
  if (!left || !(left.amount > 0))
    return { view: {}, canceled: await cancelProtection(x, symbol, side), notes: [] };
  return resizeProtection(x, side, hedge, left.amount, left.amount + (closed.filled ?? 0));
}

export async function resizeProtection(
  x: Execution,
  side: PositionSide,
  hedge: boolean,
  remaining: number,
  before: number,
): Promise<Resized> {
  const { adapter } = x.account;
  const { signal, signalId } = x.job;
  const symbol = signal.symbol;
  const notes: string[] = [];
  // REST, after the close: a leg placed a moment ago may not be on the stream yet.
  const open = new Map((await adapter.fetchOpenOrders(symbol)).map((o) => [o.id, o]));
  const rows = await findOpenProtection(
    x.pool,
    signal.exchange,
    signal.account_id,
    symbol,
    closingSide(side),
    hedge ? side : null,
  );
  // Rows open here but gone at the exchange fired or were cancelled there: fill-sync settles those.
  const old = rows.filter(
    (r) => r.signalId !== signalId && r.exchangeOrderId !== null && open.has(r.exchangeOrderId),
  );
  let planned = (await findOrdersBySignal(x.pool, signalId)).filter(isProtection);
  if (planned.length === 0 && old.length > 0) {
    const legs = plan(x, old, side, hedge, remaining / before, notes);
    planned = (await planLegs(x, [], legs)).filter(isProtection);
  }
  const stops = planned.filter((r) => r.leg === 'stop_loss');
  const tps = planned.filter((r) => r.leg === 'take_profit');
  const view: Record<string, unknown> = {
    position: { before: round(before), closed: round(before - remaining), remaining: round(remaining) },
  };

  view['replaced'] = old.map((r) => ({
    client_order_id: r.clientOrderId,
    leg: r.leg,
    amount: r.amount,
    trigger_price: r.triggerPrice,
  }));
  const placedStops = await placeAll(x, stops);
  view['stop_loss'] = placedStops.map((p) => p.view);
  const stopRefused = placedStops.find((p) => p.error !== undefined)?.error;
  const canceled: string[] = [];
  const cancelOld = async (kind: ProtectionKind, keep: Set<string>) => {
    const ids = new Set(
      old.filter((r) => r.leg === kind && !keep.has(r.exchangeOrderId!)).map((r) => r.exchangeOrderId!),
    );
    const orders = [...ids].filter((id) => !canceled.includes(id)).map((id) => open.get(id)!);
    canceled.push(...(await cancelOrders(x, orders)));
  };
  const keptStops = new Set<string>();
  if (stopRefused !== undefined) {
    for (const r of old) if (r.leg === 'stop_loss') keptStops.add(r.exchangeOrderId!);
    notes.push(
      `stop_loss not resized: ${stopRefused}; the earlier stop stays (reduce-only, it closes at most the ${round(remaining)} left)`,
    );
  } else {
    await cancelOld('stop_loss', keptStops);
  }
  // An OKX entry's attached SL and TP are one OCO order: a kept stop keeps its order, take-profit included.
  await cancelOld('take_profit', keptStops);
  const placedTps = await placeAll(x, tps);
  view['take_profit'] = placedTps.map((p) => p.view);
  for (const p of placedTps) if (p.error !== undefined) notes.push(`take_profit not resized: ${p.error}`);
  return { view, canceled, notes };
}

/** The new legs: one per old leg, its amount scaled to the remainder, in the market's precision. */
function plan(
  x: Execution,
  old: OrderRow[],
  side: PositionSide,
  hedge: boolean,
  ratio: number,
  notes: string[],
): NewOrder[] {
  const { adapter } = x.account;
  const symbol = x.job.signal.symbol;
  const min = adapter.market(symbol).minAmount;
  const out: NewOrder[] = [];
  old.forEach((r, i) => {
    const kind = r.leg as ProtectionKind;
    let { amount, exchangeAmount } = atPrecision(adapter, symbol, (r.amount ?? 0) * ratio);
    if (amount < min) {
      if (kind === 'take_profit') {
        notes.push(
          `take_profit at ${r.triggerPrice} dropped: its share of the remainder (${round((r.amount ?? 0) * ratio)}) is below the market's minimum amount ${min}`,
        );
        return;
      }
      // A stop is never dropped: at the minimum it still closes at most what is left (reduce-only).
      ({ amount, exchangeAmount } = adapter.amountToPrecision(symbol, min));
      notes.push(`stop_loss at ${r.triggerPrice} kept at the market's minimum amount ${amount}`);
    }
    out.push(
      newRow(x, {
        clientOrderId: clientOrderId(x.job.signalId, kind, i + 1),
        leg: kind,
        symbol,
        side: closingSide(side),
        positionSide: hedge ? side : null,
        type: kind === 'stop_loss' ? 'stop_market' : 'take_profit_market',
        reduceOnly: true,
        amount,
        exchangeAmount,
        triggerPrice: r.triggerPrice,
      }),
    );
  });
  return out;
}

/** All at once; waits for every request before throwing, so a retry never races one still in flight. */
async function placeAll(x: Execution, rows: OrderRow[]) {
  const settled = await Promise.allSettled(rows.map((r) => placeConditionalLeg(x.pool, x.account, r)));
  const thrown = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (thrown) throw thrown.reason;
  return settled.map(
    (s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof placeConditionalLeg>>>).value,
  );
}

/**
 * Places one planned reduce-only conditional leg exactly once (a resize, or the stop moved after a take-profit
 * filled); a final refusal is reported, a retryable error thrown.
 */
export async function placeConditionalLeg(
  pool: pg.Pool,
  account: AccountContext,
  row: OrderRow,
): Promise<{ view: Record<string, unknown>; error?: string }> {
  const { adapter, settings } = account;
  try {
    const { info } = await account.ownOrder(() =>
      runLeg(pool, adapter, row, true, () =>
        adapter.createConditionalOrder({
          kind: row.leg as ProtectionKind,
          symbol: row.symbol,
          side: row.side as OrderSide,
          amount: row.amount ?? 0,
          clientOrderId: row.clientOrderId,
          reduceOnly: true,
          positionSide: (row.positionSide as PositionSide | null) ?? null,
          marginMode: settings.marginMode,
          triggerPrice: row.triggerPrice ?? 0,
        }),
      ),
    );
    return { view: legView(info, row) };
  } catch (err) {
    if (classifyExchangeError(err) === 'retryable') throw err;
    const error = exchangeErrorMessage(err);
    return {
      view: { trigger_price: row.triggerPrice, amount: row.amount, status: 'rejected', error },
      error,
    };
  }
}

function legView(info: OrderInfo, row: OrderRow) {
  return orderView(info, { trigger_price: row.triggerPrice, amount: info.amount ?? row.amount });
}
