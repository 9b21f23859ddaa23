import { createHash } from 'node:crypto';
import type { Exchange } from '@tradehook/contracts';
import { CredentialsOpener, credentialsAad } from '@tradehook/credentials';
import { findAccount, listAccounts, type AccountRecord, type pg } from '@tradehook/db';
import {
  createExchangeAdapter,
  type BudgetConfig,
  type ExchangeAdapter,
  type MarginMode,
  type PositionMode,
} from '@tradehook/exchange';

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

/** One account's live handle: its ccxt adapter plus what we learnt about it (position mode, leverage set). */
export class AccountContext {
  private positionModeValue: Promise<PositionMode> | undefined;
  /** `symbol|marginMode` → leverage last set by this process (skip the call when unchanged). */
  readonly leverageSet = new Map<string, number>();
  readonly marginModeSet = new Set<string>();

  constructor(
    public settings: AccountSettings,
    readonly adapter: ExchangeAdapter,
    readonly fingerprint: string,
  ) {}

  positionMode(): Promise<PositionMode> {
    if (!this.positionModeValue) {
      const detecting = this.adapter.fetchPositionMode();
      detecting.catch(() => (this.positionModeValue = undefined));
      this.positionModeValue = detecting;
    }
    return this.positionModeValue;
  }

  /**
   * Fetches ahead what the first job would otherwise fetch on its hot path: markets, position mode and (Binance)
   * leverage brackets.
   */
  async prepare(): Promise<void> {
    await Promise.all([this.adapter.prepareAccount(), this.positionMode()]);
  }

  /** After a position-side error: the user may have switched modes on the exchange. */
  forgetExchangeState(): void {
    this.positionModeValue = undefined;
    this.leverageSet.clear();
    this.marginModeSet.clear();
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
      this.cache.delete(accountId);
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
    });
    const ctx = new AccountContext(settings, adapter, fingerprint);
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
    this.cache.delete(accountId);
  }
}
