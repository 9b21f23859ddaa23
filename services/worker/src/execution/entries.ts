/**
 * Entries: decide from the account's state (stream, else REST), plan the legs (a flip's close, the entry),
 * send them, then protect the fill — protected or flat (docs/decisions/0012-protected-or-flat.md).
 */
import { clientOrderId } from '@tradehook/contracts';
import { findOrdersBySignal, updateOrderOutcome, type OrderRow } from '@tradehook/db';
import type { AttachedProtection, Candle, PositionSide } from '@tradehook/exchange';
import { conditionalLegCount, protectionFormsFromSignal, sizingFromSignal } from '@tradehook/risk';
import { sizeEntry } from './sizing.ts';
import {
  cancelProtection,
  details,
  newRow,
  planLegs,
  sendMarketLeg,
  signalLegs,
  type Execution,
} from './context.ts';
import { openConditionals, readDecisionState } from './decision-state.ts';
import { atrLevels, averageTrueRange, LevelError, validateLevels, type ProtectionLevels } from './levels.ts';
import {
  placeProtection,
  planProtection,
  protectionLevels,
  protectionRow,
  hasProtectionForm,
  retryStopFromFill,
  stopForSizing,
  takeProfitsLegs,
  type Placed,
  type ProtectionKind,
  type ProtectionLeg,
} from './protection.ts';
import { protectWithTrailing } from './trailing.ts';
import {
  closingSide,
  openingSide,
  opposite,
  orderView,
  protects,
  round,
  type ExecutionOutcome,
} from './views.ts';
import { enterLimit, limitEntryPrice } from './limit-entries.ts';

