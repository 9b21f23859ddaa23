/**
 * Live account state: positions, USDT balance and open orders (plain and conditional) of one account, kept
 * current from the exchange's private streams through ccxt pro (`watchOrders`, `watchPositions`,
 * `watchBalance`; OKX conditional orders on their own `orders-algo` channel), and reconciled by REST at
 * start, after every reconnect and on a slow timer. `freshness()` says until when the state is known
 * current, so a decision can refuse state older than its bound and read REST instead.
 *
 * Known current means: every private connection is open and was reconciled since it (re)connected, and
 * the last sign of life on it (an event, or the pong to ccxt's keep-alive ping every `keepAliveMs`) is
 * that recent. A lagging stream is caught by that bound; a REST snapshot confirms the state as of its time.
 * After a (re)connect the reconcile waits until every private connection has been open `settleMs`, so
 * the re-login and re-subscription are processed before its snapshot is taken; events that slip past a
 * slower re-subscription are caught by the slow timer.
 */
import type * as ccxt from 'ccxt';
import type { CcxtExchangeAdapter } from '../adapter.ts';
import type { Balance, OrderInfo, PositionInfo, TradeInfo } from '../types.ts';
import { withRequestPriority } from '../budget-hook.ts';
import { PrivateConnections } from './private-connections.ts';
import { followBinanceLeverage } from './binance-config-events.ts';
import { asProClient, type ProClient } from './pro-client.ts';
import {
  isOpenStatus,
  positionKey,
  toBalance,
  toOrder,
  toPosition,
  toStreamTrade,
} from './stream-convert.ts';

export interface LiveAccountStateOptions {
  /** An adapter whose client was created with `streaming: true` (ccxt pro). */
  adapter: CcxtExchangeAdapter;
  /**
   * Slow REST reconcile while streaming (default 60 s); a function is asked again before each wait (the worker
   * lengthens it with the number of accounts sharing the IP's budget).
   */
  reconcileIntervalMs?: number | (() => number) | undefined;
  /** First wait after a stream error; doubles up to 15 s (default 250 ms). */
  retryDelayMs?: number | undefined;
  /** How long a (re)opened connection is given to log in and subscribe before the reconcile (default 250 ms). */
  settleMs?: number | undefined;
  /**
   * Called for every pushed order that left the book filled or triggered (SL/TP hits, liquidations, manual
   * closes, our own fills), once per order: the stream is the primary path for recording exchange-side fills.
   */
  onOrderDone?: ((order: OrderInfo) => void) | undefined;
  /**
   * Symbols with orders of ours open (the worker's order rows). With it, the REST snapshot reads open orders
   * only for these and the symbols with a position, where that is cheaper (the adapter's
   * `openOrdersPerSymbolUpTo`: Binance weighs the all-symbols form 40, a symbol 1).
   */
  snapshotSymbols?: (() => Promise<string[]>) | undefined;
  /** Called when a pushed order still open on the book filled more than before (a resting limit's partial fill). */
  onOrderPartFill?: ((order: OrderInfo) => void) | undefined;
  /**
   * Called with the fills the stream pushed (ccxt pro `watchMyTrades`; on both venues the order events carry
   * them, no other subscription on Binance): fills are recorded from here, the REST history reconciles.
   */
  onTrades?: ((trades: TradeInfo[]) => void) | undefined;
  /**
   * Called when the exchange pushes a symbol's new leverage, whoever set it (Binance ACCOUNT_CONFIG_UPDATE;
   * OKX pushes none without a position): the worker's "already set" cache follows it.
   */
  onLeverage?: ((symbol: string, leverage: number) => void) | undefined;
  /**
   * Called after the reconcile that follows a stream error: what only the stream tells (a leverage pushed
   * meanwhile) may have been missed.
   */
  onStreamGap?: (() => void) | undefined;
  /** Called after every REST reconcile that succeeded (start, reconnect, slow timer). */
  onReconciled?: (() => void) | undefined;
}

export interface Freshness {
  /** Every private stream is open and was reconciled since it (re)connected. */
  streaming: boolean;
  /** The state is known current up to this time (ms since epoch); undefined before the first reconcile. */
  confirmedAt: number | undefined;
  /** now − confirmedAt; Infinity before the first reconcile. */
  ageMs: number;
  lastReconcileAt: number | undefined;
  lastEventAt: number | undefined;
  /** Stream errors seen (each one is followed by a reconnect and a reconcile). */
  streamErrors: number;
  lastError: string | undefined;
}

