/**
 * Stop-loss and take-profit of a filled entry: their levels (the alert's, else ATR from the fill price),
 * their planned rows, placing them, and the one retry of a stop the market passed before the fill.
 */
import { clientOrderId } from '@tradehook/contracts';
import { findOrdersBySignal, updateOrderOutcome, type NewOrder, type OrderRow } from '@tradehook/db';
import {
  classifyExchangeError,
  exchangeErrorMessage,
  isTriggerThroughMarket,
  type Candle,
  type PositionSide,
} from '@tradehook/exchange';
import { planLegs, newRow, type Execution } from './context.ts';
import { atrLevels, averageTrueRange, LevelError, type ProtectionLevels } from './levels.ts';
import {
  levelPrice,
  planProtection as planLevels,
  protectionFormsFromSignal,
  ProtectionPlanError,
} from '@tradehook/risk';
import type { OrderJob } from '@tradehook/contracts';
import { runLeg } from './order-legs.ts';
import { closingSide, orderView } from './views.ts';

export type ProtectionKind = 'stop_loss' | 'take_profit';

/** One protective leg to plan and place: `part` is the take_profits index (0: the single SL or TP). */
export interface ProtectionLeg {
  kind: ProtectionKind;
  trigger: number;
  amount: number;
  part: number;
}

export interface Placed {
  view: Record<string, unknown>;
  error?: string;
  throughMarket?: boolean;
}

export async function protectionLevels(
  x: Execution,
  side: PositionSide,
  fillPrice: number,
  wantAtr: boolean,
  loadCandles: () => Promise<Candle[]>,
): Promise<ProtectionLevels> {
  const { signal } = x.job;
  if (hasProtectionForm(signal)) {
    // The alert's own levels: a price, a % from the fill price, or ATR multiples from the fill price.
    const needs = signal.stop_loss_atr !== undefined || signal.take_profit_atr !== undefined;
    const atr = needs ? (averageTrueRange(await loadCandles(), x.config.ATR_PERIOD) ?? undefined) : undefined;
    const forms = protectionFormsFromSignal(signal);
    try {
      const stopLoss = forms.stopLoss && levelPrice(forms.stopLoss, side, fillPrice, 'stop', atr);
      const tp = forms.takeProfits?.[0];
      const takeProfit = tp && levelPrice(tp, side, fillPrice, 'target', atr);
      for (const [name, level] of [
        ['stop_loss', stopLoss],
        ['take_profit', takeProfit],
      ] as const) {
        if (level !== undefined && !(level > 0))
          throw new ProtectionPlanError(
            `${name} computed at ${level} from the fill ${fillPrice}: not a price`,
          );
      }
      return { stopLoss, takeProfit, source: 'signal', ...(atr !== undefined ? { atr } : {}) };
    } catch (err) {
      // Refused levels after the fill: the stop is treated as refused (protected or flat decides).
      if (err instanceof ProtectionPlanError) throw new LevelError(err.reason);
      throw err;
    }
  }
  if (!wantAtr) return { stopLoss: undefined, takeProfit: undefined, source: 'none' };
  const atr = averageTrueRange(await loadCandles(), x.config.ATR_PERIOD);
  if (atr === null) {
    x.log.warn('not enough candles for ATR; no automatic SL/TP', { symbol: signal.symbol });
    return { stopLoss: undefined, takeProfit: undefined, source: 'none' };
  }
  const lv = atrLevels(side, fillPrice, atr, x.config.ATR_SL_MULTIPLIER, x.config.ATR_TP_MULTIPLIER);
  return { ...lv, source: 'atr', atr };
}

/**
 * Several take-profits (`take_profits`): the stop and each take-profit from the fill price, each TP closing its
 * share of the filled amount in the market's precision (a share below the minimum merged into its neighbour,
 * said in `warnings`). Throws LevelError when a level cannot be placed (the stop then counts as refused).
 */
export async function takeProfitsLegs(
  x: Execution,
  side: PositionSide,
  fillPrice: number,
  filled: number,
  loadCandles: () => Promise<Candle[]>,
): Promise<{ legs: ProtectionLeg[]; warnings: string[]; atr?: number }> {
  const { signal } = x.job;
  const { adapter } = x.account;
  const forms = protectionFormsFromSignal(signal);
  const needs = [forms.stopLoss, ...(forms.takeProfits ?? [])].some((f) => f !== undefined && 'atr' in f);
  const atr = needs ? (averageTrueRange(await loadCandles(), x.config.ATR_PERIOD) ?? undefined) : undefined;
  try {
    const plan = planLevels({
      side,
      fillPrice,
      filledAmount: filled,
      forms: { stopLoss: forms.stopLoss, takeProfits: forms.takeProfits },
      atr,
      roundAmount: (a) => {
        try {
          return adapter.amountToPrecision(signal.symbol, a).amount;
        } catch {
          return 0; // rounds to zero: below the minimum, merged by the plan
        }
      },
      roundPrice: (p) => adapter.priceToPrecision(signal.symbol, p),
      minAmount: adapter.market(signal.symbol).minAmount,
    });
    const legs: ProtectionLeg[] = [];
    if (plan.stopLoss)
      legs.push({ kind: 'stop_loss', trigger: plan.stopLoss.trigger, amount: filled, part: 0 });
    for (const tp of plan.takeProfits)
      legs.push({ kind: 'take_profit', trigger: tp.trigger, amount: tp.amount, part: tp.index });
    return { legs, warnings: plan.warnings, ...(atr !== undefined ? { atr } : {}) };
  } catch (err) {
    if (err instanceof ProtectionPlanError) throw new LevelError(err.reason);
    throw err;
  }
}

/**
 * Does the alert name its own stop-loss, take-profit or trailing stop (any form)? Then the account's ATR
 * default is off: a trailing stop is the alert's own protection (docs/decisions/0012-protected-or-flat.md).
 */