export async function enter(x: Execution, side: PositionSide): Promise<ExecutionOutcome> {
  const { job, account, config } = x;
  const { adapter, settings } = account;
  const symbol = job.signal.symbol;
  const hedge = (await account.positionMode()) === 'hedge';
  const leverage = job.limits.leverage ?? settings.defaultLeverage ?? config.DEFAULT_LEVERAGE;
  const entryId = clientOrderId(job.signalId, 'entry');
  const flipId = clientOrderId(job.signalId, 'flip');
  // A limit entry (limit-entries.ts) is sized and levelled from its limit price; refused before anything is sent
  // when this worker cannot follow it.
  const limitPrice = limitEntryPrice(x);
  // The account's default ATR SL/TP, when the alert names none of its own.
  const wantAtr = settings.autoSlTp && !hasProtectionForm(job.signal);
  const needsCandles =
    wantAtr ||
    job.signal.stop_loss_atr !== undefined ||
    job.signal.take_profit_atr !== undefined ||
    job.signal.trailing_atr !== undefined;
  let candles: Promise<Candle[]> | undefined;
  const loadCandles = () =>
    (candles ??= x.candles.get(
      adapter,
      settings,
      symbol,
      config.ATR_TIMEFRAME,
      Math.max(100, config.ATR_PERIOD * 3),
    ));

  const results: Record<string, unknown> = {};
  let rows = await signalLegs(x);
  // Leverage (only when it changes: cached per process) goes out alongside the state read, not after it.
  const leverageSet = applyLeverage(x, symbol, leverage, hedge ? side : null);
  leverageSet.catch(() => undefined); // awaited below; a failure before that must not go unhandled
  if (!rows.some((r) => r.clientOrderId === entryId)) {
    // Fresh: decide from the account's state.
    if (needsCandles) loadCandles().catch(() => undefined); // in parallel; needed only after the fill
    const mode = sizingFromSignal(job.signal, config.DEFAULT_SIZE_FRACTION).mode;
    // Binance caps open conditional orders per symbol: count them (from the stream) before sending an entry
    // whose stop would be refused after the fill.
    const adding = conditionalLegCount(
      protectionFormsFromSignal(
        job.signal,
        wantAtr ? { sl: config.ATR_SL_MULTIPLIER, tp: config.ATR_TP_MULTIPLIER } : undefined,
      ),
    );
    const capped = adding > 0 && adapter.market(symbol).maxOpenConditionalOrders !== undefined;
    const state = await readDecisionState(x, symbol, {
      balance: mode === 'balance_pct' || mode === 'risk_pct',
      price: true,
      conditionals: capped,
    });
    results['state'] = state.trace;
    const price = limitPrice ?? state.price!;
    const open = capped ? await openConditionals(x, state, symbol) : undefined;
    const same = state.positions.find((p) => p.symbol === symbol && p.side === side);
    const against = state.positions.find((p) => p.symbol === symbol && p.side === opposite(side));
    if (same && !settings.allowAdd) {
      return {
        status: 'ignored',
        reason: `already ${side} ${same.amount} ${symbol}; adding to a position is off for this account (allow_add)`,
        result: details(x, {
          position: { side, amount: same.amount, entry_price: same.entryPrice },
          state: state.trace,
        }),
      };
    }
    validateLevels(side, price, job.signal.stop_loss, job.signal.take_profit);
    job.signal.take_profits?.forEach((t, i) => {
      if (t.price !== undefined) validateLevels(side, price, undefined, t.price, `take_profits[${i + 1}]`);
    });
    const sized = sizeEntry({
      job,
      adapter,
      symbol,
      price,
      leverage,
      sizeFraction: config.DEFAULT_SIZE_FRACTION,
      balance: state.balance,
      stopLoss: await stopForSizing(x, side, price, loadCandles),
      same,
      openPositionsAfterFlip: state.positions.filter((p) => p !== against).length,
      // A flip cancels the protection of the side it closes.
      conditionals: open && {
        open: open.filter((o) => !(against && protects(o, symbol, against.side))).length,
        adding,
      },
    });
    const plan = [];
    if (against) {
      plan.push(
        newRow(x, {
          clientOrderId: flipId,
          leg: 'exit',
          symbol,
          side: closingSide(against.side),
          positionSide: hedge ? against.side : null,
          type: 'market',
          reduceOnly: true,
          amount: against.amount,
        }),
      );
    }
    // OKX: the protection rides on the entry request (attachAlgoOrds) when its levels are known before the
    // fill — the alert's own, or ATR from candles already read (ATR from the decision price, not the fill's).
    if (attachable(x) && limitPrice === undefined) {
      const early = levelsBeforeFill(x, side, price, wantAtr);
      if (early.atr !== undefined)
        results['atr'] = { value: round(early.atr), timeframe: config.ATR_TIMEFRAME };
      for (const [kind, trigger] of [
        ['stop_loss', early.stopLoss],
        ['take_profit', early.takeProfit],
      ] as const) {
        if (trigger === undefined) continue;
        plan.push(protectionRow(x, kind, trigger, side, hedge, sized.amount));
      }
    }
    plan.push(
      newRow(x, {
        clientOrderId: entryId,
        leg: 'entry',
        symbol,
        side: openingSide(side),
        positionSide: hedge ? side : null,
        type: limitPrice === undefined ? 'market' : 'limit',
        reduceOnly: false,
        amount: sized.amount,
        exchangeAmount: sized.exchangeAmount,
      }),
    );
    rows = await planLegs(x, rows, plan);
  }

  const flipRow = rows.find((r) => r.clientOrderId === flipId);
  if (flipRow) {
    const { info } = await sendMarketLeg(x, flipRow);
    const canceled = await cancelProtection(x, symbol, opposite(side));
    results['closed'] = [orderView(info, { position_side: opposite(side), canceled_orders: canceled })];
  }
  await leverageSet;
  results['leverage'] = { symbol, leverage, margin_mode: settings.marginMode };

  const entryRow = rows.find((r) => r.clientOrderId === entryId)!;
  if (limitPrice !== undefined) return enterLimit(x, entryRow, results, side, hedge);
  const attached = attachedProtection(x, rows);
  const { info: entry, adopted } = await sendMarketLeg(x, entryRow, attached?.request);
  results['entry'] = orderView(entry, { position_side: side, ...(adopted ? { recovered: true } : {}) });
  const filled = entry.filled ?? 0;
  if (!(filled > 0)) {
    return {
      status: 'failed',
      reason: `the entry order ${entry.id} did not fill (status ${entry.status})`,
      result: details(x, results, false),
    };
  }
  const fillPrice = entry.average ?? entry.price ?? (await adapter.fetchPrice(symbol));
  const preplaced = attached ? await recordAttached(x, attached) : undefined;
  return protectEntry(x, rows, results, side, hedge, filled, fillPrice, wantAtr, loadCandles, preplaced);
}

