/**
 * Exchange-agnostic state and matching: accounts, balances, positions, orders, conditional (algo) orders,
 * fills, realised PnL, fees. The Binance and OKX dialects translate requests and responses around it.
 */
import { NO_REPORT_LAG, type ReportLag } from './report-lag.ts';
import { MARKETS, type MarketSpec, marketById } from './markets.ts';
import { chargeFee, splitFill } from './fees.ts';
import { bookFunding } from './funding.ts';
import { SimClock } from './clock.ts';
import { gaussian, hash32, preciseNow, prng, round } from './num.ts';

export type Exchange = 'binance' | 'okx';
export type Side = 'buy' | 'sell';
/** 'both' = one-way (net) position; 'long'/'short' = hedge mode legs. */
export type PosSide = 'both' | 'long' | 'short';
export type PositionMode = 'oneway' | 'hedge';
export type MarginMode = 'cross' | 'isolated';

const Q = 10; // internal rounding of quantities and money to kill float noise

export interface SymbolSettings {
  leverage: number;
  marginMode: MarginMode;
}

export interface Position {
  symbol: string;
  posSide: PosSide;
  /** Signed: > 0 long, < 0 short. */
  qty: number;
  entryPrice: number;
  realizedPnl: number;
  fees: number;
  openedAt: number;
  updatedAt: number;
  id: number;
}

export type OrderStatus = 'new' | 'partially_filled' | 'filled' | 'canceled' | 'expired' | 'rejected';

export interface Order {
  id: number;
  exchange: Exchange;
  apiKey: string;
  clientId: string;
  symbol: string;
  side: Side;
  posSide: PosSide;
  type: 'market' | 'limit';
  price: number | undefined;
  qty: number;
  filledQty: number;
  avgPrice: number;
  status: OrderStatus;
  reduceOnly: boolean;
  closePosition: boolean;
  marginMode: MarginMode;
  leverage: number;
  fee: number;
  pnl: number;
  createdAt: number;
  updatedAt: number;
  /** Arrival time of the HTTP request that created it (ms, sub-ms precision); undefined for triggered orders. */
  arrivalMs: number | undefined;
  /** 'api' = placed by a request; 'algo' = placed when a conditional order triggered. */
  source: 'api' | 'algo';
  algoId: number | undefined;
  /** Dialect-specific extras (e.g. OKX tag, Binance origType). */
  meta: Record<string, unknown>;
}

export type AlgoStatus = 'new' | 'triggered' | 'canceled' | 'expired' | 'rejected';

export interface AlgoOrder {
  id: number;
  exchange: Exchange;
  apiKey: string;
  clientId: string;
  symbol: string;
  side: Side;
  posSide: PosSide;
  /** Stop semantics: buy triggers when price >= sl, sell when price <= sl. */
  slTrigger: number | undefined;
  /** Take-profit semantics: buy triggers when price <= tp, sell when price >= tp. */
  tpTrigger: number | undefined;
  /** Limit price of the order placed on trigger; undefined = market. */
  orderPrice: number | undefined;
  qty: number | undefined;
  closePosition: boolean;
  reduceOnly: boolean;
  marginMode: MarginMode;
  status: AlgoStatus;
  createdAt: number;
  updatedAt: number;
  triggeredAt: number | undefined;
  triggeredBy: 'sl' | 'tp' | undefined;
  triggerPriceHit: number | undefined;
  resultOrderId: number | undefined;
  failReason: string | undefined;
  arrivalMs: number | undefined;
  /** Dialect-specific extras (Binance orderType, OKX ordType/tag/closeFraction…). */
  meta: Record<string, unknown>;
}

export interface Trade {
  id: number;
  orderId: number;
  clientId: string;
  symbol: string;
  side: Side;
  posSide: PosSide;
  price: number;
  qty: number;
  quoteQty: number;
  /** Positive = paid, negative = rebate; in feeAsset. */
  fee: number;
  feeAsset: string;
  realizedPnl: number;
  maker: boolean;
  time: number;
  billId: number;
}

export type IncomeType = 'REALIZED_PNL' | 'COMMISSION' | 'TRANSFER' | 'FUNDING_FEE';

