/**
 * The trailing stop of a filled entry (`trailing_pct` / `trailing_atr`, optional `trailing_activation[_pct]`):
 * a reduce-only trailing stop for the filled amount on its own leg and client id (`trailing_stop`), sent
 * exactly once like every leg (order-legs.ts). It is a protective leg beside the SL/TP; placed, it protects the
 * position on its own (docs/decisions/0012-protected-or-flat.md).
 */
import { clientOrderId, trailingCallbackProblem, TRAILING_CALLBACK_PCT } from '@tradehook/contracts';
import { updateOrderOutcome, type OrderRow } from '@tradehook/db';
import {
  classifyExchangeError,
  exchangeErrorMessage,
  isActivationPassed,
  type Candle,
  type PositionSide,
} from '@tradehook/exchange';
import { planProtection, protectionFormsFromSignal, ProtectionPlanError } from '@tradehook/risk';
import { newRow, planLegs, type Execution } from './context.ts';
import { averageTrueRange } from './levels.ts';
import { runLeg } from './order-legs.ts';
import type { Placed } from './protection.ts';
import { closingSide, orderView, round } from './views.ts';

export interface TrailingEntry {
  rows: OrderRow[];
  side: PositionSide;
  hedge: boolean;
  filled: number;
  fillPrice: number;
  loadCandles: () => Promise<Candle[]>;
}

/**
 * Places the alert's trailing stop, if it has one, and returns what protects the position now: the
 * stop-loss refusal as it was when the alert asked for a stop-loss too (a refused trailing stop is then a
 * warning), else the trailing stop's own refusal; undefined once the trailing stop is open.
 */
export async function protectWithTrailing(
  x: Execution,
  e: TrailingEntry,
  results: Record<string, unknown>,
  warnings: string[],
  stopRefused: string | undefined,
): Promise<string | undefined> {
  const placed = await placeTrailing(x, e);
  if (!placed) return stopRefused;
  results['trailing_stop'] = placed.view;
  const stopAsked = results['stop_loss'] !== undefined;
  if (placed.error === undefined) {
    if (stopRefused !== undefined)
      warnings.push(`stop_loss not placed: ${stopRefused}; the trailing stop protects the position`);
    return undefined;
  }
  if (stopAsked && stopRefused === undefined) {
    warnings.push(`trailing_stop not placed: ${placed.error}`);
    return undefined;
  }
  return stopAsked ? stopRefused : `trailing_stop (the entry's only stop) not placed: ${placed.error}`;
}

/** Undefined when the alert has no trailing stop; a refusal is reported in the view, a retryable error thrown. */
async function placeTrailing(x: Execution, e: TrailingEntry): Promise<Placed | undefined> {
  const { signal, signalId } = x.job;
  const form = protectionFormsFromSignal(signal).trailing;
  if (!form) return undefined;
  const { adapter, settings } = x.account;
  const symbol = signal.symbol;
  const cid = clientOrderId(signalId, 'trailing_stop');
  let callbackPct: number;
  let activation: number | undefined;
  let refusal: string | undefined;
  try {
    const atr =
      'atr' in form ? (averageTrueRange(await e.loadCandles(), x.config.ATR_PERIOD) ?? undefined) : undefined;
    const plan = planProtection({
      side: e.side,
      fillPrice: e.fillPrice,
      filledAmount: e.filled,
      forms: { trailing: form },
      atr,
      roundAmount: (a) => adapter.amountToPrecision(symbol, a).amount,
      roundPrice: (p) => adapter.priceToPrecision(symbol, p),
      minAmount: adapter.market(symbol).minAmount,
    }).trailing!;
    // The venue's step (Binance 0.1 %, OKX 0.01 %); an ATR callback is known only now, so is its range check.
    const step = TRAILING_CALLBACK_PCT[signal.exchange].step;
    callbackPct = round(Math.round(plan.callbackPct / step) * step, 4);
    activation = plan.activation;
    refusal = trailingCallbackProblem(signal.exchange, callbackPct);
  } catch (err) {
    if (!(err instanceof ProtectionPlanError)) throw err;
    callbackPct = 0;
    refusal = err.reason;
  }
  const rows = await planLegs(x, e.rows, [
    newRow(x, {
      clientOrderId: cid,
      leg: 'trailing_stop',
      symbol,
      side: closingSide(e.side),
      positionSide: e.hedge ? e.side : null,
      type: 'trailing_stop_market',
      reduceOnly: true,
      amount: e.filled,
      triggerPrice: activation ?? null,
    }),
  ]);
  const view = { callback_pct: callbackPct, activation_price: activation };
  if (refusal !== undefined) {
    // Known before sending: recorded on the leg, nothing sent.
    await updateOrderOutcome(x.pool, cid, { status: 'rejected', error: refusal });
    return { view: { ...view, status: 'rejected', error: refusal }, error: refusal };
  }
  const row = rows.find((r) => r.clientOrderId === cid)!;
  const send = (activationPrice: number | undefined) =>
    x.account.ownOrder(() =>
      runLeg(x.pool, adapter, row, true, () =>
        adapter.createTrailingStop({
          symbol,
          side: closingSide(e.side),
          amount: row.amount ?? e.filled,
          clientOrderId: cid,
          reduceOnly: true,
          positionSide: e.hedge ? e.side : null,
          marginMode: settings.marginMode,
          callbackRatePct: callbackPct,
          activationPrice,
        }),
      ),
    );
  try {
    const { info } = await send(activation).catch(async (err: unknown) => {
      // The market reached the activation price before the order did: trail from now (the refused request
      // left the client id free), as the alert meant once that price was reached.
      if (activation === undefined || !isActivationPassed(err)) throw err;
      activation = undefined;
      await updateOrderOutcome(x.pool, cid, { status: 'pending', error: null });
      return send(undefined);
    });
    return { view: orderView(info, { ...view, activation_price: activation }) };
  } catch (err) {
    if (classifyExchangeError(err) === 'retryable') throw err;
    const message = exchangeErrorMessage(err);
    return { view: { ...view, status: 'rejected', error: message }, error: message };
  }
}