/** SL/TP levels an entry can carry before it fills: the alert's, or ATR from recent candles; else none. */
function levelsBeforeFill(
  x: Execution,
  side: PositionSide,
  price: number,
  wantAtr: boolean,
): ProtectionLevels {
  const { signal } = x.job;
  const none: ProtectionLevels = { stopLoss: undefined, takeProfit: undefined, source: 'none' };
  // % and ATR forms are taken from the fill price, after the fill.
  const relative = [
    signal.stop_loss_pct,
    signal.stop_loss_atr,
    signal.take_profit_pct,
    signal.take_profit_atr,
  ];
  // Several take-profits are separate orders after the fill (an attached algo carries one TP for the whole
  // size); so is a stop that break_even_pct will move (moving an OCO's stop would cancel its take-profit).
  const separate = signal.take_profits !== undefined || signal.break_even_pct !== undefined;
  if (relative.some((v) => v !== undefined) || separate) return none;
  if (signal.stop_loss !== undefined || signal.take_profit !== undefined)
    return { stopLoss: signal.stop_loss, takeProfit: signal.take_profit, source: 'signal' };
  if (!wantAtr) return none;
  const { config } = x;
  const candles = x.candles.recent(
    x.account.adapter,
    x.account.settings,
    signal.symbol,
    config.ATR_TIMEFRAME,
    Math.max(100, config.ATR_PERIOD * 3),
  );
  const atr = candles ? averageTrueRange(candles, config.ATR_PERIOD) : null;
  if (atr === null) return none; // placed after the fill, from the fill price, as on Binance
  return {
    ...atrLevels(side, price, atr, config.ATR_SL_MULTIPLIER, config.ATR_TP_MULTIPLIER),
    source: 'atr',
    atr,
  };
}

function attachable(x: Execution): boolean {
  return x.account.adapter.supportsAttachedProtection && x.config.OKX_ATTACHED_PROTECTION;
}

interface Attached {
  request: AttachedProtection;
  rows: OrderRow[];
}

/** The SL/TP rows planned with the entry, as the entry's attached protection (absent: placed after the fill). */
function attachedProtection(x: Execution, rows: OrderRow[]): Attached | undefined {
  if (!attachable(x)) return undefined;
  const legs = rows.filter((r) => r.leg === 'stop_loss' || r.leg === 'take_profit');
  const entry = rows.find((r) => r.leg === 'entry');
  // Rows planned with the entry (or, on a retry, by an earlier attempt: recordAttached then finds the algo
  // order by the same client id whichever way it was placed).
  if (!entry || legs.length === 0) return undefined;
  const sl = legs.find((l) => l.leg === 'stop_loss');
  const tp = legs.find((l) => l.leg === 'take_profit');
  return {
    rows: legs,
    request: {
      clientOrderId: (sl ?? tp)!.clientOrderId,
      stopLoss: sl?.triggerPrice ?? undefined,
      takeProfit: tp?.triggerPrice ?? undefined,
    },
  };
}

/**
 * After the entry filled: the attached algo order OKX booked, recorded on the planned SL/TP rows. A leg not
 * found (booking lags the fill) after a few looks is placed the usual way by protectEntry.
 */
