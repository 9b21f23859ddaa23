import { createHash } from 'node:crypto';
import type { Exchange } from '@tradehook/contracts';
import { CredentialsOpener, credentialsAad } from '@tradehook/credentials';
import {
  findAccount,
  listAccounts,
  openOrderSymbols,
  tradedSymbolsByAccount,
  type AccountRecord,
  type pg,
} from '@tradehook/db';
import {
  createExchangeAdapter,
  LiveAccountState,
  priceFeedFor,
  withRequestPriority,
  type BudgetConfig,
  type CcxtExchangeAdapter,
  type MarginMode,
  type OrderInfo,
  type PositionMode,
  type PriceFeed,
  type TradeInfo,
} from '@tradehook/exchange';

/** How far back the symbols the price feed follows from the start are taken (startStreams). */
const TRACK_TRADED_DAYS = 30;

/** The account settings execution needs (never the credentials). */
export interface AccountSettings {
  exchange: Exchange;
  accountId: string;
  testnet: boolean;
  marginMode: MarginMode;
  defaultLeverage: number | null;
  allowAdd: boolean;
  autoSlTp: boolean;
  /** null: the installation's UNPROTECTED_POLICY. */
  unprotectedPolicy: 'flatten' | 'keep' | null;
}

/**
 * One account's live handle: its ccxt adapter, its live state from the private streams (when on), and what
 * we learnt about it (position mode, leverage set).
 */
export class AccountContext {
  private positionModeValue: Promise<PositionMode> | undefined;
  /**
   * `symbol|marginMode|side` → the leverage this process set, or the exchange pushed since (skip the call when
   * unchanged).
   */
  readonly leverageSet = new Map<string, number>();
  readonly marginModeSet = new Set<string>();
  private ordersInFlight = 0;
  private lastOrderAnsweredAt = 0;
  /** When this process last sent a market order of the account (it changes the position). */
  private lastMarketOrderSentAt = 0;
  private liveStarted: Promise<void> | undefined;

  constructor(
    public settings: AccountSettings,
    readonly adapter: CcxtExchangeAdapter,
    readonly fingerprint: string,
    /** Positions, balance and open orders from the private streams; null when LIVE_STATE is off. */
    readonly live: LiveAccountState | null = null,
    readonly prices: PriceFeed | null = null,
  ) {}

  positionMode(): Promise<PositionMode> {
    if (!this.positionModeValue) {
      const detecting = this.adapter.fetchPositionMode();
      detecting.catch(() => (this.positionModeValue = undefined));
      this.positionModeValue = detecting;
    }
    return this.positionModeValue;
  }

  /** The mode a key check just read (same endpoint): the first alert need not ask again. */
  knowPositionMode(mode: PositionMode): void {
    this.positionModeValue ??= Promise.resolve(mode);
  }

  /**
   * Fetches ahead what the first job would otherwise fetch on its hot path: markets, position mode, (Binance)
   * leverage brackets.
   */
  async prepare(): Promise<void> {
    // Not the streams: every account's first REST snapshot at once would hold the pre-warm behind the budget
    // for minutes. They start after it, a few at a time (registry.startStreams), or on the account's first use.
    await Promise.all([this.adapter.prepareAccount(), this.positionMode()]);
  }

  /**
   * Starts following the private streams (once). Its snapshot is never ahead of an order: `status` when this
   * account needs it now (its first alert, its registration), `sync` for the bulk start of every account after
   * the pre-warm — so one account's start does not queue behind a hundred others' (their later reconciles are
   * background either way, account-state.ts).
   */
  startLive(priority: 'status' | 'sync' = 'status'): Promise<void> {
    if (!this.live) return Promise.resolve();
    this.liveStarted ??= withRequestPriority(priority, () => this.live!.start());
    this.liveStarted.catch(() => (this.liveStarted = undefined));
    return this.liveStarted;
  }

  /** Runs one order request, remembering that this account's state is changing (see liveStateUnusable). */
  async ownOrder<T>(send: () => Promise<T>, movesPosition = false): Promise<T> {
    if (movesPosition) this.lastMarketOrderSentAt = Date.now();
    this.ordersInFlight += 1;
    try {
      return await send();
    } finally {
      this.ordersInFlight -= 1;
      this.lastOrderAnsweredAt = Date.now();
    }
  }

