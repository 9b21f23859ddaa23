import { ALL_SYMBOLS, clientOrderId, type OrderJob } from '@tradehook/contracts';
import type { pg } from '@tradehook/db';
import {
  findOrdersBySignal,
  insertPlannedOrders,
  markOrdersCanceled,
  updateOrderOutcome,
  type NewOrder,
  type OrderRow,
} from '@tradehook/db';
import {
  classifyExchangeError,
  exchangeErrorMessage,
  isTriggerThroughMarket,
  OrderSizeError,
  type ExchangeAdapter,
  type OrderInfo,
  type OrderSide,
  type PositionInfo,
  type PositionSide,
} from '@tradehook/exchange';
import type { Logger } from '@tradehook/logger';
import type { AccountContext } from './accounts.ts';
import type { WorkerConfig } from './config.ts';
import { CandleCache } from './candles.ts';
import { atrLevels, averageTrueRange, LevelError, validateLevels, type ProtectionLevels } from './levels.ts';
import { runLeg } from './order-legs.ts';

export interface ExecutionOutcome {
  status: 'executed' | 'ignored' | 'failed';
  reason: string | null;
  /** The guide's order_details. */
  result: OrderDetails;
}

export interface OrderDetails {
  success: boolean;
  exchange: string;
  account_id: string;
  action: string;
  /** The signal's symbol; a close_all answers with ALL_SYMBOLS and lists what it closed in `symbols`. */
  symbol: string;
  symbols?: string[];
  results: Record<string, unknown>;
  error?: string;
}

/** A rejection decided before anything was sent (sizing, limits, levels): final, no retry. */
export class ExecutionRejected extends Error {
  override readonly name = 'ExecutionRejected';
}

type ExecConfig = Pick<
  WorkerConfig,
  | 'ATR_TIMEFRAME'
  | 'ATR_PERIOD'
  | 'ATR_SL_MULTIPLIER'
  | 'ATR_TP_MULTIPLIER'
  | 'DEFAULT_SIZE_FRACTION'
  | 'DEFAULT_LEVERAGE'
  | 'UNPROTECTED_POLICY'
>;

const closingSide = (side: PositionSide): OrderSide => (side === 'long' ? 'sell' : 'buy');
const openingSide = (side: PositionSide): OrderSide => (side === 'long' ? 'buy' : 'sell');
const opposite = (side: PositionSide): PositionSide => (side === 'long' ? 'short' : 'long');
const round = (n: number, digits = 8) => Number(n.toFixed(digits));

function orderView(info: OrderInfo, extra: Record<string, unknown> = {}) {
  return {
    order_id: info.id,
    client_order_id: info.clientOrderId,
    symbol: info.symbol,
    side: info.side,
    amount: info.amount,
    filled: info.filled,
    average_price: info.average,
    trigger_price: info.triggerPrice ?? undefined,
    status: info.status,
    ...extra,
  };
}

/** Is this open conditional order protecting `side` of `symbol`? */
function protects(o: OrderInfo, symbol: string, side: PositionSide): boolean {
  if (!o.conditional || o.symbol !== symbol) return false;
  if (o.positionSide) return o.positionSide === side;
  return o.side === closingSide(side);
}

/**
 * Carries out one approved signal on the exchange. Every leg is planned as an `orders` row before it is sent;
 * a retry of the same job finds the rows and resumes (adopting what already reached the exchange) instead of
 * deciding again from a position that its own earlier attempt created.
 */
export class OrderExecutor {
  constructor(
    private readonly pool: pg.Pool,
    private readonly config: ExecConfig,
    /** ATR candles, shared by all accounts of the process. */
    readonly candles = new CandleCache(),
  ) {}

  async execute(job: OrderJob, account: AccountContext, log: Logger): Promise<ExecutionOutcome> {
    await account.adapter.loadMarkets();
    const action = job.signal.action;
    if (action === 'close_all') return this.closeAll(job, account, log);
    if (action === 'close_long') return this.closeSide(job, account, 'long', log);
    if (action === 'close_short') return this.closeSide(job, account, 'short', log);
    return this.enter(job, account, action, log);
  }