interface Watch {
  name: string;
  run: () => Promise<unknown>;
  apply: (result: unknown) => void;
  /** Re-applied over a REST snapshot taken meanwhile (state, not events: fills are not). */
  state: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
/** How long start() waits for the private connections to open before its snapshot. */
const START_SETTLE_TIMEOUT_MS = 5_000;

export class LiveAccountState {
  private readonly adapter: CcxtExchangeAdapter;
  private readonly client: ccxt.Exchange;
  private readonly pro: ProClient;
  private readonly connections: PrivateConnections;
  private readonly reconcileIntervalMs: () => number;
  private readonly retryDelayMs: number;
  private readonly settleMs: number;
  private readonly watches: Watch[];
  private positionsByKey = new Map<string, PositionInfo>();
  private ordersById = new Map<string, OrderInfo>();
  private usdt: Balance | undefined;
  private stopped = false;
  private started: Promise<void> | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  /** start()'s first reconcile is done: from then on a stream error arms the recovery timer. */
  private startedUp = false;
  private slowTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  /** Events seen while a REST snapshot is in flight, re-applied over it. */
  private replay: Array<() => void> | undefined;
  /** Set by a stream error; cleared by the reconcile that follows the reconnect. */
  private needsReconcile = false;
  private heardAtDown: number | undefined;
  /** A failed recovery reconcile waits before the next try (1 s, doubling to 30 s): no REST hammering. */
  private recoverNotBefore = 0;
  private recoverBackoffMs = 1000;
  private lastReconcileAt: number | undefined;
  private lastEventAt: number | undefined;
  /** When positions were last applied (a pushed update, or the start of a REST snapshot). */
  private positionsSeenAt = 0;
  private streamErrors = 0;
  private lastError: string | undefined;
  private readonly onOrderDone: ((order: OrderInfo) => void) | undefined;
  private readonly snapshotSymbols: (() => Promise<string[]>) | undefined;
  private readonly onOrderPartFill: ((order: OrderInfo) => void) | undefined;
  private readonly onStreamGap: (() => void) | undefined;
  private readonly onReconciled: (() => void) | undefined;
  /** Orders already reported done (bounded): ccxt pro re-delivers its cache on every watchOrders answer. */
  private readonly reportedDone = new Set<string>();
  /** Plain orders pushed leaving the book, by client id (bounded), and who waits for one (settledOrder). */
  private readonly settled = new Map<string, OrderInfo>();
  private readonly settleWaiters = new Map<string, Array<(o: OrderInfo) => void>>();
  /** The raw pushed conditional orders by client id (OKX attached protection is read from the raw legs). */
  private readonly conditionalRaw = new Map<string, ccxt.Order>();

  constructor(opts: LiveAccountStateOptions) {
    this.adapter = opts.adapter;
    this.client = opts.adapter.client;
    const interval = opts.reconcileIntervalMs ?? 60_000;
    this.reconcileIntervalMs = typeof interval === 'number' ? () => interval : interval;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
    this.settleMs = opts.settleMs ?? 250;
    this.onOrderDone = opts.onOrderDone;
    this.snapshotSymbols = opts.snapshotSymbols;
    this.onOrderPartFill = opts.onOrderPartFill;
    this.onStreamGap = opts.onStreamGap;
    this.onReconciled = opts.onReconciled;
    const pro = asProClient(this.client);
    this.pro = pro;
    // The adapter settles its market orders from this stream's pushes (CcxtExchangeAdapter.orderStream).
    opts.adapter.orderStream = this;
    this.connections = new PrivateConnections(this.client, this.adapter.exchange);
    if (opts.onLeverage && this.adapter.exchange === 'binance')
      followBinanceLeverage(this.client, opts.onLeverage);
    this.watches = [
      {
        name: 'orders',
        run: () => pro.watchOrders(),
        apply: (r) => this.applyOrders(r, false),
        state: true,
      },
      {
        name: 'positions',
        run: () => pro.watchPositions(),
        apply: (r) => this.applyPositions(r),
        state: true,
      },
      { name: 'balance', run: () => pro.watchBalance(), apply: (r) => this.applyBalance(r), state: true },
    ];
    if (this.adapter.exchange === 'okx') {
      this.watches.push({
        name: 'orders-algo',
        run: () => pro.watchOrders(undefined, undefined, undefined, { trigger: true }),
        apply: (r) => this.applyOrders(r, true),
        state: true,
      });
    }
    const onTrades = opts.onTrades;
    if (onTrades) {
      this.watches.push({
        name: 'trades',
        run: () => pro.watchMyTrades(),
        apply: (r) => {
          const trades = (r as ccxt.Trade[]).flatMap((t) => toStreamTrade(this.adapter, t) ?? []);
          if (trades.length > 0) onTrades(trades);
        },
        state: false,
      });
    }
  }

