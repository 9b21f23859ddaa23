import * as ccxt from 'ccxt';
import type { Exchange, KeyCheck } from '@tradehook/contracts';
import { createCcxtClient, landingWindowMs, type CcxtClient, type ExchangeClientOptions } from '../client.ts';
import { classifyExchangeError, exchangeErrorMessage, OrderNotSettled, OrderSizeError } from '../errors.ts';
import type { FundingBatch, FundingCursor } from '../funding-history.ts';
import { exchangeNow, type TradeCursor } from '../trade-history.ts';
import type {
  Balance,
  Candle,
  ConditionalOrderRequest,
  ExchangeAdapter,
  LimitOrderRequest,
  MarginMode,
  MarketInfo,
  MarketOrderRequest,
  OrderInfo,
  PositionInfo,
  PositionMode,
  PositionSide,
  TradeBatch,
  TradeInfo,
  TrailingStopRequest,
} from '../types.ts';
import { sharedMarkets } from './markets.ts';
import { isSettled, num, roundMoney, sleep, type Dict } from './util.ts';
import { toOrderInfo, toTradeInfo } from './convert.ts';

export interface AdapterOptions extends ExchangeClientOptions {
  /** How long to poll a market order the exchange does not yet show filled (default 5000 ms). */
  settleMs?: number | undefined;
}

/** What a venue's key check found beyond "the key can read" (checkKey). */
export interface KeyPermissions {
  canTrade: boolean | null;
  canWithdraw: boolean | null;
  /** Venue-specific reasons the account cannot be used as it is. */
  problems: string[];
}

/** What the adapter asks of an account's order stream (live/account-state.ts). */
export interface OrderStream {
  /**
   * The plain order with this client id as the stream pushed it leaving the book (filled, cancelled…), waiting
   * up to `waitMs` for the push; undefined when the stream is not live or nothing came.
   */
  settledOrder(clientOrderId: string, waitMs: number): Promise<OrderInfo | undefined>;
}

/**
 * How long a placement answer that shows no fill waits for the fill's push: the exchange pushes it when the
 * order matches, before or just after it answers; a REST look-up is one round trip, so waiting longer than a
 * few round trips for a push that may not come would only be slower.
 */
const STREAM_SETTLE_WAIT_MS = 150;

/**
 * The one interface the worker uses for both exchanges (docs/decisions/0005-exchange-facts.md): the ccxt logic
 * both venues share. What differs per venue lives in the subclasses (adapter/binance/, adapter/okx/), in the
 * protected hooks below. Amounts are BASE currency at this boundary; OKX contracts are converted here and
 * nowhere else.
 */
export abstract class CcxtExchangeAdapter implements ExchangeAdapter {
  abstract readonly exchange: Exchange;
  /** Entry orders can carry their SL/TP in the same request (OKX attachAlgoOrds). */
  abstract readonly supportsAttachedProtection: boolean;
  /**
   * Open orders read per symbol (plain + conditional, one request each) are cheaper than the all-symbols
   * form up to this many symbols (live/account-state.ts snapshot); 0: always the all-symbols form.
   */
  abstract readonly openOrdersPerSymbolUpTo: number;
  /**
   * How far apart the slow REST reconciles of the accounts sharing one egress IP are kept (ms per account), so
   * that, however many accounts stream, they spend a bounded share of the IP's request budget; 0 where the
   * reads are limited per account instead (live/account-state.ts, worker accounts.ts).
   */
  abstract readonly reconcileSpacingMs: number;
  readonly client: CcxtClient;
  /**
   * The account's live order stream (live/account-state.ts registers itself): a market order the placement
   * answer does not show settled (OKX answers with ids only) is settled from its pushed fill, one REST look-up
   * fewer; absent, or no push in time, the look-up runs.
   */
  orderStream: OrderStream | undefined;
  private readonly venueKey: string;
  private marketsReady: Promise<void> | undefined;
  private readonly landingMs: number;
  private readonly settleMs: number;

