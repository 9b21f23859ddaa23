import type { Exchange, KeyCheck } from '@tradehook/contracts';
import type { FundingBatch, FundingCursor } from './funding-history.ts';
import type { TradeCursor } from './trade-history.ts';

export type PositionMode = 'oneway' | 'hedge';
export type MarginMode = 'cross' | 'isolated';
export type PositionSide = 'long' | 'short';
export type OrderSide = 'buy' | 'sell';

/** What sizing needs to know about an instrument; amounts in BASE currency on both exchanges. */
export interface MarketInfo {
  symbol: string;
  /** Base units per exchange unit (OKX ctVal; 1 on Binance). */
  contractSize: number;
  /** Smallest base amount the exchange accepts. */
  minAmount: number;
  /** Minimum order notional in quote (Binance MIN_NOTIONAL); 0 where none. */
  minNotional: number;
  maxLeverage: number | undefined;
  /**
   * Open conditional orders (stop, take-profit, trailing) the exchange holds per symbol, when it caps them
   * (Binance USDⓈ-M exchangeInfo filter MAX_NUM_ALGO_ORDERS); undefined where no cap is published.
   */
  maxOpenConditionalOrders: number | undefined;
}

export interface PositionInfo {
  symbol: string;
  side: PositionSide;
  /** Exchange units (OKX contracts). */
  contracts: number;
  /** Base currency. */
  amount: number;
  entryPrice: number | null;
  markPrice: number | null;
  unrealizedPnl: number | null;
  leverage: number | null;
}

export interface OrderInfo {
  id: string;
  clientOrderId: string | null;
  symbol: string;
  side: OrderSide;
  type: string;
  /** open | closed | canceled | expired | rejected (ccxt unified), or the raw status. */
  status: string;
  /** Base currency. */
  amount: number | null;
  filled: number | null;
  average: number | null;
  price: number | null;
  triggerPrice: number | null;
  reduceOnly: boolean;
  /** A conditional (algo) order: SL/TP. */
  conditional: boolean;
  /** long/short in hedge mode; null in one-way mode or when unknown. */
  positionSide: PositionSide | null;
}

export interface TradeInfo {
  id: string;
  orderId: string | null;
  clientOrderId: string | null;
  symbol: string;
  side: OrderSide;
  price: number;
  /** Base currency. */
  amount: number;
  /** In feeAsset: positive = paid, negative = rebate received. */
  fee: number;
  feeAsset: string | null;
  realizedPnl: number;
  timestamp: number;
}

/** Trades read after a cursor, and the cursor to save for the next read. */
export interface TradeBatch {
  trades: TradeInfo[];
  cursor: TradeCursor;
  /** False when the read stopped at its page budget: call again for the rest. */
  complete: boolean;
}

export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface Balance {
  asset: string;
  free: number;
  total: number;
}

export interface MarketOrderRequest {
  symbol: string;
  side: OrderSide;
  /** Base currency; converted to exchange units (and truncated to precision) by the adapter. */
  amount: number;
  clientOrderId: string;
  reduceOnly: boolean;
  /** Hedge mode: the position leg this order belongs to; null in one-way mode. */
  positionSide: PositionSide | null;
  marginMode: MarginMode;
  /**
   * Protection sent with the entry itself, one request (only where `supportsAttachedProtection`: OKX
   * attachAlgoOrds). Found afterwards with `findAttachedProtection(symbol, attached.clientOrderId)`.
   */
  attached?: AttachedProtection | undefined;
}

/** Stop loss and/or take profit attached to an entry; both close at market when they trigger. */
export interface AttachedProtection {
  stopLoss?: number | undefined;
  takeProfit?: number | undefined;
  /** Our id of the attached algo order (OKX attachAlgoClOrdId, which becomes its algoClOrdId). */
  clientOrderId: string;
  /** Price the triggers watch; default `last`. */
  triggerPriceType?: 'last' | 'mark' | 'index' | undefined;
}

export type TimeInForce = 'GTC' | 'IOC' | 'FOK';

/** A limit entry or exit; placed and returned as the exchange books it (no waiting for a fill). */
export interface LimitOrderRequest extends MarketOrderRequest {
  price: number;
  /** Default GTC. Ignored with `postOnly`. */
  timeInForce?: TimeInForce | undefined;
  /** Maker only: refused instead of taking (Binance timeInForce GTX, OKX ordType post_only). */
  postOnly?: boolean | undefined;
}