  /** Loads markets, reconciles by REST, then follows the streams. Resolves after the first reconcile. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.adapter.loadMarkets();
      // Subscribe first, then one snapshot once every connection is open and settled: that snapshot follows
      // the subscriptions (see the header), so it is also the reconcile a fresh connection needs — one snapshot
      // at start, not two (on Binance ~12 of the IP's weight per account). Connections that do not settle in
      // time: the snapshot is taken anyway, and recover() reconciles again once they are open.
      this.needsReconcile = true;
      for (const w of this.watches) void this.follow(w);
      const until = Date.now() + START_SETTLE_TIMEOUT_MS;
      while (!this.stopped && !this.connectionsSettled() && Date.now() < until) await sleep(25);
      try {
        await this.reconcile();
      } finally {
        // A first snapshot that failed (REST unreachable a moment) is retried by the recovery timer, with
        // backoff, until the state is known: start() reports the failure, the state still heals.
        this.scheduleSlowReconcile();
        this.startedUp = true;
        if (this.needsReconcile) this.armRecovery();
      }
    })();
    return this.started;
  }

  /**
   * While a stream is down (or was not settled at start): reconcile as soon as its connection is open again,
   * checked every 50 ms. Armed only then — a timer per account running all the time cost a worker with 200
   * accounts 4000 wake-ups a second.
   */
  private armRecovery(): void {
    if (this.recoveryTimer || this.stopped) return;
    this.recoveryTimer = setInterval(() => {
      if (!this.needsReconcile && !this.reconciling) {
        clearInterval(this.recoveryTimer);
        this.recoveryTimer = undefined;
        return;
      }
      void this.recover();
    }, 50);
    this.recoveryTimer.unref();
  }

  /** The slow reconcile, each wait asked anew and jittered ±10 % so many accounts do not reconcile together. */
  private scheduleSlowReconcile(): void {
    if (this.stopped) return;
    const ms = this.reconcileIntervalMs() * (0.9 + Math.random() * 0.2);
    this.slowTimer = setTimeout(() => {
      // Background whatever class started the stream (the timer keeps the context it was created in).
      void withRequestPriority('sync', () => this.reconcile())
        .catch(() => undefined)
        .finally(() => this.scheduleSlowReconcile());
    }, ms);
    this.slowTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.slowTimer) clearTimeout(this.slowTimer);
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    await this.pro.close();
  }

  positions(): PositionInfo[] {
    return [...this.positionsByKey.values()];
  }

  balance(): Balance | undefined {
    return this.usdt;
  }

  /** Open orders, plain and conditional. */
  openOrders(symbol?: string): OrderInfo[] {
    return [...this.ordersById.values()].filter((o) => !symbol || o.symbol === symbol);
  }

  freshness(now = Date.now()): Freshness {
    const streaming = this.lastReconcileAt !== undefined && !this.needsReconcile && this.connectionsOpen();
    let confirmedAt: number | undefined;
    if (this.lastReconcileAt !== undefined) {
      confirmedAt = streaming
        ? Math.max(this.lastReconcileAt, this.heardAt())
        : Math.max(this.lastReconcileAt, this.heardAtDown ?? 0);
    }
    return {
      streaming,
      confirmedAt,
      ageMs: confirmedAt === undefined ? Infinity : Math.max(0, now - confirmedAt),
      lastReconcileAt: this.lastReconcileAt,
      lastEventAt: this.lastEventAt,
      streamErrors: this.streamErrors,
      lastError: this.lastError,
    };
  }

  /** True when the state is known current within `maxAgeMs`; otherwise read REST for this decision. */
  isFresh(maxAgeMs: number, now = Date.now()): boolean {
    return this.freshness(now).ageMs <= maxAgeMs;
  }