  constructor(opts: AdapterOptions) {
    this.client = createCcxtClient(opts);
    this.venueKey = `${opts.exchange}|${opts.testnet}|${opts.apiUrl ?? ''}`;
    this.landingMs = landingWindowMs(opts.recvWindowMs);
    this.settleMs = opts.settleMs ?? 5_000;
  }

  // ---- venue hooks -------------------------------------------------------------------------------------

  /** Largest page of `fetchMyTrades` the venue answers. */
  protected abstract readonly recentTradesLimit: number;
  /** Extra params of the positions call. */
  protected positionsParams(): Dict {
    return {};
  }
  /** Params of the open conditional orders calls (one call each: a venue may list some types separately). */
  protected openTriggerParams(): Dict[] {
    return [{ trigger: true }];
  }
  /** Params of setLeverage beyond leverage and symbol. */
  protected leverageParams(_marginMode: MarginMode, _positionSide: PositionSide | null): Dict | undefined {
    return undefined;
  }
  /** Venue additions to every order's params (margin mode per order, position side spelling…). */
  protected abstract venueOrderParams(req: MarketOrderRequest, params: Dict, hedge: boolean): void;
  /** Venue additions to a conditional (SL/TP) order's params, e.g. how its client id is sent. */
  protected conditionalOrderParams(_req: ConditionalOrderRequest, _params: Dict): void {}
  /** Time in force / post-only of a limit order, in the venue's words. */
  protected abstract limitOrderParams(req: LimitOrderRequest, params: Dict): void;
  /** Venue additions to a trailing stop (ccxt's unified `trailingPercent` is already set). */
  protected abstract trailingStopParams(req: TrailingStopRequest, params: Dict): void;
  /** Venue additions to an entry order that carries attached protection (only where supported). */
  protected attachProtection(req: MarketOrderRequest, _params: Dict): void {
    if (req.attached) throw new ccxt.NotSupported(`${this.exchange} has no protection attached to entries`);
  }
  protected abstract readTradesAfter(
    symbol: string,
    cursor: TradeCursor | null,
    startMs: number,
  ): Promise<{ trades: ccxt.Trade[]; cursor: TradeCursor; complete: boolean }>;
  abstract fetchFundingAfter(cursor: FundingCursor | null, startMs: number): Promise<FundingBatch>;
  /** Trade and withdrawal permission of the key, and venue account problems (after the balance read). */
  protected abstract keyPermissions(balanceInfo: Dict): Promise<KeyPermissions>;

  // ---- markets -----------------------------------------------------------------------------------------

  landingWindowMs(): number {
    return this.landingMs;
  }

  loadMarkets(): Promise<void> {
    this.marketsReady ??= sharedMarkets(this.venueKey, this.client);
    this.marketsReady.catch(() => (this.marketsReady = undefined));
    return this.marketsReady;
  }

  async prepareAccount(): Promise<void> {
    await this.loadMarkets();
  }

  protected m(symbol: string): ccxt.MarketInterface {
    return this.client.market(symbol);
  }

  contractSize(symbol: string): number {
    return this.m(symbol).contractSize ?? 1;
  }

  market(symbol: string): MarketInfo {
    const m = this.m(symbol);
    const cs = m.contractSize ?? 1;
    return {
      symbol: m.symbol ?? symbol,
      contractSize: cs,
      minAmount: (m.limits.amount?.min ?? 0) * cs,
      minNotional: m.limits.cost?.min ?? 0,
      maxLeverage: m.limits.leverage?.max ?? undefined,
      maxOpenConditionalOrders: this.conditionalOrderCap(m),
    };
  }

  /** See MarketInfo.maxOpenConditionalOrders: none unless the venue publishes one. */
  protected conditionalOrderCap(_m: ccxt.MarketInterface): number | undefined {
    return undefined;
  }