export interface Income {
  tranId: number;
  /** OKX bill id (funding); trades carry their own. */
  billId?: number | undefined;
  type: IncomeType;
  symbol: string;
  amount: number;
  asset: string;
  time: number;
  tradeId: number | undefined;
}

export interface Account {
  exchange: Exchange;
  apiKey: string;
  apiSecret: string;
  passphrase: string | undefined;
  testnet: boolean;
  positionMode: PositionMode;
  /** OKX API-key permissions as `account/config` reports them (`perm`), e.g. read_only, trade, withdraw. */
  permissions: string[];
  /** OKX account mode (`acctLv`); level 1 (simple mode) cannot trade swaps (order: 51010). */
  acctLv: '1' | '2' | '3' | '4';
  wallet: number;
  /** Binance "BNB fee discount" (`POST /fapi/v1/feeBurn`): fees are paid in BNB while bnbWallet covers them. */
  feeBurn: boolean;
  bnbWallet: number;
  takerFee: number;
  makerFee: number;
  settings: Map<string, SymbolSettings>;
  positions: Map<string, Position>;
  orders: Order[];
  algoOrders: AlgoOrder[];
  trades: Trade[];
  income: Income[];
  /**
   * OKX positions in instruments we do not simulate as swaps (FUTURES, MARGIN, OPTION): a real account can
   * hold them next to its swaps, and `GET /api/v5/account/positions` without `instType` lists them too.
   */
  otherPositions: OtherPosition[];
  /** How far the account's order reports lag the engine (report-lag.ts); none by default. */
  reportLag: ReportLag;
  createdAt: number;
  updatedAt: number;
}

export interface OtherPosition {
  instType: 'FUTURES' | 'MARGIN' | 'OPTION';
  instId: string;
  pos: number;
  avgPx: number;
}

/** What a key created for trading has on OKX: read and trade, no withdrawal. */
export const DEFAULT_PERMISSIONS: readonly string[] = ['read_only', 'trade'];
/**
 * Binance key restrictions as `GET /sapi/v1/account/apiRestrictions` reports them (`enableReading`,
 * `enableFutures`, `enableWithdrawals`, …), by their names here; a futures trading key has reading and futures.
 */
export const BINANCE_PERMISSIONS: readonly string[] = [
  'reading',
  'futures',
  'withdrawals',
  'internal_transfer',
  'margin',
  'spot_and_margin_trading',
  'universal_transfer',
  'vanilla_options',
];
const DEFAULT_BINANCE_PERMISSIONS: readonly string[] = ['reading', 'futures'];

export interface CreateAccountInput {
  exchange: Exchange;
  apiKey: string;
  apiSecret: string;
  passphrase?: string | undefined;
  balance?: number | undefined;
  testnet?: boolean | undefined;
  positionMode?: PositionMode | undefined;
  permissions?: string[] | undefined;
  takerFee?: number | undefined;
  makerFee?: number | undefined;
  defaultLeverage?: number | undefined;
}

export type EngineErrorKind =
  'reduce_only_rejected' | 'no_position' | 'insufficient_margin' | 'over_close' | 'unknown_symbol';