async function recordAttached(x: Execution, attached: Attached): Promise<Map<ProtectionKind, Placed>> {
  const { adapter } = x.account;
  const symbol = x.job.signal.symbol;
  const placed = new Map<ProtectionKind, Placed>();
  // Pushed on the algo channel when OKX booked it (at the fill, before the entry is known settled): no look-up.
  const pushed = x.account.live?.pushedConditional(attached.request.clientOrderId);
  for (let look = 0; look < 4 && placed.size < attached.rows.length; look++) {
    if (look > 0) await new Promise((r) => setTimeout(r, 100 * look));
    const legs =
      look === 0 && pushed
        ? adapter.attachedLegsOf(pushed, symbol)
        : await adapter.findAttachedProtection(symbol, attached.request.clientOrderId);
    for (const leg of legs) {
      const kind: ProtectionKind = leg.type === 'take_profit' ? 'take_profit' : 'stop_loss';
      const row = attached.rows.find((r) => r.leg === kind);
      if (!row || placed.has(kind)) continue;
      await updateOrderOutcome(x.pool, row.clientOrderId, {
        status: 'open',
        exchangeOrderId: leg.id,
        triggerPrice: leg.triggerPrice ?? row.triggerPrice,
        error: null,
      });
      placed.set(kind, {
        view: orderView(leg, {
          trigger_price: leg.triggerPrice ?? row.triggerPrice,
          attached_to_entry: true,
        }),
      });
    }
  }
  return placed;
}

export async function protectEntry(
  x: Execution,
  rows: OrderRow[],
  results: Record<string, unknown>,
  side: PositionSide,
  hedge: boolean,
  filled: number,
  fillPrice: number,
  wantAtr: boolean,
  loadCandles: () => Promise<Candle[]>,
  /** Legs already on the exchange (attached to the entry). */
  preplaced?: Map<ProtectionKind, Placed>,
): Promise<ExecutionOutcome> {
  let legs: ProtectionLeg[] = [];
  const warnings: string[] = [];
  /** The alert's levels could not be computed from the fill (no ATR, a level ≤ 0): no stop to place. */
  let unplaceable: string | undefined;
  if (preplaced) {
    // Planned with the entry: their levels are decided.
    legs = rows
      .filter((r) => r.leg === 'stop_loss' || r.leg === 'take_profit')
      .map((r) => ({ kind: r.leg as ProtectionKind, trigger: r.triggerPrice ?? 0, amount: filled, part: 0 }));
  } else if (x.job.signal.take_profits !== undefined) {
    const planned = await takeProfitsLegs(x, side, fillPrice, filled, loadCandles).catch((err: unknown) => {
      if (!(err instanceof LevelError)) throw err;
      unplaceable = err.message;
      return undefined;
    });
    if (planned?.atr !== undefined)
      results['atr'] = { value: round(planned.atr), timeframe: x.config.ATR_TIMEFRAME };
    if (planned) {
      legs = planned.legs;
      warnings.push(...planned.warnings);
      rows = await planProtection(x, rows, legs, side, hedge);
    }
  } else {
    const levels = await protectionLevels(x, side, fillPrice, wantAtr, loadCandles).catch((err: unknown) => {
      if (!(err instanceof LevelError)) throw err;
      unplaceable = err.message;
      return undefined;
    });
    if (levels?.atr !== undefined)
      results['atr'] = { value: round(levels.atr), timeframe: x.config.ATR_TIMEFRAME };
    if (levels) {
      legs = (['stop_loss', 'take_profit'] as const).flatMap((kind) => {
        const trigger = kind === 'stop_loss' ? levels.stopLoss : levels.takeProfit;
        return trigger === undefined ? [] : [{ kind, trigger, amount: filled, part: 0 }];
      });
      rows = await planProtection(x, rows, legs, side, hedge);
    }
  }
  // Both legs at once, each on its own planned row and client id. Wait for both before deciding: a retry must
  // not start while the other leg's request is still in flight.
  const settled = await Promise.allSettled(
    legs.map(
      (l) =>
        preplaced?.get(l.kind) ?? placeProtection(x, rows, l.kind, side, hedge, l.amount, l.trigger, l.part),
    ),
  );
  const thrown = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (thrown) throw thrown.reason; // retryable (a final refusal is reported in the view)
  let stopRefused: string | undefined = unplaceable;
  if (unplaceable) results['stop_loss'] = { status: 'rejected', error: unplaceable };
  let stopThroughMarket = false;
  settled.forEach((s, i) => {
    if (s.status !== 'fulfilled') return;
    const { kind, part, amount } = legs[i]!;
    if (part > 0) {
      // take_profits: one view per placed take-profit, with its index and amount.
      const list = (results['take_profits'] ??= []) as unknown[];
      list.push({ index: part, amount, ...s.value.view });
    } else results[kind] = s.value.view;
    const name = part > 0 ? `take_profits[${part}]` : kind;
    if (kind === 'stop_loss' && s.value.error) {
      stopRefused = s.value.error;
      stopThroughMarket = s.value.throughMarket === true;
    } else if (s.value.error) warnings.push(`${name} not placed: ${s.value.error}`);
  });
  if (stopRefused !== undefined && stopThroughMarket) {
    const retried = await retryStopFromFill(x, side, hedge, filled, fillPrice);
    if (retried) {
      results['stop_loss'] = retried.view;
      warnings.push(retried.note);
      stopRefused = retried.error;
    }
  }
  // The trailing stop (trailing.ts): another protective leg; open, it protects the position on its own.
  const entry = { rows, side, hedge, filled, fillPrice, loadCandles };
  stopRefused = await protectWithTrailing(x, entry, results, warnings, stopRefused);
  const policy = x.account.settings.unprotectedPolicy ?? x.config.UNPROTECTED_POLICY;
  if (stopRefused !== undefined && policy === 'keep') warnings.push(`stop_loss not placed: ${stopRefused}`);
  // Protected or flat: a position whose stop the exchange refused (it would trigger at once, too many stop
  // orders, …) is closed now rather than left open without its stop.
  if (stopRefused !== undefined && policy === 'flatten') {
    results['flatten'] = await flatten(x, side, hedge, filled);
    x.log.warn('stop-loss refused: position flattened', { symbol: x.job.signal.symbol, reason: stopRefused });
    return {
      status: 'failed',
      reason: `unprotected → flattened: stop_loss not placed: ${stopRefused}`,
      result: details(x, results, false),
    };
  }
  return {
    status: 'executed',
    reason: warnings.length ? warnings.join('; ') : null,
    result: details(x, results),
  };
}