  amountToPrecision(symbol: string, amount: number): { exchangeAmount: number; amount: number } {
    const cs = this.contractSize(symbol);
    const units = (amount / cs) * (1 + 1e-9); // float noise must not cost a whole step
    let text: string;
    try {
      text = String(this.client.amountToPrecision(symbol, units));
    } catch {
      throw new OrderSizeError(`order size ${amount} ${symbol} rounds to zero at the exchange's precision`);
    }
    const exchangeAmount = Number(text);
    if (!(exchangeAmount > 0)) {
      throw new OrderSizeError(`order size ${amount} ${symbol} rounds to zero at the exchange's precision`);
    }
    return { exchangeAmount, amount: Number((exchangeAmount * cs).toPrecision(12)) };
  }

  priceToPrecision(symbol: string, price: number): number {
    return Number(this.client.priceToPrecision(symbol, price));
  }

  /**
   * A price as a trader reads it: at the market's tick (ccxt computes averages as cost / filled, which
   * leaves float noise like 59919.100000000006). Unknown markets keep the value.
   *
   * 0 is "no price": Binance's ORDER_TRADE_UPDATE carries `"sp":"0"` on an order without a stop price
   * (ccxt pro passes it on as triggerPrice 0) and `"ap":"0"` before a fill. ccxt's priceToPrecision
   * throws on anything that rounds to 0, which would lose the whole pushed batch in the live state.
   */
  readablePrice(symbol: string, value: unknown): number | null {
    const n = num(value);
    if (n === 0) return null;
    if (n === null || !this.client.markets?.[symbol]) return n;
    const tick = Number(this.client.market(symbol).precision.price ?? 0);
    if (Math.abs(n) < tick / 2) return n; // below the tick: keep it rather than throw
    return Number(this.client.priceToPrecision(symbol, n));
  }

  // ---- account settings and reads ----------------------------------------------------------------------

  async fetchPositionMode(): Promise<PositionMode> {
    const res = (await this.client.fetchPositionMode()) as { hedged?: boolean };
    return res.hedged ? 'hedge' : 'oneway';
  }

  async setLeverage(
    symbol: string,
    leverage: number,
    marginMode: MarginMode,
    positionSide: PositionSide | null = null,
  ): Promise<void> {
    try {
      await this.client.setLeverage(leverage, symbol, this.leverageParams(marginMode, positionSide));
    } catch (err) {
      if (err instanceof ccxt.NoChange) return; // "no need to change" is success
      throw err;
    }
  }

  /** The symbol's leverage at the exchange for a margin mode (ccxt fetchLeverage), per side; null where absent. */
  async fetchLeverage(
    symbol: string,
    marginMode: MarginMode,
  ): Promise<{ long: number | null; short: number | null }> {
    const l = await this.client.fetchLeverage(symbol, { marginMode });
    return { long: num(l.longLeverage), short: num(l.shortLeverage) };
  }

  async setMarginMode(symbol: string, marginMode: MarginMode): Promise<void> {
    try {
      await this.client.setMarginMode(marginMode, symbol);
    } catch (err) {
      if (err instanceof ccxt.NoChange) return; // -4046 no need to change margin type
      throw err;
    }
  }

  async fetchBalance(): Promise<Balance> {
    const bal = (await this.client.fetchBalance()) as unknown as Record<
      string,
      { free?: number; total?: number }
    >;
    const usdt = bal['USDT'];
    return { asset: 'USDT', free: num(usdt?.free) ?? 0, total: num(usdt?.total) ?? 0 };
  }

  async fetchPrice(symbol: string): Promise<number> {
    const t = await this.client.fetchTicker(symbol);
    const p = num(t.last) ?? num(t.close) ?? num(t.markPrice);
    if (p === null || p <= 0) throw new ccxt.ExchangeNotAvailable(`no price for ${symbol}`);
    return p;
  }

  async fetchCandles(symbol: string, timeframe: string, limit: number): Promise<Candle[]> {
    const rows = await this.client.fetchOHLCV(symbol, timeframe, undefined, limit);
    return rows.map((r) => ({
      time: Number(r[0]),
      open: Number(r[1]),
      high: Number(r[2]),
      low: Number(r[3]),
      close: Number(r[4]),
    }));
  }