export class EngineError extends Error {
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface PlaceOrderInput {
  symbol: string;
  side: Side;
  posSide: PosSide;
  type: 'market' | 'limit';
  /** Base-currency quantity; ignored when closePosition. */
  qty: number;
  price?: number | undefined;
  reduceOnly: boolean;
  closePosition?: boolean | undefined;
  clientId: string;
  marginMode?: MarginMode | undefined;
  arrivalMs?: number | undefined;
  /** What to do when a reducing order is larger than the position. */
  overClose: 'clamp' | 'reject';
  meta?: Record<string, unknown> | undefined;
  source?: 'api' | 'algo';
  algoId?: number | undefined;
  /** Post-only that the exchange accepts and then cancels instead of letting it take (OKX post_only). */
  cancelIfTaking?: boolean | undefined;
}

export interface PlaceAlgoInput {
  symbol: string;
  side: Side;
  posSide: PosSide;
  slTrigger?: number | undefined;
  tpTrigger?: number | undefined;
  orderPrice?: number | undefined;
  qty?: number | undefined;
  closePosition: boolean;
  reduceOnly: boolean;
  clientId: string;
  marginMode?: MarginMode | undefined;
  arrivalMs?: number | undefined;
  meta?: Record<string, unknown> | undefined;
}

export interface OrderLogEntry {
  kind: 'order' | 'algo';
  exchange: Exchange;
  apiKey: string;
  ref: Order | AlgoOrder;
}

/**
 * A change the simulated WebSocket streams (ws/) push: emitted synchronously right after it is applied, so a
 * listener that serialises at once sees the state of that moment (an order's NEW before its fill).
 */
export type EngineChange =
  | { kind: 'order'; acct: Account; order: Order; trade: Trade | undefined }
  | { kind: 'algo'; acct: Account; algo: AlgoOrder }
  | { kind: 'account'; acct: Account; symbol: string; posSide: PosSide }
  /** A symbol's leverage was set (Binance pushes ACCOUNT_CONFIG_UPDATE; OKX nothing without a position). */
  | { kind: 'config'; acct: Account; symbol: string; leverage: number };

export interface EngineOptions {
  takerFee?: number;
  makerFee?: number;
  defaultLeverage?: number;
  prices?: Record<string, number>;
}

function posKey(symbol: string, posSide: PosSide): string {
  return `${symbol}|${posSide}`;
}

/** Where run-seeded ids start counting: 2026-01-01T00:00:00Z. */
const ID_EPOCH_MS = Date.UTC(2026, 0, 1);
/** One band per id kind, wide enough for ~30 years of milliseconds: the kinds never share a number. */
const ID_BAND = 1_000_000_000_000;

/**
 * The first id of each kind for a simulator started at `startedAtMs`. The real exchanges' ids never repeat,
 * and a database that keeps fills across simulator restarts (`pnpm demo`) must not see an id twice: each kind
 * counts from its band's base plus the milliseconds since ID_EPOCH_MS, so a later run starts above every id
 * an earlier run handed out unless that run averaged more than one id of a kind per millisecond. The shapes
 * stay the exchanges' (Binance integers, OKX numeric strings, as binance.ts and okx.ts render them) and
 * below Number.MAX_SAFE_INTEGER.
 */
export function runSeededIds(startedAtMs: number): Record<IdKind, number> {
  const offset = Math.max(0, Math.floor(startedAtMs - ID_EPOCH_MS));
  return {
    order: 8 * ID_BAND + offset,
    algo: 4 * ID_BAND + offset,
    trade: 6 * ID_BAND + offset,
    bill: 9 * ID_BAND + offset,
    tran: 7 * ID_BAND + offset,
    pos: 1 * ID_BAND + offset,
  };
}
type IdKind = 'order' | 'algo' | 'trade' | 'bill' | 'tran' | 'pos';

export class Engine {
  readonly accounts = new Map<string, Account>();
  readonly prices = new Map<string, number>();
  readonly orderLog: OrderLogEntry[] = [];
  /** Exchange time (movable by the control API). */
  readonly clock = new SimClock();
  /** Per symbol: market orders larger than this are booked as several fills (control API `fill-split`). */
  readonly maxFillQty = new Map<string, number>();
  /** Base qty a limit order can fill each time it is reached (control API `/_sim/limit-depth`); unset = all. */
  readonly limitDepth = new Map<string, number>();
  takerFee: number;
  makerFee: number;
  defaultLeverage: number;
  private seq = runSeededIds(Date.now());
  private initialPrices: Record<string, number>;
  private listeners: Array<(symbol: string, price: number) => void> = [];
  private changeListeners: Array<(change: EngineChange) => void> = [];

  constructor(opts: EngineOptions = {}) {
    this.takerFee = opts.takerFee ?? 0.0004;
    this.makerFee = opts.makerFee ?? 0.0002;
    this.defaultLeverage = opts.defaultLeverage ?? 20;
    this.initialPrices = { ...(opts.prices ?? {}) };
    this.resetPrices();
    this.clock.onAdvance((from, to) => bookFunding(this, from, to));
  }

  private resetPrices(): void {
    this.prices.clear();
    for (const m of MARKETS) this.prices.set(m.id, this.initialPrices[m.id] ?? m.defaultPrice);
  }

