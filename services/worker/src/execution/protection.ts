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
import { atrLevels, averageTrueRange, type ProtectionLevels } from './levels.ts';
import { runLeg } from './order-legs.ts';
import { closingSide, orderView } from './views.ts';

export type ProtectionKind = 'stop_loss' | 'take_profit';

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
  if (signal.stop_loss !== undefined || signal.take_profit !== undefined) {
    return { stopLoss: signal.stop_loss, takeProfit: signal.take_profit, source: 'signal' };
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

/** The planned row of one protective leg (reduce-only conditional order closing `side`). */
export function protectionRow(
  x: Execution,
  kind: ProtectionKind,
  trigger: number,
  side: PositionSide,
  hedge: boolean,
  amount: number,
): NewOrder {
  const symbol = x.job.signal.symbol;
  return newRow(x, {
    clientOrderId: clientOrderId(x.job.signalId, kind),
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
  legs: Array<{ kind: ProtectionKind; trigger: number }>,
  side: PositionSide,
  hedge: boolean,
  amount: number,
): Promise<OrderRow[]> {
  return planLegs(
    x,
    rows,
    legs.map(({ kind, trigger }) => protectionRow(x, kind, trigger, side, hedge, amount)),
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
): Promise<Placed> {
  const { adapter, settings } = x.account;
  const symbol = x.job.signal.symbol;
  const cid = clientOrderId(x.job.signalId, kind);
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