/**
 * Closes a just-opened entry (reduce-only market order on its own planned row and client id, so a retried
 * job never closes twice) and cancels whatever protection of it was placed — of it only, not of the position
 * it was added to.
 */
async function flatten(
  x: Execution,
  side: PositionSide,
  hedge: boolean,
  amount: number,
): Promise<Record<string, unknown>> {
  const symbol = x.job.signal.symbol;
  const cid = clientOrderId(x.job.signalId, 'flatten');
  const rows = await planLegs(x, await findOrdersBySignal(x.pool, x.job.signalId), [
    newRow(x, {
      clientOrderId: cid,
      leg: 'flatten',
      symbol,
      side: closingSide(side),
      positionSide: hedge ? side : null,
      type: 'market',
      reduceOnly: true,
      amount,
      exchangeAmount: x.account.adapter.amountToPrecision(symbol, amount).exchangeAmount,
    }),
  ]);
  const { info } = await sendMarketLeg(
    x,
    rows.find((r) => r.clientOrderId === cid)!,
  );
  // This entry's own legs only: on an add (allow_add) the earlier position stays open, protected by its own.
  const own = new Set(rows.map((r) => r.clientOrderId));
  const canceled = await cancelProtection(x, symbol, side, (o) => own.has(o.clientOrderId ?? ''));
  return orderView(info, { position_side: side, canceled_orders: canceled });
}

/** Margin mode and leverage, each only when this process has not set it yet (both at once). */
async function applyLeverage(
  x: Execution,
  symbol: string,
  leverage: number,
  positionSide: PositionSide | null,
): Promise<void> {
  const { account } = x;
  const { adapter, settings } = account;
  const key = `${symbol}|${settings.marginMode}`;
  const legKey = `${key}|${positionSide ?? 'net'}`;
  await Promise.all([
    account.marginModeSet.has(key)
      ? undefined
      : adapter.setMarginMode(symbol, settings.marginMode).then(() => account.marginModeSet.add(key)),
    account.leverageSet.get(legKey) === leverage
      ? undefined
      : adapter
          .setLeverage(symbol, leverage, settings.marginMode, positionSide)
          .then(() => account.leverageSet.set(legKey, leverage)),
  ]);
}