  /** Clears every account, order and price. */
  reset(): void {
    this.accounts.clear();
    this.orderLog.length = 0;
    this.clock.reset();
    this.maxFillQty.clear();
    this.limitDepth.clear();
    this.resetPrices();
  }

  onPrice(fn: (symbol: string, price: number) => void): void {
    this.listeners.push(fn);
  }

  /** Order, conditional-order and balance/position changes (for the streams). */
  onChange(fn: (change: EngineChange) => void): void {
    this.changeListeners.push(fn);
  }

  /** Sets a symbol's leverage and tells the streams. */
  setLeverage(acct: Account, symbol: string, leverage: number): void {
    this.settings(acct, symbol).leverage = leverage;
    this.changed({ kind: 'config', acct, symbol, leverage });
  }

  private changed(change: EngineChange): void {
    for (const fn of this.changeListeners) fn(change);
  }

  nextId(kind: IdKind): number {
    this.seq[kind] += 1;
    return this.seq[kind];
  }

  // ── accounts ────────────────────────────────────────────────────────────

  createAccount(input: CreateAccountInput): Account {
    const now = this.clock.now();
    const acct: Account = {
      exchange: input.exchange,
      apiKey: input.apiKey,
      apiSecret: input.apiSecret,
      passphrase: input.passphrase,
      testnet: input.testnet ?? false,
      positionMode: input.positionMode ?? 'oneway',
      permissions: input.permissions ?? [
        ...(input.exchange === 'okx' ? DEFAULT_PERMISSIONS : DEFAULT_BINANCE_PERMISSIONS),
      ],
      acctLv: '2',
      wallet: input.balance ?? 10_000,
      feeBurn: false,
      bnbWallet: 0,
      takerFee: input.takerFee ?? this.takerFee,
      makerFee: input.makerFee ?? this.makerFee,
      settings: new Map(),
      positions: new Map(),
      orders: [],
      algoOrders: [],
      trades: [],
      income: [],
      otherPositions: [],
      reportLag: { ...NO_REPORT_LAG },
      createdAt: now,
      updatedAt: now,
    };
    if (input.defaultLeverage !== undefined) {
      for (const m of MARKETS)
        acct.settings.set(m.id, { leverage: input.defaultLeverage, marginMode: 'cross' });
    }
    if (acct.wallet !== 0) {
      acct.income.push({
        tranId: this.nextId('tran'),
        type: 'TRANSFER',
        symbol: '',
        amount: acct.wallet,
        asset: 'USDT',
        time: now,
        tradeId: undefined,
      });
    }
    this.accounts.set(`${input.exchange}:${input.apiKey}`, acct);
    return acct;
  }

  account(exchange: Exchange, apiKey: string): Account | undefined {
    return this.accounts.get(`${exchange}:${apiKey}`);
  }

  settings(acct: Account, symbol: string): SymbolSettings {
    let s = acct.settings.get(symbol);
    if (!s) {
      s = { leverage: this.defaultLeverage, marginMode: 'cross' };
      acct.settings.set(symbol, s);
    }
    return s;
  }

  price(symbol: string): number {
    const p = this.prices.get(symbol);
    if (p === undefined) throw new EngineError('unknown_symbol', `unknown symbol ${symbol}`);
    return p;
  }

  position(acct: Account, symbol: string, posSide: PosSide): Position | undefined {
    return acct.positions.get(posKey(symbol, posSide));
  }

  /** Open positions (qty ≠ 0). */
  openPositions(acct: Account): Position[] {
    return [...acct.positions.values()].filter((p) => p.qty !== 0);
  }

  unrealized(p: Position): number {
    return round((this.price(p.symbol) - p.entryPrice) * p.qty, Q);
  }