  async fetchPositions(symbol?: string): Promise<PositionInfo[]> {
    const list = await this.client.fetchPositions(symbol ? [symbol] : undefined, this.positionsParams());
    const out: PositionInfo[] = [];
    for (const p of list) {
      const contracts = Math.abs(num(p.contracts) ?? 0);
      // A position in a market we have not loaded is not ours to manage (and has no contract size here).
      if (!(contracts > 0) || !p.symbol || !this.client.markets?.[p.symbol]) continue;
      const cs = num(p.contractSize) ?? this.contractSize(p.symbol);
      const side: PositionSide | null = p.side === 'long' || p.side === 'short' ? p.side : null;
      if (!side) continue;
      out.push({
        symbol: p.symbol,
        side,
        contracts,
        amount: Number((contracts * cs).toPrecision(12)),
        entryPrice: this.readablePrice(p.symbol, p.entryPrice),
        markPrice: this.readablePrice(p.symbol, p.markPrice),
        unrealizedPnl: roundMoney(num(p.unrealizedPnl)),
        leverage: num(p.leverage),
      });
    }
    return out;
  }

  /** Positions answers that carry leverage need nothing more (Binance overrides). */
  async withLeverage(positions: PositionInfo[]): Promise<PositionInfo[]> {
    return positions;
  }

  // ---- orders --------------------------------------------------------------------------------------------

  protected orderParams(req: MarketOrderRequest, hedge: boolean): Dict {
    const params: Dict = { clientOrderId: req.clientOrderId };
    // Hedge mode: the leg decides (venueOrderParams); reduceOnly is rejected by Binance and not applicable on OKX.
    if (!hedge && req.reduceOnly) params['reduceOnly'] = true;
    this.venueOrderParams(req, params, hedge);
    return params;
  }

  async createMarketOrder(req: MarketOrderRequest): Promise<OrderInfo> {
    const { exchangeAmount } = this.amountToPrecision(req.symbol, req.amount);
    const params = this.orderParams(req, req.positionSide !== null);
    if (req.attached) this.attachProtection(req, params);
    const created = await this.client.createOrder(
      req.symbol,
      'market',
      req.side,
      exchangeAmount,
      undefined,
      params,
    );
    let order = this.toOrderInfo(created, false);
    // OKX answers a placement with ids only; Binance RESULT normally carries the fill.
    if (!isSettled(order)) {
      const pushed = await this.orderStream?.settledOrder(req.clientOrderId, STREAM_SETTLE_WAIT_MS);
      order =
        pushed && isSettled(pushed) ? pushed : await this.settleMarketOrder(req.symbol, req.clientOrderId);
    }
    return { ...order, clientOrderId: order.clientOrderId ?? req.clientOrderId };
  }

  /**
   * "Not visible yet" (OrderNotFound right after placement) and "not filled yet" are both unknown, never a
   * verdict: ask again with backoff until the order is final, for at most `settleMs`.
   */
  async settleMarketOrder(symbol: string, clientOrderId: string): Promise<OrderInfo> {
    const deadline = Date.now() + this.settleMs;
    let wait = 50;
    let last: OrderInfo | null = null;
    for (;;) {
      try {
        last = (await this.findOrder(symbol, clientOrderId, false)) ?? last;
        if (last && isSettled(last)) return last;
      } catch (err) {
        if (classifyExchangeError(err) === 'final') throw err;
      }
      if (Date.now() + wait > deadline) break;
      await sleep(wait);
      wait = Math.min(wait * 2, 1_000);
    }
    const seen = last ? `still ${last.status}, filled ${last.filled ?? 'unknown'}` : 'not visible';
    throw new OrderNotSettled(
      `order ${clientOrderId} was sent but is ${seen} after ${this.settleMs} ms; its outcome is checked again before anything is resent`,
    );
  }

