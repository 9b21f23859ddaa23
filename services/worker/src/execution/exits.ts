/** Exits: close one side of a symbol, or everything the account holds (close_all). Risk never blocks these. */
import { ALL_SYMBOLS, clientOrderId, closePartOf } from '@tradehook/contracts';
import { findOrdersBySignal } from '@tradehook/db';
import { classifyExchangeError, exchangeErrorMessage, type PositionSide } from '@tradehook/exchange';
import {
  cancelOrders,
  cancelProtection,
  details,
  newRow,
  planLegs,
  sendMarketLeg,
  signalLegs,
  type Execution,
} from './context.ts';
import { planClose } from './close-part.ts';
import { confirmPositions, readDecisionState } from './decision-state.ts';
import { protectRemainder } from './resize-protection.ts';
import { closingSide, orderView, type ExecutionOutcome, type OrderDetails } from './views.ts';
import { cancelRestingEntries } from './limit-follow-up.ts';

export async function closeSide(x: Execution, side: PositionSide): Promise<ExecutionOutcome> {
  const { job, account } = x;
  const symbol = job.signal.symbol;
  const hedge = (await account.positionMode()) === 'hedge';
  const exitId = clientOrderId(job.signalId, 'exit');
  // A part (quantity / close_pct): the rest stays open and keeps its protection, resized.
  const part = closePartOf(job.signal);
  let rows = await signalLegs(x);
  let trace: unknown;
  let note: string | undefined;
  let restingCanceled: string[] = [];
  if (!rows.some((r) => r.clientOrderId === exitId)) {
    // Before the position is read: a resting limit entry of this side must not refill it after the close.
    restingCanceled = await cancelRestingEntries(x, { symbol, side });
    const state = await readDecisionState(x, symbol, { balance: false, price: false });
    const find = (positions: typeof state.positions) =>
      positions.find((p) => p.symbol === symbol && p.side === side);
    const pos = find(state.positions) ?? find(await confirmPositions(x, state, symbol));
    trace = state.trace;
    if (!pos) {
      // The exchange may have closed it (SL/TP fired): clear what is left of its protection.
      const canceled = await cancelProtection(x, symbol, side);
      return {
        status: 'ignored',
        reason: `no ${side} position to close (it may have been closed by a stop-loss on the exchange)`,
        result: details(x, { closed: [], canceled_orders: [...restingCanceled, ...canceled], state: trace }),
      };
    }
    const planned = planClose(account.adapter, pos, part);
    if ('refused' in planned) {
      return {
        status: 'failed',
        reason: planned.refused,
        result: details(x, { closed: [], state: trace }, false),
      };
    }
    note = planned.note;
    rows = await planLegs(x, rows, [
      newRow(x, {
        clientOrderId: exitId,
        leg: 'exit',
        symbol,
        side: closingSide(side),
        positionSide: hedge ? side : null,
        type: 'market',
        reduceOnly: true,
        amount: planned.amount,
        exchangeAmount: planned.exchangeAmount ?? null,
      }),
    ]);
  }
  const { info, adopted } = await sendMarketLeg(
    x,
    rows.find((r) => r.clientOrderId === exitId)!,
  );
  const after = part.kind === 'all' ? undefined : await protectRemainder(x, side, hedge, info);
  const canceled = after ? after.canceled : await cancelProtection(x, symbol, side);
  const notes = [...(note ? [note] : []), ...(after?.notes ?? [])];
  return {
    status: 'executed',
    reason: notes.length > 0 ? notes.join('; ') : null,
    // One list of closing orders, as close_all answers (not the same order under two keys).
    result: details(x, {
      closed: [orderView(info, { position_side: side, ...(adopted ? { recovered: true } : {}) })],
      canceled_orders: [...restingCanceled, ...canceled],
      ...(after?.view.position ? { resized: after.view } : {}),
      ...(trace ? { state: trace } : {}),
    }),
  };
}

export async function closeAll(x: Execution): Promise<ExecutionOutcome> {
  const { job, account } = x;
  const hedge = (await account.positionMode()) === 'hedge';
  let rows = (await findOrdersBySignal(x.pool, job.signalId)).filter((r) => r.leg === 'exit');
  let trace: unknown;
  let resting: string[] = [];
  if (rows.length === 0) {
    // Resting limit entries first (their trace says how much filled); every other open order goes below.
    resting = await cancelRestingEntries(x, null);
    const state = await readDecisionState(x, job.signal.symbol, { balance: false, price: false });
    const held = state.positions.length > 0 ? state.positions : await confirmPositions(x, state);
    trace = state.trace;
    const positions = [...held].sort((a, b) =>
      `${a.symbol}|${a.side}`.localeCompare(`${b.symbol}|${b.side}`),
    );
    rows = (
      await planLegs(
        x,
        rows,
        positions.map((p, i) =>
          newRow(x, {
            clientOrderId: clientOrderId(job.signalId, 'exit', i + 1),
            leg: 'exit',
            symbol: p.symbol,
            side: closingSide(p.side),
            positionSide: hedge ? p.side : null,
            type: 'market',
            reduceOnly: true,
            amount: p.amount,
          }),
        ),
      )
    ).filter((r) => r.leg === 'exit');
  }
  const settled = await Promise.allSettled(rows.map((row) => sendMarketLeg(x, row)));
  const retryable = settled.find(
    (s): s is PromiseRejectedResult =>
      s.status === 'rejected' && classifyExchangeError(s.reason) === 'retryable',
  );
  if (retryable) throw retryable.reason;
  // Every open order goes, conditional ones included (OKX has no cancel-all: one by one).
  const canceled = [...resting, ...(await cancelOrders(x, await account.adapter.fetchOpenOrders()))];
  const closed = settled.map((s, i) =>
    s.status === 'fulfilled'
      ? orderView(s.value.info, { position_side: rows[i]!.positionSide ?? undefined })
      : { symbol: rows[i]!.symbol, status: 'rejected', error: exchangeErrorMessage(s.reason) },
  );
  const failures = settled.filter((s) => s.status === 'rejected').length;
  // Every position of the account, whatever symbol the alert named: say which ones.
  const answer = (success = true): OrderDetails => ({
    ...details(x, { closed, canceled_orders: canceled, ...(trace ? { state: trace } : {}) }, success),
    symbol: ALL_SYMBOLS,
    symbols: [...new Set(rows.map((r) => r.symbol))],
  });
  if (failures > 0) {
    x.log.warn('close_all: some positions could not be closed', { failures });
    return {
      status: 'failed',
      reason: `${failures} of ${rows.length} positions could not be closed`,
      result: answer(false),
    };
  }
  if (rows.length === 0 && canceled.length === 0) {
    return { status: 'ignored', reason: 'no open positions or orders to close', result: answer() };
  }
  return { status: 'executed', reason: null, result: answer() };
}