  /** Margin figures in USDT. */
  margins(acct: Account): {
    wallet: number;
    upl: number;
    positionIM: number;
    orderIM: number;
    marginBalance: number;
    available: number;
    maint: number;
  } {
    let upl = 0;
    let positionIM = 0;
    let maint = 0;
    for (const p of this.openPositions(acct)) {
      const notional = Math.abs(p.qty) * this.price(p.symbol);
      upl += this.unrealized(p);
      positionIM += notional / this.settings(acct, p.symbol).leverage;
      maint += notional * 0.004;
    }
    let orderIM = 0;
    for (const o of acct.orders) {
      if ((o.status === 'new' || o.status === 'partially_filled') && !o.reduceOnly && o.price !== undefined) {
        orderIM += ((o.qty - o.filledQty) * o.price) / this.settings(acct, o.symbol).leverage;
      }
    }
    const marginBalance = acct.wallet + upl;
    return {
      wallet: round(acct.wallet, 8),
      upl: round(upl, 8),
      positionIM: round(positionIM, 8),
      orderIM: round(orderIM, 8),
      marginBalance: round(marginBalance, 8),
      available: round(Math.max(0, marginBalance - positionIM - orderIM), 8),
      maint: round(maint, 8),
    };
  }

  /** Would this order reduce an existing position (hedge close, or one-way reduce-only)? */
  isReducing(acct: Account, posSide: PosSide, side: Side, reduceOnly: boolean): boolean {
    if (posSide === 'long') return side === 'sell';
    if (posSide === 'short') return side === 'buy';
    void acct;
    return reduceOnly;
  }

  // ── orders ──────────────────────────────────────────────────────────────

  placeOrder(acct: Account, input: PlaceOrderInput): Order {
    const market = marketById(input.symbol);
    if (!market) throw new EngineError('unknown_symbol', `unknown symbol ${input.symbol}`);
    const price = this.price(input.symbol);
    const settings = this.settings(acct, input.symbol);
    const reducing = this.isReducing(
      acct,
      input.posSide,
      input.side,
      input.reduceOnly || input.closePosition === true,
    );
    let qty = input.qty;
    if (reducing) {
      const pos = this.position(acct, input.symbol, input.posSide);
      const pq = pos?.qty ?? 0;
      const closable = input.side === 'sell' ? Math.max(0, pq) : Math.max(0, -pq);
      if (closable <= 0) {
        throw new EngineError(
          input.closePosition ? 'no_position' : 'reduce_only_rejected',
          'nothing to reduce',
        );
      }
      if (input.closePosition) qty = closable;
      else if (qty > closable + 1e-12) {
        if (input.overClose === 'reject')
          throw new EngineError('over_close', 'order larger than the position');
        qty = closable;
      }
    } else {
      // Only the part that opens exposure needs margin (a one-way flip first closes).
      const pos = this.position(acct, input.symbol, input.posSide);
      const pq = pos?.qty ?? 0;
      const delta = input.side === 'buy' ? qty : -qty;
      const closing = pq !== 0 && Math.sign(pq) !== Math.sign(delta) ? Math.min(Math.abs(pq), qty) : 0;
      const opening = qty - closing;
      const px = input.type === 'limit' && input.price !== undefined ? input.price : price;
      const required = (opening * px) / settings.leverage + qty * px * acct.takerFee;
      if (required > this.margins(acct).available + 1e-9) {
        throw new EngineError('insufficient_margin', 'margin is insufficient');
      }
    }
    const now = this.clock.now();
    const order: Order = {
      id: this.nextId('order'),
      exchange: acct.exchange,
      apiKey: acct.apiKey,
      clientId: input.clientId,
      symbol: input.symbol,
      side: input.side,
      posSide: input.posSide,
      type: input.type,
      price: input.price,
      qty: round(qty, Q),
      filledQty: 0,
      avgPrice: 0,
      status: 'new',
      reduceOnly: input.reduceOnly,
      closePosition: input.closePosition === true,
      marginMode: input.marginMode ?? settings.marginMode,
      leverage: settings.leverage,
      fee: 0,
      pnl: 0,
      createdAt: now,
      updatedAt: now,
      arrivalMs: input.arrivalMs,
      source: input.source ?? 'api',
      algoId: input.algoId,
      meta: input.meta ?? {},
    };
    acct.orders.push(order);
    this.orderLog.push({ kind: 'order', exchange: acct.exchange, apiKey: acct.apiKey, ref: order });
    this.changed({ kind: 'order', acct, order, trade: undefined });
    const marketable =
      input.type === 'market' ||
      (input.price !== undefined && (input.side === 'buy' ? price <= input.price : price >= input.price));
    if (marketable && input.cancelIfTaking) this.cancelOrder(acct, order);
    else if (marketable) this.fill(acct, order, price, false);
    acct.updatedAt = now;
    return order;
  }

