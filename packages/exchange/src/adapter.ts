import * as ccxt from 'ccxt';
import type { Exchange, KeyCheck } from '@tradehook/contracts';
import { createCcxtClient, landingWindowMs, type CcxtClient, type ExchangeClientOptions } from './client.ts';
import { classifyExchangeError, exchangeErrorMessage, OrderNotSettled, OrderSizeError } from './errors.ts';
import {
  binanceFundingAfter,
  okxFundingAfter,
  type FundingBatch,
  type FundingCursor,
} from './funding-history.ts';
import { binanceTradesAfter, exchangeNow, okxTradesAfter, type TradeCursor } from './trade-history.ts';
import type {
  Balance,
  Candle,
  ConditionalOrderRequest,
  ExchangeAdapter,
  MarginMode,
  MarketInfo,
  MarketOrderRequest,
  OrderInfo,
  OrderSide,
  PositionInfo,
  PositionMode,
  PositionSide,
  TradeBatch,
  TradeInfo,
} from './types.ts';
import { MONEY_DECIMALS, roundDecimals } from '@tradehook/contracts';

type Dict = Record<string, unknown>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Filled with a price, or ended without filling: nothing more will happen to this market order. */
function isSettled(o: OrderInfo): boolean {
  if (o.status === 'closed') return o.average !== null;
  return o.status === 'canceled' || o.status === 'expired' || o.status === 'rejected';
}

export interface AdapterOptions extends ExchangeClientOptions {
  /** How long to poll a market order the exchange does not yet show filled (default 5000 ms). */
  settleMs?: number | undefined;
}

