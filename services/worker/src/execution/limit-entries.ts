/**
 * Limit and post-only entries (docs/decisions/0025-limit-entries.md): the planned entry row is sent as a
 * limit order; what filled at once is protected by the usual path (protectEntry, for the filled amount); a
 * remainder that rests ends the signal `executed` with `results.limit_entry.state = "resting"`, and its later
 * fills and its cancel-after are followed by limit-follow-up.ts through the `limit-entries-<exchange>` queue.
 */
import { cancelAfterSeconds, entryMayRest } from '@tradehook/contracts';
import { findOrdersBySignal, updateOrderOutcome, type OrderRow } from '@tradehook/db';
import { OrderNotSettled, type OrderInfo, type OrderSide, type PositionSide } from '@tradehook/exchange';
import { afterExecutingMark, details, type Execution } from './context.ts';
import { protectEntry } from './entries.ts';
import { orderStatusOf, runLeg, type LegResult } from './order-legs.ts';
import { hasProtectionForm } from './protection.ts';
import { ExecutionRejected, orderView, type ExecutionOutcome } from './views.ts';

/** The limit price of a limit entry (undefined: a market entry). Refuses one this worker could not follow. */
export function limitEntryPrice(x: Execution): number | undefined {
  const { signal } = x.job;
  if (signal.order_type !== 'limit') return undefined;
  if (signal.limit_price === undefined) throw new ExecutionRejected('order_type "limit" needs limit_price');
  if (entryMayRest(signal) && !x.limitEntries)
    throw new ExecutionRejected('this worker cannot follow a resting limit entry (no limit-entry queue)');
  return signal.limit_price;
}