  private details(job: OrderJob, results: Record<string, unknown>, success = true): OrderDetails {
    return {
      success,
      exchange: job.signal.exchange,
      account_id: job.signal.account_id,
      action: job.signal.action,
      symbol: job.signal.symbol,
      results,
    };
  }

  private newRow(job: OrderJob, fields: Omit<NewOrder, 'signalId' | 'exchange' | 'accountId'>): NewOrder {
    return {
      signalId: job.signalId,
      exchange: job.signal.exchange,
      accountId: job.signal.account_id,
      ...fields,
    };
  }

  /** Cancels conditional orders; returns the ids cancelled. */
  private async cancelAll(job: OrderJob, adapter: ExchangeAdapter, orders: OrderInfo[]): Promise<string[]> {
    await Promise.all(orders.map((o) => adapter.cancelOrder(o)));
    const ids = orders.map((o) => o.id);
    await markOrdersCanceled(this.pool, job.signal.exchange, job.signal.account_id, ids);
    return ids;
  }

  /** Cancels the open SL/TP orders protecting `side` of `symbol` (the position is gone or being closed). */
  private async cancelProtection(
    job: OrderJob,
    adapter: ExchangeAdapter,
    symbol: string,
    side: PositionSide,
  ): Promise<string[]> {
    const open = await adapter.fetchOpenOrders(symbol);
    return this.cancelAll(
      job,
      adapter,
      open.filter((o) => protects(o, symbol, side)),
    );
  }

  // ── entries ───────────────────────────────────────────────────────────────