  /** Fills the remaining quantity of an order at `price`. */
  private fill(acct: Account, order: Order, price: number, maker: boolean): void {
    let rest = round(order.qty - order.filledQty, Q);
    const depth = order.type === 'limit' ? this.limitDepth.get(order.symbol) : undefined;
    if (depth !== undefined) rest = Math.min(rest, depth);
    if (rest <= 0) return;
    for (const qty of splitFill(rest, this.maxFillQty.get(order.symbol)))
      this.fillPart(acct, order, price, qty, maker);
  }

  /** One trade of an order (a large order is booked as several, like a book walked level by level). */
  private fillPart(acct: Account, order: Order, price: number, qty: number, maker: boolean): void {
    const now = this.clock.now();
    const key = posKey(order.symbol, order.posSide);
    let pos = acct.positions.get(key);
    if (!pos) {
      pos = {
        symbol: order.symbol,
        posSide: order.posSide,
        qty: 0,
        entryPrice: 0,
        realizedPnl: 0,
        fees: 0,
        openedAt: now,
        updatedAt: now,
        id: this.nextId('pos'),
      };
      acct.positions.set(key, pos);
    }
    const delta = order.side === 'buy' ? qty : -qty;
    let pnl = 0;
    if (pos.qty !== 0 && Math.sign(pos.qty) !== Math.sign(delta)) {
      const closing = Math.min(Math.abs(pos.qty), qty);
      pnl = (price - pos.entryPrice) * closing * Math.sign(pos.qty);
      pos.qty = round(pos.qty + Math.sign(delta) * closing, Q);
      const rest = round(qty - closing, Q);
      if (pos.qty === 0) pos.entryPrice = 0;
      if (rest > 0) {
        pos.qty = round(Math.sign(delta) * rest, Q);
        pos.entryPrice = price;
        pos.openedAt = now;
      }
    } else {
      const abs = Math.abs(pos.qty);
      if (abs === 0) pos.openedAt = now;
      pos.entryPrice = (pos.entryPrice * abs + price * qty) / (abs + qty);
      pos.qty = round(pos.qty + delta, Q);
    }
    pnl = round(pnl, 8);
    const rate = maker ? acct.makerFee : acct.takerFee;
    // Negative rate = maker rebate (fee < 0, credited). In BNB when the account burns BNB for fees.
    const fee = round(price * qty * rate, 8);
    const charged = chargeFee(acct, fee, this.prices.get('BNBUSDT') ?? 0);
    pos.realizedPnl = round(pos.realizedPnl + pnl, 8);
    pos.fees = round(pos.fees + fee, 8);
    pos.updatedAt = now;
    acct.wallet = round(acct.wallet + pnl - (charged.asset === 'USDT' ? fee : 0), 8);
    const trade: Trade = {
      id: this.nextId('trade'),
      orderId: order.id,
      clientId: order.clientId,
      symbol: order.symbol,
      side: order.side,
      posSide: order.posSide,
      price,
      qty,
      quoteQty: round(price * qty, 8),
      fee: charged.amount,
      feeAsset: charged.asset,
      realizedPnl: pnl,
      maker,
      time: now,
      billId: this.nextId('bill'),
    };
    acct.trades.push(trade);
    if (pnl !== 0) {
      acct.income.push({
        tranId: this.nextId('tran'),
        type: 'REALIZED_PNL',
        symbol: order.symbol,
        amount: pnl,
        asset: 'USDT',
        time: now,
        tradeId: trade.id,
      });
    }
    if (fee !== 0) {
      acct.income.push({
        tranId: this.nextId('tran'),
        type: 'COMMISSION',
        symbol: order.symbol,
        amount: -charged.amount,
        asset: charged.asset,
        time: now,
        tradeId: trade.id,
      });
    }
    const filledBefore = order.filledQty;
    order.filledQty = round(order.filledQty + qty, Q);
    order.avgPrice = (order.avgPrice * filledBefore + price * qty) / order.filledQty;
    order.fee = round(order.fee + fee, 8);
    order.pnl = round(order.pnl + pnl, 8);
    order.status = order.filledQty >= order.qty - 1e-12 ? 'filled' : 'partially_filled';
    order.updatedAt = now;
    acct.updatedAt = now;
    this.changed({ kind: 'account', acct, symbol: order.symbol, posSide: order.posSide });
    this.changed({ kind: 'order', acct, order, trade });
  }