/** A stop that trails the best price by a callback (Binance TRAILING_STOP_MARKET, OKX move_order_stop). */
export interface TrailingStopRequest extends MarketOrderRequest {
  /** Callback in percent of the price (1 = 1 %); Binance takes 0.1–10 in steps of 0.1. */
  callbackRatePct: number;
  /** Trailing starts once the price reaches this (Binance activationPrice, OKX activePx); default: at once. */
  activationPrice?: number | undefined;
}

export interface ConditionalOrderRequest extends MarketOrderRequest {
  kind: 'stop_loss' | 'take_profit';
  triggerPrice: number;
}

export interface ExchangeAdapter {
  readonly exchange: Exchange;
  /** Entries can carry their SL/TP in the same request (`MarketOrderRequest.attached`): OKX yes, Binance no. */
  readonly supportsAttachedProtection: boolean;
  loadMarkets(): Promise<void>;
  /**
   * Loads what this account's first order would otherwise fetch lazily: the markets and, on Binance, the
   * leverage brackets ccxt reads before its first positions call (cached per client).
   */
  prepareAccount(): Promise<void>;
  market(symbol: string): MarketInfo;
  /** Base amount → exchange amount truncated to precision, and the base amount that really is. */
  amountToPrecision(symbol: string, amount: number): { exchangeAmount: number; amount: number };
  priceToPrecision(symbol: string, price: number): number;
  fetchPositionMode(): Promise<PositionMode>;
  /** `positionSide`: the hedge-mode leg (OKX sets isolated leverage per leg); null in one-way mode. */
  setLeverage(
    symbol: string,
    leverage: number,
    marginMode: MarginMode,
    positionSide?: PositionSide | null,
  ): Promise<void>;
  /** Binance keeps margin mode per symbol; OKX takes it per order (no call). */
  setMarginMode(symbol: string, marginMode: MarginMode): Promise<void>;
  fetchBalance(): Promise<Balance>;
  fetchPrice(symbol: string): Promise<number>;
  fetchCandles(symbol: string, timeframe: string, limit: number): Promise<Candle[]>;
  fetchPositions(symbol?: string): Promise<PositionInfo[]>;
  /** Fills in leverage where the positions answer leaves it out (Binance); one extra call, only then. */
  withLeverage(positions: PositionInfo[]): Promise<PositionInfo[]>;
  createMarketOrder(req: MarketOrderRequest): Promise<OrderInfo>;
  createConditionalOrder(req: ConditionalOrderRequest): Promise<OrderInfo>;
  /** Limit order (GTC/IOC/FOK or post-only), by client id; answered as booked. */
  createLimitOrder(req: LimitOrderRequest): Promise<OrderInfo>;
  /** Trailing stop (a conditional order: found with `findOrder(…, true)`, cancelled with `conditional`). */
  createTrailingStop(req: TrailingStopRequest): Promise<OrderInfo>;
  /**
   * Looks an order up by our client id; null when the exchange does not know it *now*. That alone is not proof
   * it will never land: see `landingWindowMs`.
   */
  findOrder(symbol: string, clientOrderId: string, conditional: boolean): Promise<OrderInfo | null>;
  /**
   * The protection booked from an entry's `attached` (by its clientOrderId), one OrderInfo per leg (`stop`,
   * `take_profit`; on OKX both legs are one OCO algo order with one id). Empty while the entry has not
   * filled, and always where the venue has no attached protection.
   */
  findAttachedProtection(symbol: string, clientOrderId: string): Promise<OrderInfo[]>;
  /** Open orders including conditional ones. */
  fetchOpenOrders(symbol?: string): Promise<OrderInfo[]>;
  cancelOrder(order: Pick<OrderInfo, 'id' | 'symbol' | 'conditional'>): Promise<void>;
  fetchMyTrades(symbol: string, since: number | undefined): Promise<TradeInfo[]>;
  fetchTradesAfter(symbol: string, cursor: TradeCursor | null, startMs: number): Promise<TradeBatch>;
  fetchFundingAfter(cursor: FundingCursor | null, startMs: number): Promise<FundingBatch>;
  exchangeTime(): number;
  /** USDT price of an asset at a past instant (fee conversion). */
  usdtPriceAt(asset: string, timeMs: number): Promise<number>;
  /** Re-sync the clock after an InvalidNonce. */
  syncTime(): Promise<void>;
  checkKey(): Promise<KeyCheck>;
  /** How long after a request was signed the exchange may still execute it (its validity window plus skew). */
  landingWindowMs(): number;
  /**
   * A market order found or placed but not yet shown filled: polls it by client id with backoff until the
   * exchange shows a final state, and throws `OrderNotSettled` (retryable) when it does not within the bound.
   */
  settleMarketOrder(symbol: string, clientOrderId: string): Promise<OrderInfo>;
}