  /** REST snapshot of positions, balance and open orders; events pushed meanwhile are re-applied over it. */
  reconcile(): Promise<void> {
    this.reconciling ??= (async () => {
      const wasDown = this.needsReconcile;
      const startedAt = Date.now();
      this.replay = [];
      try {
        const positionsRead = this.adapter.fetchPositions();
        positionsRead.catch(() => undefined); // awaited below
        const [positions, balance, { orders, symbols }] = await Promise.all([
          positionsRead,
          this.adapter.fetchBalance(),
          this.snapshotOrders(positionsRead),
        ]);
        this.positionsByKey = new Map(positions.map((p) => [positionKey(p.symbol, p.side), p]));
        this.positionsSeenAt = Math.max(this.positionsSeenAt, startedAt);
        this.usdt = balance;
        // Per symbol: the orders of the symbols not read stay as the stream last said.
        const kept = symbols ? [...this.ordersById.values()].filter((o) => !symbols.has(o.symbol)) : [];
        this.ordersById = new Map([...kept, ...orders].map((o) => [orderKey(o), o]));
        // A pushed conditional order the snapshot no longer lists left while the stream was not looking.
        for (const [cid, raw] of this.conditionalRaw)
          if (!this.ordersById.has(`c:${String(raw.id)}`)) this.conditionalRaw.delete(cid);
        for (const again of this.replay) again();
        this.lastReconcileAt = startedAt;
        // A reconnect is healed only if the connections were open before the snapshot was taken.
        if (wasDown && this.connectionsSettled(startedAt)) this.needsReconcile = false;
        if (wasDown && this.startedUp) this.onStreamGap?.(); // not the first snapshot: nothing was missed yet
        this.onReconciled?.();
      } finally {
        this.replay = undefined;
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }

  /**
   * Open orders for the snapshot: all symbols, or (where cheaper) only those with a position or with orders of
   * ours open. An order on another symbol (placed by hand on a market we never traded) is then not in the
   * snapshot; it is still followed from the stream once it changes. Acceptable: the state's open orders are
   * read only for our own SL/TP's symbol (the fill sync's sibling cancel), and every cancel after a close reads
   * the exchange by REST (docs/decisions/0021-live-state-before-orders.md).
   */
  private async snapshotOrders(
    positionsRead: Promise<PositionInfo[]>,
  ): Promise<{ orders: OrderInfo[]; symbols?: Set<string> }> {
    const limit = this.adapter.openOrdersPerSymbolUpTo;
    if (!this.snapshotSymbols || limit <= 0) return { orders: await this.adapter.fetchOpenOrders() };
    const [ours, positions] = await Promise.all([this.snapshotSymbols(), positionsRead]);
    const symbols = new Set([...ours, ...positions.map((p) => p.symbol)]);
    if (symbols.size > limit) return { orders: await this.adapter.fetchOpenOrders() };
    const lists = await Promise.all([...symbols].map((s) => this.adapter.fetchOpenOrders(s)));
    return { orders: lists.flat(), symbols };
  }

  private async recover(): Promise<void> {
    if (!this.needsReconcile || this.reconciling || Date.now() < this.recoverNotBefore) return;
    if (!this.connectionsSettled()) return;
    try {
      await this.reconcile();
      this.recoverBackoffMs = 1000;
    } catch (e) {
      this.lastError = `reconcile: ${e instanceof Error ? e.message : String(e)}`;
      this.recoverNotBefore = Date.now() + this.recoverBackoffMs;
      this.recoverBackoffMs = Math.min(this.recoverBackoffMs * 2, 30_000);
    }
  }

  private async follow(w: Watch): Promise<void> {
    let wait = this.retryDelayMs;
    while (!this.stopped) {
      try {
        const result = await w.run();
        if (this.stopped) return;
        this.lastEventAt = Date.now();
        w.apply(result);
        if (w.state) this.replay?.push(() => w.apply(result));
        wait = this.retryDelayMs;
      } catch (e) {
        if (this.stopped) return;
        if (!this.needsReconcile) this.heardAtDown = this.heardAt();
        this.needsReconcile = true;
        if (this.startedUp) this.armRecovery();
        this.streamErrors += 1;
        this.lastError = `${w.name}: ${e instanceof Error ? e.message : String(e)}`;
        await sleep(wait);
        wait = Math.min(wait * 2, 15_000);
      }
    }
  }

  /** See OrderStream.settledOrder (adapter/base.ts). */
  settledOrder(clientOrderId: string, waitMs: number): Promise<OrderInfo | undefined> {
    if (!this.freshness().streaming) return Promise.resolve(undefined);
    const known = this.settled.get(clientOrderId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const list = this.settleWaiters.get(clientOrderId) ?? [];
      const done = (o: OrderInfo | undefined) => {
        clearTimeout(timer);
        const rest = (this.settleWaiters.get(clientOrderId) ?? []).filter((w) => w !== done);
        if (rest.length) this.settleWaiters.set(clientOrderId, rest);
        else this.settleWaiters.delete(clientOrderId);
        resolve(o);
      };
      const timer = setTimeout(() => done(undefined), waitMs);
      list.push(done);
      this.settleWaiters.set(clientOrderId, list);
    });
  }

  /** An open conditional order with this client id as pushed, raw (ccxt's order with the exchange's `info`). */
  pushedConditional(clientOrderId: string): ccxt.Order | undefined {
    return this.freshness().streaming ? this.conditionalRaw.get(clientOrderId) : undefined;
  }

  private noteSettled(o: OrderInfo): void {
    if (!o.clientOrderId) return;
    this.settled.set(o.clientOrderId, o);
    if (this.settled.size > 1000) this.settled.delete(this.settled.keys().next().value!);
    for (const w of this.settleWaiters.get(o.clientOrderId) ?? []) w(o);
  }

  private applyOrders(result: unknown, fromAlgoChannel: boolean): void {
    for (const raw of result as ccxt.Order[]) {
      const o = toOrder(this.adapter, raw, fromAlgoChannel);
      if (o.conditional && o.clientOrderId) {
        if (isOpenStatus(o.status)) this.conditionalRaw.set(o.clientOrderId, raw);
        else this.conditionalRaw.delete(o.clientOrderId);
      }
      if (!o.conditional && !isOpenStatus(o.status)) this.noteSettled(o);
      if (isOpenStatus(o.status)) {
        const before = this.ordersById.get(orderKey(o))?.filled ?? 0;
        this.ordersById.set(orderKey(o), o);
        // ccxt pro re-delivers its cache: only a grown fill is news.
        if (!o.conditional && (o.filled ?? 0) > before) this.onOrderPartFill?.(o);
      } else {
        this.ordersById.delete(orderKey(o));
        if (isDoneStatus(o) && !this.reportedDone.has(orderKey(o))) {
          this.reportedDone.add(orderKey(o));
          if (this.reportedDone.size > 5000)
            this.reportedDone.delete(this.reportedDone.values().next().value!);
          this.onOrderDone?.(o);
        }
      }
    }
  }

  /** When positions were last applied: a pushed update, or the start of the REST snapshot that set them. */
  positionsUpdatedAt(): number {
    return this.positionsSeenAt;
  }

  private applyPositions(result: unknown): void {
    this.positionsSeenAt = Date.now();
    const rows = result as ccxt.Position[];
    const hasLeg = (symbol: string) =>
      rows.some((r) => r.symbol === symbol && (r.side === 'long' || r.side === 'short'));
    for (const raw of rows) {
      const side = raw.side as string | undefined;
      if (side !== 'long' && side !== 'short') {
        // Binance ACCOUNT_UPDATE row `ps` BOTH at `pa` 0 (ccxt: side "both"). Alone in the push it is a
        // one-way position gone flat; beside a LONG/SHORT row it is hedge mode's always-empty BOTH row.
        if (raw.symbol && Number(raw.contracts ?? 0) === 0 && !hasLeg(raw.symbol)) {
          this.positionsByKey.delete(positionKey(raw.symbol, 'long'));
          this.positionsByKey.delete(positionKey(raw.symbol, 'short'));
        }
        continue;
      }
      const p = toPosition(this.adapter, raw);
      if (!p) continue;
      if (p.position.contracts > 0) this.positionsByKey.set(p.key, p.position);
      else this.positionsByKey.delete(p.key);
    }
  }

  private applyBalance(result: unknown): void {
    this.usdt = toBalance(result as ccxt.Balances, this.usdt);
  }

  private connectionsOpen(): boolean {
    return this.connections.open();
  }

  private connectionsSettled(at = Date.now()): boolean {
    return this.connections.settled(this.settleMs, at);
  }

  /** Last sign of life on every private connection, or the last event if later. */
  private heardAt(): number {
    return Math.max(this.connections.heardAt(), this.lastEventAt ?? 0);
  }
}

/** Left the book by executing: filled (plain) or triggered (conditional), not cancelled or refused. */
function isDoneStatus(o: OrderInfo): boolean {
  if (['canceled', 'cancelled', 'expired', 'rejected'].includes(o.status)) return false;
  return o.conditional || (o.filled ?? 0) > 0;
}

function orderKey(o: OrderInfo): string {
  return `${o.conditional ? 'c' : 'p'}:${o.id}`;
}