/** Sends the planned limit entry exactly once (a retry adopts the order booked under its client id). */
function sendLimitLeg(x: Execution, row: OrderRow): Promise<LegResult> {
  const { adapter, settings } = x.account;
  const { signal } = x.job;
  return afterExecutingMark(x, () =>
    x.account.ownOrder(
      () =>
        runLeg(
          x.pool,
          adapter,
          row,
          false,
          () =>
            adapter.createLimitOrder({
              symbol: row.symbol,
              side: row.side as OrderSide,
              amount: row.amount ?? 0,
              price: signal.limit_price!,
              timeInForce: signal.time_in_force,
              postOnly: signal.post_only === true,
              clientOrderId: row.clientOrderId,
              reduceOnly: false,
              positionSide: (row.positionSide as PositionSide | null) ?? null,
              marginMode: settings.marginMode,
            }),
          { rests: true },
        ),
      true,
    ),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The order as booked. OKX answers a placement with ids only (and shows a fresh order a moment late), so the
 * order is read back by client id; an IOC/FOK (or one just cancelled) is read until final. Falls back to what
 * is known.
 */
export async function readBooked(
  x: Execution,
  row: OrderRow,
  known: OrderInfo | null,
  untilFinal = !entryMayRest(x.job.signal),
): Promise<OrderInfo> {
  const settled = (o: OrderInfo | null) =>
    o !== null && o.filled !== null && o.status !== 'unknown' && !(untilFinal && o.status === 'open');
  if (settled(known)) return known!;
  let last = known;
  for (let wait = 50, until = Date.now() + 5_000; Date.now() < until; wait = Math.min(wait * 2, 1_000)) {
    last = (await x.account.adapter.findOrder(row.symbol, row.clientOrderId, false)) ?? last;
    if (settled(last)) return last!;
    await sleep(wait);
  }
  // Retryable: the job runs again and adopts the order by its client id (runLeg), then reads it again.
  if (!last) throw new OrderNotSettled(`limit entry ${row.clientOrderId} was sent but is not visible yet`);
  return last;
}

export async function recordEntry(x: Execution, row: OrderRow, info: OrderInfo): Promise<void> {
  await updateOrderOutcome(x.pool, row.clientOrderId, {
    status: orderStatusOf(info),
    exchangeOrderId: info.id || null,
    filledAmount: info.filled,
    averagePrice: info.average,
    error: null,
  });
}

/** Protects `filled` of the entry through the usual path (levels from the fill price; protected or flat). */
export function protectFilled(
  x: Execution,
  rows: OrderRow[],
  results: Record<string, unknown>,
  side: PositionSide,
  hedge: boolean,
  filled: number,
  fillPrice: number,
): Promise<ExecutionOutcome> {
  const { account, config, job } = x;
  const wantAtr = account.settings.autoSlTp && !hasProtectionForm(job.signal);
  const loadCandles = () =>
    x.candles.get(
      account.adapter,
      account.settings,
      job.signal.symbol,
      config.ATR_TIMEFRAME,
      Math.max(100, config.ATR_PERIOD * 3),
    );
  return protectEntry(x, rows, results, side, hedge, filled, fillPrice, wantAtr, loadCandles);
}

/** Why a limit entry ended without any fill, in the trader's words. */
function unfilledReason(x: Execution, info: OrderInfo): string {
  const s = x.job.signal;
  const what = `limit ${info.side} ${info.amount ?? ''} @ ${s.limit_price}`.replace(/ {2}/, ' ');
  if (s.post_only) {
    // OKX accepts a post-only order that would take and cancels it (cancelSource 31); Binance refuses it
    // with -5022 (recorded by runLeg as the exchange's error).
    return `post-only ${what} would have taken liquidity: the exchange ${info.status === 'rejected' ? 'rejected' : 'canceled'} it; nothing is open`;
  }
  return `${s.time_in_force ?? 'GTC'} ${what} did not fill (status ${info.status}); nothing is open`;
}

export async function enterLimit(
  x: Execution,
  row: OrderRow,
  results: Record<string, unknown>,
  side: PositionSide,
  hedge: boolean,
): Promise<ExecutionOutcome> {
  const { signal } = x.job;
  const sent = await sendLimitLeg(x, row);
  // Adopted (a retry): the recorded state may be old, so the order is read again.
  const info = await readBooked(x, row, sent.adopted ? null : sent.info);
  await recordEntry(x, row, info);
  const filled = info.filled ?? 0;
  const rests = info.status === 'open';
  results['entry'] = orderView(info, {
    position_side: side,
    type: 'limit',
    price: signal.limit_price,
    time_in_force: signal.post_only ? 'post_only' : (signal.time_in_force ?? 'GTC'),
  });
  if (!(filled > 0) && !rests) {
    const reason = unfilledReason(x, info);
    results['limit_entry'] = { state: 'unfilled', filled: 0, amount: info.amount };
    return { status: 'failed', reason, result: details(x, results, false) };
  }
  const cancelAt = Date.now() + cancelAfterSeconds(signal) * 1000;
  // Before anything else can fail: whatever becomes of the signal, the remainder is cancelled at cancel-after.
  if (rests) await x.limitEntries!.schedule({ order: x.job, side, hedge, cancelAt });
  let outcome: ExecutionOutcome | undefined;
  if (filled > 0) {
    const rows = await findOrdersBySignal(x.pool, x.job.signalId);
    outcome = await protectFilled(x, rows, results, side, hedge, filled, info.average ?? signal.limit_price!);
    if (outcome.status === 'failed' && rests) {
      // Flattened (its stop was refused): the rest of the order must not open the position again.
      await x.account.adapter.cancelOrder({ id: info.id, symbol: row.symbol, conditional: false });
      await recordEntry(x, row, await readBooked(x, row, null, true));
      return outcome;
    }
  }
  if (!rests) {
    // Filled in full, or IOC/FOK whose remainder expired: nothing rests.
    const remainder = (info.amount ?? filled) - filled;
    results['limit_entry'] = { state: remainder > 1e-12 ? 'partly_filled' : 'filled', filled };
    return outcome!;
  }
  const trace = {
    state: 'resting',
    filled,
    amount: info.amount,
    protected_amount: filled,
    cancel_at: new Date(cancelAt).toISOString(),
  };
  results['limit_entry'] = trace;
  const note = `limit entry resting: ${info.side} ${info.amount} @ ${signal.limit_price}, filled ${filled} so far; SL/TP follow its fills; the remainder is cancelled at ${trace.cancel_at}`;
  if (outcome) {
    outcome.reason = outcome.reason ? `${note}; ${outcome.reason}` : note;
    return outcome;
  }
  return { status: 'executed', reason: note, result: details(x, results) };
}