  /**
   * Null when the stream state may decide: streams open and reconciled, known current within `maxAgeMs`, and
   * no order of ours in flight or answered within `graceMs` (its fill may not have reached the stream yet),
   * and a position update seen since the account's last market order sent by any worker (`accountOrderAt`:
   * another replica's order reaches this replica's stream on its own schedule). Otherwise why not, for the
   * signal's trace.
   */
  liveStateUnusable(
    maxAgeMs: number,
    graceMs: number,
    now = Date.now(),
    accountOrderAt?: number,
  ): string | null {
    if (!this.live) return 'live state is off (LIVE_STATE=false)';
    void this.startLive();
    const f = this.live.freshness(now);
    if (f.confirmedAt === undefined) return 'the account streams are not connected yet';
    if (!f.streaming) return `the account stream is down (${f.lastError ?? 'reconnecting'})`;
    if (f.ageMs > maxAgeMs) return `the stream state is ${Math.round(f.ageMs)} ms old (bound ${maxAgeMs} ms)`;
    if (this.ordersInFlight > 0) return 'another order of this account is in flight';
    // The fill of our last market order is pushed as a position update: until one arrived after it was sent,
    // the stream may not show its effect (a slow stream, a loaded host).
    if (this.live.positionsUpdatedAt() < Math.max(this.lastMarketOrderSentAt, accountOrderAt ?? 0))
      return 'the stream has shown no position update since this account’s last market order';
    const since = now - this.lastOrderAnsweredAt;
    if (since < graceMs) return `an order of this account was answered ${since} ms ago (grace ${graceMs} ms)`;
    return null;
  }

  /** The venue feed's price if received within `maxAgeMs`; else undefined, and the feed starts following it. */
  livePrice(symbol: string, maxAgeMs: number, now = Date.now()): number | undefined {
    if (!this.prices) return undefined;
    const p = this.prices.latest(symbol, maxAgeMs, now);
    if (!p) this.prices.watch(symbol);
    return p?.price;
  }

  /**
   * The exchange pushed `symbol`'s leverage (set by anyone: another replica, the exchange's app): an entry that
   * wants another value sets it again rather than trusting what this process set before.
   */
  leverageChanged(symbol: string, leverage: number): void {
    for (const key of this.leverageSet.keys())
      if (key.startsWith(`${symbol}|`)) this.leverageSet.set(key, leverage);
  }

  /**
   * Reads back the leverage of every symbol this process set (OKX `GET /api/v5/account/leverage-info`, at the
   * budget's background priority): one changed in the exchange's app is then set again by the next entry.
   */
  async refreshLeverage(): Promise<void> {
    const pairs = new Map<string, { symbol: string; marginMode: MarginMode }>();
    for (const key of this.leverageSet.keys()) {
      const [symbol, marginMode] = key.split('|') as [string, MarginMode];
      pairs.set(`${symbol}|${marginMode}`, { symbol, marginMode });
    }
    for (const { symbol, marginMode } of pairs.values()) {
      const at = await withRequestPriority('sync', () => this.adapter.fetchLeverage(symbol, marginMode));
      for (const side of ['long', 'short', 'net'] as const) {
        const key = `${symbol}|${marginMode}|${side}`;
        const value = side === 'short' ? at.short : at.long;
        if (this.leverageSet.has(key) && value !== null) this.leverageSet.set(key, value);
      }
    }
  }

  /** After a position-side error: the user may have switched modes on the exchange. */
  forgetExchangeState(): void {
    this.positionModeValue = undefined;
    this.leverageSet.clear();
    this.marginModeSet.clear();
  }

  async close(): Promise<void> {
    await this.live?.stop().catch(() => undefined);
  }
}

export interface AccountRegistryOptions {
  exchange: Exchange;
  opener: CredentialsOpener;
  apiUrl: string | undefined;
  timeoutMs: number;
  enableRateLimit: boolean;
  recvWindowMs?: number | undefined;
  settleMs?: number | undefined;
  /** Egress IP and coordination of the shared request budget (absent: one budget per process). */
  egressIp?: string | undefined;
  budget?: BudgetConfig | undefined;
  /** Live state from the exchange's streams (absent: REST reads before every decision). */
  live?: { keepAliveMs: number; reconcileIntervalMs: number } | undefined;
  /** A pushed order of an account left the book filled or triggered (fills.ts records it at once). */
  onOrderDone?: ((account: AccountContext, order: OrderInfo) => void) | undefined;
  /** A pushed order still on the book filled further (a resting limit entry). */
  onOrderPartFill?: ((account: AccountContext, order: OrderInfo) => void) | undefined;
  /** Fills the stream pushed (fill-sync.ts records ours). */
  onTrades?: ((account: AccountContext, trades: TradeInfo[]) => void) | undefined;
}