export function hasProtectionForm(signal: OrderJob['signal']): boolean {
  return [
    signal.trailing_pct,
    signal.trailing_atr,
    signal.stop_loss,
    signal.stop_loss_pct,
    signal.stop_loss_atr,
    signal.take_profit,
    signal.take_profit_pct,
    signal.take_profit_atr,
    signal.take_profits,
  ].some((v) => v !== undefined);
}

/**
 * The stop an entry sized by risk_pct is sized from, before the fill: the alert's price, % or ATR form from the
 * decision price (the contract refuses risk_pct without one). Undefined for other modes.
 */
export async function stopForSizing(
  x: Execution,
  side: PositionSide,
  price: number,
  loadCandles: () => Promise<Candle[]>,
): Promise<number | undefined> {
  const { signal } = x.job;
  if (signal.risk_pct === undefined) return undefined;
  const form = protectionFormsFromSignal(signal).stopLoss;
  if (!form) return undefined;
  const atr =
    'atr' in form ? (averageTrueRange(await loadCandles(), x.config.ATR_PERIOD) ?? undefined) : undefined;
  try {
    return levelPrice(form, side, price, 'stop', atr);
  } catch (err) {
    if (err instanceof ProtectionPlanError) throw new LevelError(err.reason);
    throw err;
  }
}

/** The planned row of one protective leg (reduce-only conditional order closing `side`). */
export function protectionRow(
  x: Execution,
  kind: ProtectionKind,
  trigger: number,
  side: PositionSide,
  hedge: boolean,
  amount: number,
  part = 0,
): NewOrder {
  const symbol = x.job.signal.symbol;
  return newRow(x, {
    clientOrderId: clientOrderId(x.job.signalId, kind, part),
    leg: kind,
    symbol,
    side: closingSide(side),
    positionSide: hedge ? side : null,
    type: kind === 'stop_loss' ? 'stop_market' : 'take_profit_market',
    reduceOnly: true,
    amount,
    triggerPrice: x.account.adapter.priceToPrecision(symbol, trigger),
  });
}

/** Plans (one insert, one re-read) the protective legs not planned by an earlier attempt. */
export function planProtection(
  x: Execution,
  rows: OrderRow[],
  legs: ProtectionLeg[],
  side: PositionSide,
  hedge: boolean,
): Promise<OrderRow[]> {
  return planLegs(
    x,
    rows,
    legs.map((l) => protectionRow(x, l.kind, l.trigger, side, hedge, l.amount, l.part)),
  );
}

/**
 * Places one planned reduce-only conditional order after the entry filled. A final refusal is reported, not
 * thrown; a retryable error is thrown.
 */
export async function placeProtection(
  x: Execution,
  rows: OrderRow[],
  kind: ProtectionKind,
  side: PositionSide,
  hedge: boolean,
  amount: number,
  trigger: number,
  part = 0,
): Promise<Placed> {
  const { adapter, settings } = x.account;
  const symbol = x.job.signal.symbol;
  const cid = clientOrderId(x.job.signalId, kind, part);
  const triggerPrice = adapter.priceToPrecision(symbol, trigger);
  const leg = rows.find((r) => r.clientOrderId === cid)!; // planned by planProtection
  try {
    const { info } = await x.account.ownOrder(() =>
      runLeg(x.pool, adapter, leg, true, () =>
        adapter.createConditionalOrder({
          kind,
          symbol,
          side: closingSide(side),
          amount: leg.amount ?? amount,
          clientOrderId: cid,
          reduceOnly: true,
          positionSide: hedge ? side : null,
          marginMode: settings.marginMode,
          triggerPrice: leg.triggerPrice ?? triggerPrice,
        }),
      ),
    );
    return { view: orderView(info, { trigger_price: leg.triggerPrice ?? triggerPrice }) };
  } catch (err) {
    if (classifyExchangeError(err) === 'retryable') throw err;
    const message = exchangeErrorMessage(err);
    return {
      view: { trigger_price: triggerPrice, status: 'rejected', error: message },
      error: message,
      throughMarket: isTriggerThroughMarket(err),
    };
  }
}

/**
 * The alert's stop was passed by the market before the entry filled (the exchange said it would trigger at
 * once). When the alert carried its reference `price`, keep the distance it meant from the fill price
 * instead, if that level is still on the right side of the market; the same planned leg (its request was
 * refused, so its client id is free) is sent again with that level. Null when no such level exists.
 */
export async function retryStopFromFill(
  x: Execution,
  side: PositionSide,
  hedge: boolean,
  amount: number,
  fillPrice: number,
): Promise<(Placed & { note: string }) | null> {
  const { price: reference, stop_loss: stop, symbol } = x.job.signal;
  if (reference === undefined || stop === undefined) return null;
  const { adapter } = x.account;
  const distance = Math.abs(reference - stop);
  const level = adapter.priceToPrecision(
    symbol,
    side === 'long' ? fillPrice - distance : fillPrice + distance,
  );
  const market = await adapter.fetchPrice(symbol);
  if (!(level > 0) || (side === 'long' ? level >= market : level <= market)) return null;
  const cid = clientOrderId(x.job.signalId, 'stop_loss');
  await updateOrderOutcome(x.pool, cid, { status: 'pending', triggerPrice: level, error: null });
  const rows = await findOrdersBySignal(x.pool, x.job.signalId);
  const placed = await placeProtection(x, rows, 'stop_loss', side, hedge, amount, level);
  return {
    ...placed,
    view: { ...placed.view, requested_trigger_price: stop },
    note: `stop_loss ${stop} was already through the market at the fill (${fillPrice}); placed at ${level}, the alert's distance from the fill`,
  };
}
