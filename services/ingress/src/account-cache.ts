import type { Exchange } from '@tradehook/contracts';
import { findAccountAuth, type AccountAuth, type pg } from '@tradehook/db';

interface Entry {
  value: AccountAuth | null;
  expiresAt: number;
}

/**
 * The webhook hot path's view of accounts (existence + webhook secret hash). Short TTL so a register or
 * delete on another replica is seen within seconds; this process invalidates its own entries at once.
 * Unknown accounts are cached too, so a flood of bad account ids does not become a flood of queries.
 */
export class AccountCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries = 10_000;

  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlMs: number,
  ) {}

  private static key(exchange: Exchange, accountId: string): string {
    return `${exchange}:${accountId}`;
  }

  async get(exchange: Exchange, accountId: string): Promise<AccountAuth | null> {
    const key = AccountCache.key(exchange, accountId);
    const hit = this.entries.get(key);
    const now = Date.now();
    if (hit && hit.expiresAt > now) return hit.value;
    const value = await findAccountAuth(this.pool, exchange, accountId);
    if (this.ttlMs > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    }
    return value;
  }

  invalidate(exchange: Exchange, accountId: string): void {
    this.entries.delete(AccountCache.key(exchange, accountId));
  }
}