/**
 * ccxt instances per account, credentials decrypted in memory only. The row is read for every job (one indexed
 * lookup): settings are always current, and a changed credentials box (key rotation, re-registration)
 * replaces the cached instance at once.
 */
export class AccountRegistry {
  private readonly cache = new Map<string, AccountContext>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: AccountRegistryOptions,
  ) {}

  async get(accountId: string): Promise<AccountContext | null> {
    const row = await findAccount(this.pool, this.options.exchange, accountId);
    if (!row) {
      this.evict(accountId);
      return null;
    }
    return this.contextFor(row);
  }

  /** The cached context when its credentials box is unchanged, else a new one (replacing the cached). */
  private contextFor(row: AccountRecord): AccountContext {
    const settings: AccountSettings = {
      exchange: this.options.exchange,
      accountId: row.accountId,
      testnet: row.testnet,
      marginMode: row.marginMode === 'isolated' ? 'isolated' : 'cross',
      defaultLeverage: row.defaultLeverage,
      allowAdd: row.allowAdd,
      autoSlTp: row.autoSlTp,
      unprotectedPolicy:
        row.unprotectedPolicy === 'keep' || row.unprotectedPolicy === 'flatten'
          ? row.unprotectedPolicy
          : null,
    };
    const fingerprint = createHash('sha256')
      .update(row.credentials)
      .update(`|${row.credentialsKeyId}|${row.testnet}`)
      .digest('hex');
    const cached = this.cache.get(row.accountId);
    if (cached && cached.fingerprint === fingerprint) {
      cached.settings = settings;
      return cached;
    }
    void cached?.close();
    const live = this.options.live;
    const creds = this.options.opener.open(
      row.credentials,
      credentialsAad(this.options.exchange, row.accountId),
    );
    const adapter = createExchangeAdapter({
      exchange: this.options.exchange,
      credentials: { apiKey: creds.apiKey, apiSecret: creds.apiSecret, passphrase: creds.passphrase },
      testnet: row.testnet,
      apiUrl: this.options.apiUrl,
      timeoutMs: this.options.timeoutMs,
      enableRateLimit: this.options.enableRateLimit,
      recvWindowMs: this.options.recvWindowMs,
      settleMs: this.options.settleMs,
      egressIp: this.options.egressIp,
      budget: this.options.budget,
      // One clock per venue, synced at first client and periodically, shared by every account.
      adjustForTimeDifference: true,
      streaming: live !== undefined,
      keepAliveMs: live?.keepAliveMs,
    });
    const onOrderDone = this.options.onOrderDone;
    const onOrderPartFill = this.options.onOrderPartFill;
    const onTrades = this.options.onTrades;
    const ctx: AccountContext = new AccountContext(
      settings,
      adapter,
      fingerprint,
      live &&
        new LiveAccountState({
          adapter,
          reconcileIntervalMs: () => this.reconcileIntervalMs(adapter),
          onOrderDone: onOrderDone && ((order) => onOrderDone(ctx, order)),
          snapshotSymbols: () => openOrderSymbols(this.pool, this.options.exchange, row.accountId),
          onOrderPartFill: onOrderPartFill && ((order) => onOrderPartFill(ctx, order)),
          onTrades: onTrades && ((trades) => onTrades(ctx, trades)),
          onLeverage: (symbol, leverage) => ctx.leverageChanged(symbol, leverage),
          // A leverage pushed while the stream was down is unknown: the next entry per symbol sets it again.
          onStreamGap: () => ctx.leverageSet.clear(),
          // OKX pushes no leverage without a position: read back what this process set, at each reconcile.
          onReconciled:
            this.options.exchange === 'okx'
              ? () => void ctx.refreshLeverage().catch(() => undefined) // the next reconcile reads again
              : undefined,
        }),
      live &&
        priceFeedFor({
          exchange: this.options.exchange,
          testnet: row.testnet,
          apiUrl: this.options.apiUrl,
          timeoutMs: this.options.timeoutMs,
          keepAliveMs: live.keepAliveMs,
        }),
    );
    this.cache.set(row.accountId, ctx);
    return ctx;
  }

  /** The context this process holds for an account, without reading its row (null when none is cached). */
  cached(accountId: string): AccountContext | null {
    return this.cache.get(accountId) ?? null;
  }

  /**
   * Builds and prepares the contexts of every account of this exchange, `concurrency` at a time, so an
   * account's first job does not pay for the ccxt client and its first exchange reads. Best effort: a failure
   * is reported through `onError` and leaves that account to the lazy path of `get()`.
   */
  async prewarm(
    concurrency: number,
    onError: (accountId: string, err: unknown) => void,
    stopped: () => boolean = () => false,
  ): Promise<{ accounts: number; prepared: number }> {
    const rows = await listAccounts(this.pool, this.options.exchange);
    let next = 0;
    let prepared = 0;
    const lane = async () => {
      while (next < rows.length && !stopped()) {
        const row = rows[next++]!;
        // Yield between accounts: building a ccxt client is tens of ms of synchronous CPU, and jobs go first.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (stopped()) return;
        try {
          await this.contextFor(row).prepare();
          prepared++;
        } catch (err) {
          onError(row.accountId, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, rows.length)) }, lane));
    return { accounts: rows.length, prepared };
  }

  /**
   * The slow reconcile's interval for one account: LIVE_STATE_RECONCILE_MS, lengthened so that the accounts this
   * process follows, spaced by the venue's `reconcileSpacingMs`, stay within their share of the IP's budget
   * (Binance: 100 accounts → 150 s; the streams are the source, the reconcile only the net under them).
   */
  private reconcileIntervalMs(adapter: CcxtExchangeAdapter): number {
    const base = this.options.live?.reconcileIntervalMs ?? 60_000;
    return Math.max(base, adapter.reconcileSpacingMs * this.cache.size);
  }

  /**
   * After the pre-warm: starts the private streams of every prepared account, `concurrency` at a time, each
   * waited for until its first REST snapshot is in (background reads: fill sync's share, never ahead of an
   * order). Spread this way, 100 accounts' snapshots fit the background share of the minute, and an alert
   * after that decides from the stream; an alert that comes first starts its own account's streams.
   */
  async startStreams(concurrency: number, stopped: () => boolean = () => false): Promise<number> {
    const contexts = [...this.cache.values()];
    // The price feed follows what the accounts traded lately, so their first alert after a restart finds a
    // streamed price instead of reading one (a symbol never traded is followed from its first alert).
    const since = new Date(Date.now() - TRACK_TRADED_DAYS * 86_400_000);
    const traded = await tradedSymbolsByAccount(this.pool, this.options.exchange, since).catch(
      () => new Map<string, string[]>(),
    );
    for (const ctx of contexts)
      for (const symbol of traded.get(ctx.settings.accountId) ?? []) ctx.prices?.watch(symbol);
    let next = 0;
    let started = 0;
    const lane = async () => {
      while (next < contexts.length && !stopped()) {
        const ctx = contexts[next++]!;
        await ctx.startLive('sync').then(
          () => started++,
          () => undefined, // retried on the account's first use
        );
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, contexts.length)) }, lane));
    return started;
  }

  /**
   * Loads the venue's markets (a public call) before the first signal needs them; accounts created later share
   * them (the adapter caches markets per venue).
   */
  async warmUp(testnet: boolean): Promise<void> {
    const adapter = createExchangeAdapter({
      exchange: this.options.exchange,
      credentials: { apiKey: 'warm-up', apiSecret: 'warm-up', passphrase: 'warm-up' },
      testnet,
      apiUrl: this.options.apiUrl,
      timeoutMs: this.options.timeoutMs,
      enableRateLimit: this.options.enableRateLimit,
      recvWindowMs: this.options.recvWindowMs,
      settleMs: this.options.settleMs,
      egressIp: this.options.egressIp,
      budget: this.options.budget,
      // One clock per venue, synced at first client and periodically, shared by every account.
      adjustForTimeDifference: true,
    });
    await adapter.loadMarkets();
  }

  evict(accountId: string): void {
    void this.cache.get(accountId)?.close();
    this.cache.delete(accountId);
  }

  /** Closes every account's streams (shutdown). */
  async close(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