  async createConditionalOrder(req: ConditionalOrderRequest): Promise<OrderInfo> {
    const { exchangeAmount } = this.amountToPrecision(req.symbol, req.amount);
    const params = this.orderParams(req, req.positionSide !== null);
    const trigger = this.priceToPrecision(req.symbol, req.triggerPrice);
    if (req.kind === 'stop_loss') params['stopLossPrice'] = trigger;
    else params['takeProfitPrice'] = trigger;
    this.conditionalOrderParams(req, params);
    const created = await this.client.createOrder(
      req.symbol,
      'market',
      req.side,
      exchangeAmount,
      undefined,
      params,
    );
    const order = this.toOrderInfo(created, true);
    return {
      ...order,
      symbol: req.symbol,
      side: req.side,
      clientOrderId: order.clientOrderId ?? req.clientOrderId,
      triggerPrice: order.triggerPrice ?? trigger,
      amount: order.amount ?? req.amount,
      status: order.status === 'unknown' ? 'open' : order.status,
    };
  }

  async createLimitOrder(req: LimitOrderRequest): Promise<OrderInfo> {
    const { exchangeAmount } = this.amountToPrecision(req.symbol, req.amount);
    const params = this.orderParams(req, req.positionSide !== null);
    this.limitOrderParams(req, params);
    const price = this.priceToPrecision(req.symbol, req.price);
    const created = await this.client.createOrder(
      req.symbol,
      'limit',
      req.side,
      exchangeAmount,
      price,
      params,
    );
    return this.asPlaced(this.toOrderInfo(created, false), req, exchangeAmount, price);
  }

  async createTrailingStop(req: TrailingStopRequest): Promise<OrderInfo> {
    const { exchangeAmount } = this.amountToPrecision(req.symbol, req.amount);
    const params = this.orderParams(req, req.positionSide !== null);
    params['trailingPercent'] = String(req.callbackRatePct);
    this.trailingStopParams(req, params);
    const created = await this.client.createOrder(
      req.symbol,
      'market',
      req.side,
      exchangeAmount,
      undefined,
      params,
    );
    return this.asPlaced(this.toOrderInfo(created, true), req, exchangeAmount, null);
  }

  /** A placement answer filled in from the request where the exchange answered with ids only (OKX). */
  private asPlaced(
    order: OrderInfo,
    req: MarketOrderRequest,
    exchangeAmount: number,
    price: number | null,
  ): OrderInfo {
    return {
      ...order,
      symbol: req.symbol,
      side: req.side,
      clientOrderId: order.clientOrderId ?? req.clientOrderId,
      amount: order.amount ?? Number((exchangeAmount * this.contractSize(req.symbol)).toPrecision(12)),
      price: order.price ?? price,
      status: order.status === 'unknown' ? 'open' : order.status,
    };
  }

  async findOrder(symbol: string, clientOrderId: string, conditional: boolean): Promise<OrderInfo | null> {
    try {
      const params: Dict = { clientOrderId };
      if (conditional) params['trigger'] = true;
      const o = await this.client.fetchOrder(undefined as unknown as string, symbol, params);
      if (!o || o.id === undefined || o.id === null) return null;
      return this.toOrderInfo(o, conditional);
    } catch (err) {
      if (err instanceof ccxt.OrderNotFound) return null; // Binance -2013 / OKX 51603: never reached the book
      throw err;
    }
  }

  /** The protection booked with an entry (`attached.clientOrderId`); empty where the venue has none. */
  async findAttachedProtection(_symbol: string, _clientOrderId: string): Promise<OrderInfo[]> {
    return [];
  }

  /**
   * A fill as ccxt pro pushed it (`watchMyTrades`), as the REST trade history would report it: both must make
   * the same fills row. Venues override what their push says differently (live/stream-convert.ts).
   */
  fromPushedTrade(t: ccxt.Trade): TradeInfo {
    return this.toTradeInfo(t, t.symbol ?? '');
  }

  /** The legs of an attached protection order as ccxt parsed it (REST or a push); empty where the venue has none. */
  attachedLegsOf(_o: ccxt.Order, _symbol: string): OrderInfo[] {
    return [];
  }