  cancelOrder(acct: Account, order: Order): boolean {
    if (order.status !== 'new' && order.status !== 'partially_filled') return false;
    order.status = 'canceled';
    order.updatedAt = this.clock.now();
    acct.updatedAt = order.updatedAt;
    this.changed({ kind: 'order', acct, order, trade: undefined });
    return true;
  }

  /** An open order's remainder is dropped by the exchange (IOC/FOK remainder): status expired, not canceled. */
  expireOrder(acct: Account, order: Order): boolean {
    if (order.status !== 'new' && order.status !== 'partially_filled') return false;
    order.status = 'expired';
    order.updatedAt = this.clock.now();
    acct.updatedAt = order.updatedAt;
    this.changed({ kind: 'order', acct, order, trade: undefined });
    return true;
  }

  openOrders(acct: Account, symbol?: string): Order[] {
    return acct.orders.filter(
      (o) => (o.status === 'new' || o.status === 'partially_filled') && (!symbol || o.symbol === symbol),
    );
  }

  // ── conditional orders ──────────────────────────────────────────────────

  /** Would this conditional order trigger at `price` right now? Returns which leg. */
  triggerHit(a: Pick<AlgoOrder, 'side' | 'slTrigger' | 'tpTrigger'>, price: number): 'sl' | 'tp' | undefined {
    if (a.slTrigger !== undefined && (a.side === 'buy' ? price >= a.slTrigger : price <= a.slTrigger))
      return 'sl';
    if (a.tpTrigger !== undefined && (a.side === 'buy' ? price <= a.tpTrigger : price >= a.tpTrigger))
      return 'tp';
    return undefined;
  }

  placeAlgo(acct: Account, input: PlaceAlgoInput): AlgoOrder {
    if (!marketById(input.symbol)) throw new EngineError('unknown_symbol', `unknown symbol ${input.symbol}`);
    const now = this.clock.now();
    const algo: AlgoOrder = {
      id: this.nextId('algo'),
      exchange: acct.exchange,
      apiKey: acct.apiKey,
      clientId: input.clientId,
      symbol: input.symbol,
      side: input.side,
      posSide: input.posSide,
      slTrigger: input.slTrigger,
      tpTrigger: input.tpTrigger,
      orderPrice: input.orderPrice,
      qty: input.qty,
      closePosition: input.closePosition,
      reduceOnly: input.reduceOnly,
      marginMode: input.marginMode ?? this.settings(acct, input.symbol).marginMode,
      status: 'new',
      createdAt: now,
      updatedAt: now,
      triggeredAt: undefined,
      triggeredBy: undefined,
      triggerPriceHit: undefined,
      resultOrderId: undefined,
      failReason: undefined,
      arrivalMs: input.arrivalMs,
      meta: input.meta ?? {},
    };
    acct.algoOrders.push(algo);
    this.orderLog.push({ kind: 'algo', exchange: acct.exchange, apiKey: acct.apiKey, ref: algo });
    this.changed({ kind: 'algo', acct, algo });
    acct.updatedAt = now;
    return algo;
  }

  cancelAlgo(acct: Account, algo: AlgoOrder): boolean {
    if (algo.status !== 'new') return false;
    algo.status = 'canceled';
    algo.updatedAt = this.clock.now();
    acct.updatedAt = algo.updatedAt;
    this.changed({ kind: 'algo', acct, algo });
    return true;
  }

  openAlgos(acct: Account, symbol?: string): AlgoOrder[] {
    return acct.algoOrders.filter((a) => a.status === 'new' && (!symbol || a.symbol === symbol));
  }