const num = (v: unknown): number | null => {
  if (v === undefined || v === null || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** Quote-asset amounts (PnL, fees) to 8 decimals, the exchanges' own precision for USDT amounts. */
function roundMoney(n: number | null): number | null {
  return n === null ? null : roundDecimals(n, MONEY_DECIMALS);
}

/**
 * What a conditional order is, in the trader's words: `stop` or `take_profit` (ccxt calls both "market").
 * Binance algo orders say STOP_MARKET / TAKE_PROFIT_MARKET in orderType; OKX conditional orders carry
 * tpTriggerPx or slTriggerPx; ccxt's unified takeProfitPrice covers both.
 */
function conditionalKind(o: ccxt.Order, info: Dict): 'stop' | 'take_profit' {
  const raw = String(info['orderType'] ?? info['type'] ?? '').toUpperCase();
  const takeProfit =
    raw.startsWith('TAKE_PROFIT') ||
    num(o.takeProfitPrice) !== null ||
    (num(info['tpTriggerPx']) !== null && num(info['slTriggerPx']) === null);
  return takeProfit ? 'take_profit' : 'stop';
}

/**
 * Markets are the same for every account of one venue (exchange + demo flag + base URL): load them once and
 * hand them to every new ccxt instance.
 */
const marketCache = new Map<string, Promise<ccxt.Dictionary<ccxt.Market>>>();

/**
 * The one interface the worker uses for both exchanges (docs/decisions/0005-exchange-facts.md). Amounts are BASE currency at this
 * boundary; OKX contracts are converted here and nowhere else.
 */
export class CcxtExchangeAdapter implements ExchangeAdapter {
  readonly exchange: Exchange;
  readonly client: CcxtClient;
  private readonly venueKey: string;
  private marketsReady: Promise<void> | undefined;
  private readonly landingMs: number;
  private readonly settleMs: number;

  constructor(opts: AdapterOptions) {
    this.exchange = opts.exchange;
    this.client = createCcxtClient(opts);
    this.venueKey = `${opts.exchange}|${opts.testnet}|${opts.apiUrl ?? ''}`;
    this.landingMs = landingWindowMs(opts.recvWindowMs);
    this.settleMs = opts.settleMs ?? 5_000;
  }

  landingWindowMs(): number {
    return this.landingMs;
  }

  loadMarkets(): Promise<void> {
    this.marketsReady ??= (async () => {
      const shared = marketCache.get(this.venueKey);
      if (!shared) {
        const loading = this.client.loadMarkets();
        marketCache.set(this.venueKey, loading);
        loading.catch(() => marketCache.delete(this.venueKey));
        await loading;
        return;
      }
      this.client.setMarkets(await shared);
    })();
    this.marketsReady.catch(() => (this.marketsReady = undefined));
    return this.marketsReady;
  }

  async prepareAccount(): Promise<void> {
    await this.loadMarkets();
    if (this.exchange === 'binance') {
      await (this.client as ccxt.binanceusdm).loadLeverageBrackets();
    }
  }

  private m(symbol: string): ccxt.MarketInterface {
    return this.client.market(symbol);
  }

  private contractSize(symbol: string): number {
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
    };
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
  private readablePrice(symbol: string, value: unknown): number | null {
    const n = num(value);
    if (n === 0) return null;
    if (n === null || !this.client.markets?.[symbol]) return n;
    const tick = Number(this.client.market(symbol).precision.price ?? 0);
    if (Math.abs(n) < tick / 2) return n; // below the tick: keep it rather than throw
    return Number(this.client.priceToPrecision(symbol, n));
  }

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
      if (this.exchange === 'okx') {
        const params: Dict = { marginMode };
        if (marginMode === 'isolated') params['posSide'] = positionSide ?? 'net';
        await this.client.setLeverage(leverage, symbol, params);
      } else {
        await this.client.setLeverage(leverage, symbol);
      }
    } catch (err) {
      if (err instanceof ccxt.NoChange) return; // "no need to change" is success
      throw err;
    }
  }

  async setMarginMode(symbol: string, marginMode: MarginMode): Promise<void> {
    if (this.exchange === 'okx') return; // tdMode travels with every order
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
    // OKX lists every instrument type without instType (futures, margin, options too); we trade only swaps.
    const params = this.exchange === 'okx' ? { instType: 'SWAP' } : {};
    const list = await this.client.fetchPositions(symbol ? [symbol] : undefined, params);
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

  async withLeverage(positions: PositionInfo[]): Promise<PositionInfo[]> {
    const missing = [...new Set(positions.filter((p) => p.leverage === null).map((p) => p.symbol))];
    if (missing.length === 0 || this.exchange !== 'binance') return positions;
    // Binance's v3 positionRisk has no leverage; ccxt's fetchLeverages reads GET /fapi/v1/symbolConfig.
    const leverages = await this.client.fetchLeverages(missing);
    return positions.map((p) => {
      if (p.leverage !== null) return p;
      const l = leverages[p.symbol];
      return { ...p, leverage: num(p.side === 'long' ? l?.longLeverage : l?.shortLeverage) };
    });
  }

  private orderParams(req: MarketOrderRequest, hedge: boolean): Dict {
    const params: Dict = { clientOrderId: req.clientOrderId };
    if (this.exchange === 'okx') params['marginMode'] = req.marginMode;
    if (hedge) {
      // Hedge mode: the leg decides; reduceOnly is rejected by Binance and not applicable on OKX.
      params['positionSide'] =
        this.exchange === 'binance' ? req.positionSide!.toUpperCase() : req.positionSide;
    } else if (req.reduceOnly) {
      params['reduceOnly'] = true;
    }
    return params;
  }

  async createMarketOrder(req: MarketOrderRequest): Promise<OrderInfo> {
    const { exchangeAmount } = this.amountToPrecision(req.symbol, req.amount);
    const params = this.orderParams(req, req.positionSide !== null);
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
    if (!isSettled(order)) order = await this.settleMarketOrder(req.symbol, req.clientOrderId);
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
    if (this.exchange === 'okx') {
      // ccxt sends clientOrderId as `clOrdId`, which does not identify an algo order on OKX; its lookups (and
      // ours) go by `algoClOrdId`, so that is the one to send.
      delete params['clientOrderId'];
      params['algoClOrdId'] = req.clientOrderId;
    }
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

  async fetchOpenOrders(symbol?: string): Promise<OrderInfo[]> {
    const triggerParams: Dict =
      this.exchange === 'okx' ? { trigger: true, ordType: 'conditional' } : { trigger: true };
    const [plain, conditional] = await Promise.all([
      this.client.fetchOpenOrders(symbol),
      this.client.fetchOpenOrders(symbol, undefined, undefined, triggerParams),
    ]);
    return [
      ...plain.map((o) => this.toOrderInfo(o, false)),
      ...conditional.map((o) => this.toOrderInfo(o, true)),
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

  /** One page of recent trades, no paging: may miss trades (OKX answers the newest 100). Sync uses fetchTradesAfter. */
  async fetchMyTrades(symbol: string, since: number | undefined): Promise<TradeInfo[]> {
    const limit = this.exchange === 'okx' ? 100 : 1000;
    const trades = await this.client.fetchMyTrades(symbol, since, limit);
    return trades.map((t) => this.toTradeInfo(t, symbol));
  }

  /** Every trade after the cursor, paged without gaps (trade-history.ts); `startMs` when there is no cursor. */
  async fetchTradesAfter(symbol: string, cursor: TradeCursor | null, startMs: number): Promise<TradeBatch> {
    const read = this.exchange === 'okx' ? okxTradesAfter : binanceTradesAfter;
    const page = await read(this.client, symbol, cursor, startMs);
    return { ...page, trades: page.trades.map((t) => this.toTradeInfo(t, symbol)) };
  }

  /** The exchange's time as the shared venue clock estimates it (clock.ts). */
  exchangeTime(): number {
    return exchangeNow(this.client);
  }

  /** Funding payments (every swap of the account) after the cursor, paged without gaps (funding-history.ts). */
  fetchFundingAfter(cursor: FundingCursor | null, startMs: number): Promise<FundingBatch> {
    return (this.exchange === 'okx' ? okxFundingAfter : binanceFundingAfter)(this.client, cursor, startMs);
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

  private toTradeInfo(t: ccxt.Trade, symbol: string): TradeInfo {
    const cs = this.contractSize(symbol);
    const info = (t.info ?? {}) as Dict;
    const fee = t.fee as { cost?: number; currency?: string } | undefined;
    return {
      id: String(t.id),
      orderId: t.order ? String(t.order) : null,
      clientOrderId:
        (info['clOrdId'] as string | undefined) || (info['clientOrderId'] as string | undefined) || null,
      symbol: t.symbol ?? symbol,
      side: t.side as OrderSide,
      price: Number(t.price),
      amount: Number(((num(t.amount) ?? 0) * cs).toPrecision(12)),
      // ccxt's sign: positive = paid, negative = rebate received (kept: a rebate is income, not a cost).
      fee: num(fee?.cost) ?? 0,
      feeAsset: fee?.currency ?? null,
      realizedPnl: num(info['realizedPnl']) ?? num(info['fillPnl']) ?? 0,
      timestamp: Number(t.timestamp),
    };
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
    let canTrade: boolean | null = null;
    let canWithdraw: boolean | null = null;
    const problems: string[] = [];
    if (this.exchange === 'okx') {
      const cfg = (await (
        this.client as unknown as { privateGetAccountConfig(p: Dict): Promise<Dict> }
      ).privateGetAccountConfig({})) as { data?: Array<{ perm?: string; acctLv?: string }> };
      const perm = cfg.data?.[0]?.perm;
      if (typeof perm === 'string' && perm.length > 0) {
        const perms = perm.split(',').map((s) => s.trim());
        canTrade = perms.includes('trade');
        canWithdraw = perms.includes('withdraw');
      }
      // Account mode 1 ("simple", spot only) cannot trade swaps: every order would fail with 51010.
      if (cfg.data?.[0]?.acctLv === '1')
        problems.push(
          'the OKX account is in simple mode (acctLv 1), which cannot trade swaps: switch the account mode to ' +
            'single-currency margin or higher (Trade → Settings → Account mode)',
        );
    } else if (this.client.options['enableDemoTrading'] === true) {
      // Binance demo trading has no /sapi (ccxt: NotSupported "does not have a testnet/sandbox URL for
      // sapi"): the futures account's own canTrade is all there is, and a demo key moves no real money.
      if (typeof balanceInfo['canTrade'] === 'boolean') canTrade = balanceInfo['canTrade'];
    } else {
      // Binance "Get API Key Permission" (GET /sapi/v1/account/apiRestrictions, weight 1).
      const r = (await (
        this.client as unknown as { sapiGetAccountApiRestrictions(p: Dict): Promise<Dict> }
      ).sapiGetAccountApiRestrictions({})) as { enableWithdrawals?: boolean; enableFutures?: boolean };
      if (typeof r.enableWithdrawals === 'boolean') canWithdraw = r.enableWithdrawals;
      if (typeof r.enableFutures === 'boolean') canTrade = r.enableFutures;
      else if (typeof balanceInfo['canTrade'] === 'boolean') canTrade = balanceInfo['canTrade'];
    }
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
    const info = (o.info ?? {}) as Dict;
    const symbol = o.symbol ?? '';
    const cs = symbol && this.client.markets?.[symbol] ? this.contractSize(symbol) : 1;
    const scale = (v: unknown) => {
      const n = num(v);
      return n === null ? null : Number((n * cs).toPrecision(12));
    };
    const rawPosSide = String(info['positionSide'] ?? info['posSide'] ?? '').toLowerCase();
    // An OKX algo order is identified by algoClOrdId; ccxt may report the (deprecated) clOrdId instead.
    const clientOrderId =
      (conditional && (info['algoClOrdId'] as string | undefined)) ||
      o.clientOrderId ||
      (info['algoClOrdId'] as string | undefined) ||
      (info['clientAlgoId'] as string | undefined) ||
      null;
    return {
      id: String(o.id),
      clientOrderId: clientOrderId || null,
      symbol,
      side: o.side as OrderSide,
      type: conditional
        ? conditionalKind(o, info)
        : String(o.type ?? info['orderType'] ?? info['ordType'] ?? 'market').toLowerCase(),
      status: o.status ?? 'unknown',
      amount: scale(o.amount),
      // One rule on both venues: a conditional order that has not fired has filled 0 (Binance's algo
      // answer omits the field, OKX's reports it).
      filled: scale(o.filled) ?? (conditional ? 0 : null),
      average: this.readablePrice(symbol, o.average),
      price: this.readablePrice(symbol, o.price),
      triggerPrice: this.readablePrice(symbol, o.triggerPrice ?? o.stopLossPrice ?? o.takeProfitPrice),
      reduceOnly: o.reduceOnly === true || info['reduceOnly'] === true || info['reduceOnly'] === 'true',
      conditional,
      positionSide: rawPosSide === 'long' || rawPosSide === 'short' ? rawPosSide : null,
    };
  }
}

export function createExchangeAdapter(opts: AdapterOptions): CcxtExchangeAdapter {
  return new CcxtExchangeAdapter(opts);
}