  private async enter(
    job: OrderJob,
    account: AccountContext,
    side: PositionSide,
    log: Logger,
  ): Promise<ExecutionOutcome> {
    const { adapter, settings } = account;
    const symbol = job.signal.symbol;
    const hedge = (await account.positionMode()) === 'hedge';
    const leverage = job.limits.leverage ?? settings.defaultLeverage ?? this.config.DEFAULT_LEVERAGE;
    const entryId = clientOrderId(job.signalId, 'entry');
    const flipId = clientOrderId(job.signalId, 'flip');
    const wantAtr =
      settings.autoSlTp && job.signal.stop_loss === undefined && job.signal.take_profit === undefined;

    let rows = await findOrdersBySignal(this.pool, job.signalId);
    let candles: Promise<Awaited<ReturnType<ExchangeAdapter['fetchCandles']>>> | undefined;
    const loadCandles = () =>
      (candles ??= this.candles.get(
        adapter,
        settings,
        symbol,
        this.config.ATR_TIMEFRAME,
        Math.max(100, this.config.ATR_PERIOD * 3),
      ));

    if (!rows.some((r) => r.clientOrderId === entryId)) {
      // Fresh: decide from the exchange's state.
      if (wantAtr) loadCandles().catch(() => undefined); // in parallel with the reads below
      const [positions, balance, price] = await Promise.all([
        adapter.fetchPositions(),
        job.signal.quantity === undefined ? adapter.fetchBalance() : Promise.resolve(undefined),
        adapter.fetchPrice(symbol),
      ]);
      const same = positions.find((p) => p.symbol === symbol && p.side === side);
      const against = positions.find((p) => p.symbol === symbol && p.side === opposite(side));
      if (same && !settings.allowAdd) {
        return {
          status: 'ignored',
          reason: `already ${side} ${same.amount} ${symbol}; adding to a position is off for this account (allow_add)`,
          result: this.details(job, {
            position: { side, amount: same.amount, entry_price: same.entryPrice },
          }),
        };
      }
      validateLevels(side, price, job.signal.stop_loss, job.signal.take_profit);
      const amount = this.size(
        job,
        adapter,
        symbol,
        price,
        leverage,
        balance?.free,
        same,
        positions,
        against,
      );
      const plan: NewOrder[] = [];
      if (against) {
        plan.push(
          this.newRow(job, {
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
      plan.push(
        this.newRow(job, {
          clientOrderId: entryId,
          leg: 'entry',
          symbol,
          side: openingSide(side),
          positionSide: hedge ? side : null,
          type: 'market',
          reduceOnly: false,
          amount: amount.amount,
          exchangeAmount: amount.exchangeAmount,
        }),
      );
      await insertPlannedOrders(this.pool, plan);
      rows = await findOrdersBySignal(this.pool, job.signalId);
    }

    const results: Record<string, unknown> = {};
    const flipRow = rows.find((r) => r.clientOrderId === flipId);
    if (flipRow) {
      const { info } = await runLeg(this.pool, adapter, flipRow, false, () =>
        adapter.createMarketOrder({
          symbol,
          side: flipRow.side as OrderSide,
          amount: flipRow.amount ?? 0,
          clientOrderId: flipRow.clientOrderId,
          reduceOnly: true,
          positionSide: hedge ? opposite(side) : null,
          marginMode: settings.marginMode,
        }),
      );
      const canceled = await this.cancelProtection(job, adapter, symbol, opposite(side));
      results['closed'] = [orderView(info, { position_side: opposite(side), canceled_orders: canceled })];
    }

    await this.applyLeverage(account, symbol, leverage, hedge ? side : null);
    results['leverage'] = { symbol, leverage, margin_mode: settings.marginMode };

    const entryRow = rows.find((r) => r.clientOrderId === entryId)!;
    const { info: entry, adopted } = await runLeg(this.pool, adapter, entryRow, false, () =>
      adapter.createMarketOrder({
        symbol,
        side: openingSide(side),
        amount: entryRow.amount ?? 0,
        clientOrderId: entryId,
        reduceOnly: false,
        positionSide: hedge ? side : null,
        marginMode: settings.marginMode,
      }),
    );
    results['entry'] = orderView(entry, { position_side: side, ...(adopted ? { recovered: true } : {}) });
    const filled = entry.filled ?? 0;
    if (!(filled > 0)) {
      return {
        status: 'failed',
        reason: `the entry order ${entry.id} did not fill (status ${entry.status})`,
        result: this.details(job, results, false),
      };
    }
    const fillPrice = entry.average ?? entry.price ?? (await adapter.fetchPrice(symbol));

    const levels = await this.levels(job, side, fillPrice, wantAtr, loadCandles, log);
    if (levels.atr !== undefined)
      results['atr'] = { value: round(levels.atr), timeframe: this.config.ATR_TIMEFRAME };
    const legs = (['stop_loss', 'take_profit'] as const).flatMap((kind) => {
      const trigger = kind === 'stop_loss' ? levels.stopLoss : levels.takeProfit;
      return trigger === undefined ? [] : [{ kind, trigger }];
    });
    rows = await this.planProtection(job, adapter, rows, legs, side, hedge, filled);
    // Both legs at once, each on its own planned row and client id. Wait for both before deciding: a retry must
    // not start while the other leg's request is still in flight.
    const settled = await Promise.allSettled(
      legs.map((l) => this.protect(job, account, rows, l.kind, side, hedge, filled, l.trigger)),
    );
    const thrown = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (thrown) throw thrown.reason; // retryable (a final refusal is reported in the view)
    const warnings: string[] = [];
    let stopRefused: string | undefined;
    let stopThroughMarket = false;
    settled.forEach((s, i) => {
      if (s.status !== 'fulfilled') return;
      const kind = legs[i]!.kind;
      results[kind] = s.value.view;
      if (kind === 'stop_loss' && s.value.error) {
        stopRefused = s.value.error;
        stopThroughMarket = s.value.throughMarket === true;
      } else if (s.value.error) warnings.push(`${kind} not placed: ${s.value.error}`);
    });
    if (stopRefused !== undefined && stopThroughMarket) {
      const retried = await this.retryStopFromFill(job, account, side, hedge, filled, fillPrice);
      if (retried) {
        results['stop_loss'] = retried.view;
        warnings.push(retried.note);
        stopRefused = retried.error;
      }
    }
    const policy = account.settings.unprotectedPolicy ?? this.config.UNPROTECTED_POLICY;
    if (stopRefused !== undefined && policy === 'keep') warnings.push(`stop_loss not placed: ${stopRefused}`);
    // Protected or flat: a position whose stop the exchange refused (it would trigger at once, too many stop
    // orders, …) is closed now rather than left open without its stop.
    if (stopRefused !== undefined && policy === 'flatten') {
      results['flatten'] = await this.flatten(job, account, side, hedge, filled);
      log.warn('stop-loss refused: position flattened', { symbol, reason: stopRefused });
      return {
        status: 'failed',
        reason: `unprotected → flattened: stop_loss not placed: ${stopRefused}`,
        result: this.details(job, results, false),
      };
    }
    return {
      status: 'executed',
      reason: warnings.length ? warnings.join('; ') : null,
      result: this.details(job, results),
    };
  }

  /**
   * The alert's stop was passed by the market before the entry filled (the exchange said it would trigger at
   * once). When the alert carried its reference `price`, keep the distance it meant from the fill price
   * instead, if that level is still on the right side of the market; the same planned leg (its request was
   * refused, so its client id is free) is sent again with that level. Null when no such level exists.
   */
  private async retryStopFromFill(
    job: OrderJob,
    account: AccountContext,
    side: PositionSide,
    hedge: boolean,
    amount: number,
    fillPrice: number,
  ): Promise<{ view: Record<string, unknown>; note: string; error?: string } | null> {
    const { price: reference, stop_loss: stop, symbol } = job.signal;
    if (reference === undefined || stop === undefined) return null;
    const { adapter } = account;
    const level = adapter.priceToPrecision(
      symbol,
      side === 'long' ? fillPrice - Math.abs(reference - stop) : fillPrice + Math.abs(reference - stop),
    );
    const market = await adapter.fetchPrice(symbol);
    if (!(level > 0) || (side === 'long' ? level >= market : level <= market)) return null;
    const cid = clientOrderId(job.signalId, 'stop_loss');
    await updateOrderOutcome(this.pool, cid, { status: 'pending', triggerPrice: level, error: null });
    const rows = await findOrdersBySignal(this.pool, job.signalId);
    const placed = await this.protect(job, account, rows, 'stop_loss', side, hedge, amount, level);
    const note = `stop_loss ${stop} was already through the market at the fill (${fillPrice}); placed at ${level}, the alert's distance from the fill`;
    return {
      view: { ...placed.view, requested_trigger_price: stop },
      note,
      ...(placed.error ? { error: placed.error } : {}),
    };
  }

  /**
   * Closes a just-opened entry (reduce-only market order on its own planned row and client id, so a retried
   * job never closes twice) and cancels whatever protection of it was placed.
   */
  private async flatten(
    job: OrderJob,
    account: AccountContext,
    side: PositionSide,
    hedge: boolean,
    amount: number,
  ): Promise<Record<string, unknown>> {
    const { adapter, settings } = account;
    const symbol = job.signal.symbol;
    const cid = clientOrderId(job.signalId, 'flatten');
    let rows = await findOrdersBySignal(this.pool, job.signalId);
    if (!rows.some((r) => r.clientOrderId === cid)) {
      const exchangeAmount = adapter.amountToPrecision(symbol, amount).exchangeAmount;
      await insertPlannedOrders(this.pool, [
        this.newRow(job, {
          clientOrderId: cid,
          leg: 'flatten',
          symbol,
          side: closingSide(side),
          positionSide: hedge ? side : null,
          type: 'market',
          reduceOnly: true,
          amount,
          exchangeAmount,
        }),
      ]);
      rows = await findOrdersBySignal(this.pool, job.signalId);
    }
    const row = rows.find((r) => r.clientOrderId === cid)!;
    const { info } = await runLeg(this.pool, adapter, row, false, () =>
      adapter.createMarketOrder({
        symbol,
        side: closingSide(side),
        amount: row.amount ?? amount,
        clientOrderId: cid,
        reduceOnly: true,
        positionSide: hedge ? side : null,
        marginMode: settings.marginMode,
      }),
    );
    const canceled = await this.cancelProtection(job, adapter, symbol, side);
    return orderView(info, { position_side: side, canceled_orders: canceled });
  }

  /** Base amount for an entry: the signal's quantity, else fraction × free balance × leverage / price. */
  private size(
    job: OrderJob,
    adapter: ExchangeAdapter,
    symbol: string,
    price: number,
    leverage: number,
    free: number | undefined,
    same: PositionInfo | undefined,
    positions: PositionInfo[],
    against: PositionInfo | undefined,
  ): { amount: number; exchangeAmount: number } {
    const { maxPositionNotional, maxOpenPositions } = job.limits;
    let raw: number;
    if (job.signal.quantity !== undefined) {
      raw = job.signal.quantity;
    } else {
      raw = ((free ?? 0) * this.config.DEFAULT_SIZE_FRACTION * leverage) / price;
      // Auto-sized entries shrink to the cap; an explicit quantity over the cap is refused below.
      if (maxPositionNotional !== undefined) {
        raw = Math.min(raw, Math.max(0, maxPositionNotional / price - (same?.amount ?? 0)));
      }
      if (!(raw > 0)) {
        throw new ExecutionRejected(
          `no size: available balance ${free ?? 0} USDT gives nothing to trade at ${price}`,
        );
      }
    }
    let sized: { amount: number; exchangeAmount: number };
    try {
      sized = adapter.amountToPrecision(symbol, raw);
    } catch (err) {
      if (err instanceof OrderSizeError) {
        throw new ExecutionRejected(`${err.message} (minimum ${adapter.market(symbol).minAmount})`);
      }
      throw err;
    }
    const market = adapter.market(symbol);
    if (sized.amount < market.minAmount - 1e-12) {
      throw new ExecutionRejected(
        `order size ${sized.amount} is below the minimum quantity ${market.minAmount} for ${symbol}`,
      );
    }
    const notional = sized.amount * price;
    if (market.minNotional > 0 && notional < market.minNotional) {
      throw new ExecutionRejected(
        `order notional ${round(notional, 4)} USDT is below the minimum notional ${market.minNotional} USDT for ${symbol}`,
      );
    }
    if (maxPositionNotional !== undefined) {
      const total = (sized.amount + (same?.amount ?? 0)) * price;
      if (total > maxPositionNotional * (1 + 1e-9)) {
        throw new ExecutionRejected(
          `position notional ${round(total, 2)} USDT would exceed the limit of ${maxPositionNotional} USDT`,
        );
      }
    }
    if (maxOpenPositions !== undefined && !same) {
      const after = positions.filter((p) => p !== against).length + 1;
      if (after > maxOpenPositions) {
        throw new ExecutionRejected(
          `opening ${symbol} would make ${after} open positions; the limit is ${maxOpenPositions}`,
        );
      }
    }
    return sized;
  }

  private async applyLeverage(
    account: AccountContext,
    symbol: string,
    leverage: number,
    positionSide: PositionSide | null,
  ): Promise<void> {
    const { adapter, settings } = account;
    const key = `${symbol}|${settings.marginMode}`;
    if (!account.marginModeSet.has(key)) {
      await adapter.setMarginMode(symbol, settings.marginMode);
      account.marginModeSet.add(key);
    }
    const legKey = `${key}|${positionSide ?? 'net'}`;
    if (account.leverageSet.get(legKey) !== leverage) {
      await adapter.setLeverage(symbol, leverage, settings.marginMode, positionSide);
      account.leverageSet.set(legKey, leverage);
    }
  }

  private async levels(
    job: OrderJob,
    side: PositionSide,
    fillPrice: number,
    wantAtr: boolean,
    loadCandles: () => Promise<Awaited<ReturnType<ExchangeAdapter['fetchCandles']>>>,
    log: Logger,
  ): Promise<ProtectionLevels> {
    if (job.signal.stop_loss !== undefined || job.signal.take_profit !== undefined) {
      return { stopLoss: job.signal.stop_loss, takeProfit: job.signal.take_profit, source: 'signal' };
    }
    if (!wantAtr) return { stopLoss: undefined, takeProfit: undefined, source: 'none' };
    const atr = averageTrueRange(await loadCandles(), this.config.ATR_PERIOD);
    if (atr === null) {
      log.warn('not enough candles for ATR; no automatic SL/TP', { symbol: job.signal.symbol });
      return { stopLoss: undefined, takeProfit: undefined, source: 'none' };
    }
    const lv = atrLevels(side, fillPrice, atr, this.config.ATR_SL_MULTIPLIER, this.config.ATR_TP_MULTIPLIER);
    return { ...lv, source: 'atr', atr };
  }

  /** Plans (one insert, one re-read) the protective legs not planned by an earlier attempt. */
  private async planProtection(
    job: OrderJob,
    adapter: ExchangeAdapter,
    rows: OrderRow[],
    legs: Array<{ kind: 'stop_loss' | 'take_profit'; trigger: number }>,
    side: PositionSide,
    hedge: boolean,
    amount: number,
  ): Promise<OrderRow[]> {
    const symbol = job.signal.symbol;
    const missing = legs.filter(
      (l) => !rows.some((r) => r.clientOrderId === clientOrderId(job.signalId, l.kind)),
    );
    if (missing.length === 0) return rows;
    await insertPlannedOrders(
      this.pool,
      missing.map(({ kind, trigger }) =>
        this.newRow(job, {
          clientOrderId: clientOrderId(job.signalId, kind),
          leg: kind,
          symbol,
          side: closingSide(side),
          positionSide: hedge ? side : null,
          type: kind === 'stop_loss' ? 'stop_market' : 'take_profit_market',
          reduceOnly: true,
          amount,
          triggerPrice: adapter.priceToPrecision(symbol, trigger),
        }),
      ),
    );
    return findOrdersBySignal(this.pool, job.signalId);
  }

  /**
   * Places one planned reduce-only conditional order after the entry filled. A final refusal is reported, not
   * thrown; a retryable error is thrown.
   */
  private async protect(
    job: OrderJob,
    account: AccountContext,
    rows: OrderRow[],
    kind: 'stop_loss' | 'take_profit',
    side: PositionSide,
    hedge: boolean,
    amount: number,
    trigger: number,
  ): Promise<{ view: Record<string, unknown>; error?: string; throughMarket?: boolean }> {
    const { adapter, settings } = account;
    const symbol = job.signal.symbol;
    const cid = clientOrderId(job.signalId, kind);
    const triggerPrice = adapter.priceToPrecision(symbol, trigger);
    const leg = rows.find((r) => r.clientOrderId === cid)!; // planned by planProtection
    try {
      const { info } = await runLeg(this.pool, adapter, leg, true, () =>
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

  // ── exits ─────────────────────────────────────────────────────────────────

  private async closeSide(
    job: OrderJob,
    account: AccountContext,
    side: PositionSide,
    _log: Logger,
  ): Promise<ExecutionOutcome> {
    const { adapter, settings } = account;
    const symbol = job.signal.symbol;
    const hedge = (await account.positionMode()) === 'hedge';
    const exitId = clientOrderId(job.signalId, 'exit');
    let rows = await findOrdersBySignal(this.pool, job.signalId);
    if (!rows.some((r) => r.clientOrderId === exitId)) {
      const positions = await adapter.fetchPositions(symbol);
      const pos = positions.find((p) => p.symbol === symbol && p.side === side);
      if (!pos) {
        // The exchange may have closed it (SL/TP fired): clear what is left of its protection.
        const canceled = await this.cancelProtection(job, adapter, symbol, side);
        return {
          status: 'ignored',
          reason: `no ${side} position to close (it may have been closed by a stop-loss on the exchange)`,
          result: this.details(job, { closed: [], canceled_orders: canceled }),
        };
      }
      await insertPlannedOrders(this.pool, [
        this.newRow(job, {
          clientOrderId: exitId,
          leg: 'exit',
          symbol,
          side: closingSide(side),
          positionSide: hedge ? side : null,
          type: 'market',
          reduceOnly: true,
          amount: pos.amount,
        }),
      ]);
      rows = await findOrdersBySignal(this.pool, job.signalId);
    }
    const row = rows.find((r) => r.clientOrderId === exitId)!;
    const { info, adopted } = await runLeg(this.pool, adapter, row, false, () =>
      adapter.createMarketOrder({
        symbol,
        side: closingSide(side),
        amount: row.amount ?? 0,
        clientOrderId: exitId,
        reduceOnly: true,
        positionSide: hedge ? side : null,
        marginMode: settings.marginMode,
      }),
    );
    const canceled = await this.cancelProtection(job, adapter, symbol, side);
    return {
      status: 'executed',
      reason: null,
      // One list of closing orders, as close_all answers (not the same order under two keys).
      result: this.details(job, {
        closed: [orderView(info, { position_side: side, ...(adopted ? { recovered: true } : {}) })],
        canceled_orders: canceled,
      }),
    };
  }

  private async closeAll(job: OrderJob, account: AccountContext, log: Logger): Promise<ExecutionOutcome> {
    const { adapter, settings } = account;
    const hedge = (await account.positionMode()) === 'hedge';
    let rows = (await findOrdersBySignal(this.pool, job.signalId)).filter((r) => r.leg === 'exit');
    if (rows.length === 0) {
      const positions = (await adapter.fetchPositions()).sort((a, b) =>
        `${a.symbol}|${a.side}`.localeCompare(`${b.symbol}|${b.side}`),
      );
      await insertPlannedOrders(
        this.pool,
        positions.map((p, i) =>
          this.newRow(job, {
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
      );
      rows = (await findOrdersBySignal(this.pool, job.signalId)).filter((r) => r.leg === 'exit');
    }
    const settled = await Promise.allSettled(
      rows.map((row) =>
        runLeg(this.pool, adapter, row, false, () =>
          adapter.createMarketOrder({
            symbol: row.symbol,
            side: row.side as OrderSide,
            amount: row.amount ?? 0,
            clientOrderId: row.clientOrderId,
            reduceOnly: true,
            positionSide: hedge ? ((row.positionSide as PositionSide | null) ?? null) : null,
            marginMode: settings.marginMode,
          }),
        ),
      ),
    );
    const retryable = settled.find(
      (s): s is PromiseRejectedResult =>
        s.status === 'rejected' && classifyExchangeError(s.reason) === 'retryable',
    );
    if (retryable) throw retryable.reason;
    // Every open order goes, conditional ones included (OKX has no cancel-all: one by one).
    const canceled = await this.cancelAll(job, adapter, await adapter.fetchOpenOrders());
    const closed = settled.map((s, i) =>
      s.status === 'fulfilled'
        ? orderView(s.value.info, { position_side: rows[i]!.positionSide ?? undefined })
        : { symbol: rows[i]!.symbol, status: 'rejected', error: exchangeErrorMessage(s.reason) },
    );
    const failures = settled.filter((s) => s.status === 'rejected').length;
    // Every position of the account, whatever symbol the alert named: say which ones.
    const answer = (success = true): OrderDetails => ({
      ...this.details(job, { closed, canceled_orders: canceled }, success),
      symbol: ALL_SYMBOLS,
      symbols: [...new Set(rows.map((r) => r.symbol))],
    });
    if (failures > 0) {
      log.warn('close_all: some positions could not be closed', { failures });
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
}

export { LevelError };