  private trigger(acct: Account, algo: AlgoOrder, leg: 'sl' | 'tp', price: number): void {
    const now = this.clock.now();
    algo.triggeredAt = now;
    algo.triggeredBy = leg;
    algo.triggerPriceHit = price;
    algo.updatedAt = now;
    try {
      const order = this.placeOrder(acct, {
        symbol: algo.symbol,
        side: algo.side,
        posSide: algo.posSide,
        type: algo.orderPrice === undefined ? 'market' : 'limit',
        price: algo.orderPrice,
        qty: algo.qty ?? 0,
        reduceOnly: algo.reduceOnly || algo.closePosition,
        closePosition: algo.closePosition,
        clientId: algo.clientId,
        marginMode: algo.marginMode,
        overClose: 'clamp',
        source: 'algo',
        algoId: algo.id,
        meta: { ...algo.meta, triggeredBy: leg },
      });
      algo.status = 'triggered';
      algo.resultOrderId = order.id;
    } catch (e) {
      algo.status = 'expired';
      algo.failReason = e instanceof Error ? e.message : String(e);
    }
    this.changed({ kind: 'algo', acct, algo });
  }

  // ── prices ──────────────────────────────────────────────────────────────

  /** Sets a price and runs conditional triggers and resting limit orders for that symbol. */
  setPrice(symbol: string, price: number): void {
    const market = marketById(symbol);
    if (!market) throw new EngineError('unknown_symbol', `unknown symbol ${symbol}`);
    const p = round(price, market.pricePrecision);
    this.prices.set(symbol, p);
    for (const acct of this.accounts.values()) {
      for (const algo of acct.algoOrders) {
        if (algo.status !== 'new' || algo.symbol !== symbol) continue;
        const trail = algo.meta['trailing'] as Trailing | undefined;
        if (trail) {
          if (trailingHit(trail, algo.side, p)) this.trigger(acct, algo, 'sl', p);
          continue;
        }
        const leg = this.triggerHit(algo, p);
        if (leg) this.trigger(acct, algo, leg, p);
      }
      for (const o of acct.orders) {
        if ((o.status !== 'new' && o.status !== 'partially_filled') || o.symbol !== symbol) continue;
        if (o.price === undefined) continue;
        if (o.side === 'buy' ? p <= o.price : p >= o.price) this.fill(acct, o, o.price, true);
      }
    }
    for (const fn of this.listeners) fn(symbol, p);
  }

  /** Deterministic seeded random walk over all (or some) symbols. Returns the final prices. */
  walk(steps: number, seed = 1, symbols?: string[], volatility?: number): Record<string, number> {
    const list: MarketSpec[] = symbols?.length ? MARKETS.filter((m) => symbols.includes(m.id)) : [...MARKETS];
    const out: Record<string, number> = {};
    for (const m of list) {
      const rand = prng(hash32(`${seed}:${m.id}`));
      const sigma = volatility ?? m.hourlyVol / Math.sqrt(60); // ~1-minute moves
      for (let i = 0; i < steps; i++) {
        const next = this.price(m.id) * (1 + sigma * gaussian(rand));
        this.setPrice(m.id, Math.max(next, m.tickSize));
      }
      out[m.id] = this.price(m.id);
    }
    return out;
  }
}

/**
 * A trailing stop's state (meta.trailing): the callback is `rate` (a fraction of the best price) or, when set,
 * `spread` (a price distance: OKX callbackSpread); extreme is the best price since activation.
 */
export interface Trailing {
  rate: number;
  spread?: number | undefined;
  activation: number | undefined;
  activated: boolean;
  extreme: number;
}

/** Where an activated trailing stop triggers now (sell: below the highest price, buy: above the lowest). */
export function trailingTrigger(t: Trailing, side: Side): number {
  const distance = t.spread ?? t.extreme * t.rate;
  return side === 'sell' ? t.extreme - distance : t.extreme + distance;
}

/**
 * Trailing stop on a price tick: inactive until the price reaches the activation price (sell: ≥, buy: ≤), then
 * follows the highest (sell) / lowest (buy) price and triggers when the price has come back by the callback.
 */
function trailingHit(t: Trailing, side: Side, price: number): boolean {
  if (!t.activated) {
    if (t.activation !== undefined && (side === 'sell' ? price < t.activation : price > t.activation))
      return false;
    t.activated = true;
    t.extreme = price;
  }
  t.extreme = side === 'sell' ? Math.max(t.extreme, price) : Math.min(t.extreme, price);
  const at = trailingTrigger(t, side);
  return side === 'sell' ? price <= at : price >= at;
}

export { preciseNow };