  async fetchOpenOrders(symbol?: string): Promise<OrderInfo[]> {
    const [plain, ...conditional] = await Promise.all([
      this.client.fetchOpenOrders(symbol),
      ...this.openTriggerParams().map((p) => this.client.fetchOpenOrders(symbol, undefined, undefined, p)),
    ]);
    return [
      ...plain.map((o) => this.toOrderInfo(o, false)),
      ...conditional.flat().map((o) => this.toOrderInfo(o, true)),
    ];
  }

  async cancelOrder(order: Pick<OrderInfo, 'id' | 'symbol' | 'conditional'>): Promise<void> {
    try {
      await this.client.cancelOrder(order.id, order.symbol, order.conditional ? { trigger: true } : {});
    } catch (err) {
      if (err instanceof ccxt.OrderNotFound) return; // already gone (filled, triggered or cancelled)
      throw err;
    }
  }

  // ---- history -----------------------------------------------------------------------------------------

  /** One page of recent trades, no paging: may miss trades (OKX answers the newest 100). Sync uses fetchTradesAfter. */
  async fetchMyTrades(symbol: string, since: number | undefined): Promise<TradeInfo[]> {
    const trades = await this.client.fetchMyTrades(symbol, since, this.recentTradesLimit);
    return trades.map((t) => this.toTradeInfo(t, symbol));
  }

  /** Every trade after the cursor, paged without gaps (trade-history.ts); `startMs` when there is no cursor. */
  async fetchTradesAfter(symbol: string, cursor: TradeCursor | null, startMs: number): Promise<TradeBatch> {
    const page = await this.readTradesAfter(symbol, cursor, startMs);
    return { ...page, trades: page.trades.map((t) => this.toTradeInfo(t, symbol)) };
  }

  /** The exchange's time as the shared venue clock estimates it (clock.ts). */
  exchangeTime(): number {
    return exchangeNow(this.client);
  }

  /**
   * The USDT price of `asset` in the minute of `timeMs` (1m candle of its USDT swap), to value a fee paid in
   * another asset (BNB on Binance) at the fill's time.
   */
  async usdtPriceAt(asset: string, timeMs: number): Promise<number> {
    const minute = Math.floor(timeMs / 60_000) * 60_000;
    const rows = await this.client.fetchOHLCV(`${asset}/USDT:USDT`, '1m', minute, 1);
    const close = num(rows[0]?.[4]);
    if (rows[0]?.[0] !== minute || close === null || close <= 0)
      throw new Error(`no ${asset}/USDT price for ${new Date(minute).toISOString()}`);
    return close;
  }

  protected toTradeInfo(t: ccxt.Trade, symbol: string): TradeInfo {
    return toTradeInfo(this, t, symbol);
  }

  async syncTime(): Promise<void> {
    await this.client.loadTimeDifference();
  }

  async checkKey(): Promise<KeyCheck> {
    const checkedAt = new Date().toISOString();
    let balanceInfo: Dict = {};
    try {
      const bal = (await this.client.fetchBalance()) as unknown as { info?: Dict };
      balanceInfo = bal.info ?? {};
    } catch (err) {
      if (err instanceof ccxt.AuthenticationError || err instanceof ccxt.PermissionDenied) {
        return {
          ok: false,
          message: `the exchange refused the key: ${exchangeErrorMessage(err)}`,
          canRead: false,
          canTrade: null,
          canWithdraw: null,
          positionMode: null,
          checkedAt,
        };
      }
      throw err;
    }
    const positionMode = await this.fetchPositionMode();
    const { canTrade, canWithdraw, problems } = await this.keyPermissions(balanceInfo);
    if (canWithdraw === true)
      problems.push('the key has withdrawal permission: create a key with trade permission only');
    if (canTrade === false)
      problems.push('the key cannot trade futures: enable trading (Futures) on the key');
    return {
      ok: problems.length === 0,
      ...(problems.length ? { message: problems.join('; ') } : {}),
      canRead: true,
      canTrade,
      canWithdraw,
      positionMode,
      checkedAt,
    };
  }

  /** ccxt order → ours (also for orders pushed by the streams, live/). */
  toOrderInfo(o: ccxt.Order, conditional: boolean): OrderInfo {
    return toOrderInfo(this, o, conditional);
  }
}
