/**
 * One request budget per (venue, egress IP) shared by every account client in the process.
 * Binance limits REQUEST_WEIGHT per IP (2400/min, USDⓈ-M "General Info → Limits"), not per key, so
 * per-client throttles under-count as soon as there are many accounts. Weight-aware rolling window,
 * priority classes (exits first, fill sync last), corrected from X-MBX-USED-WEIGHT-1M, and a hard
 * pause for everyone on the IP after 429/418 until Retry-After has passed.
 * Replicas on one host coordinate through a `SharedWindow` (Redis, budget-redis.ts): the local window is
 * the fast path, the shared one decides; when it cannot be reached, the process falls back to its
 * `fallbackShare` of the capacity (docs/decisions/0020-request-budget-shared-through-redis.md).
 */
export type Priority = 'exit' | 'order' | 'status' | 'sync';
const RANK: Record<Priority, number> = { exit: 0, order: 1, status: 2, sync: 3 };
const PRIORITIES: Priority[] = ['exit', 'order', 'status', 'sync'];

/** The host-wide window replicas share; rejects when it cannot be reached. */
export interface SharedWindow {
  /** Spends `weight` if the window's total stays ≤ `limit`; otherwise says how long to wait. */
  reserve(weight: number, limit: number): Promise<{ granted: true } | { granted: false; waitMs: number }>;
  /** Spends `weight` without a limit check unless the host is paused; resolves the pause left (ms) or 0. */
  spend(weight: number): Promise<number>;
  /** The exchange's own counter: the window holds at least this much. */
  observe(used: number): Promise<void>;
  /** Nobody on the host sends for `ms`. */
  pause(ms: number): Promise<void>;
}

export interface BudgetOptions {
  /** Weight allowed per window. */
  capacity: number;
  windowMs: number;
  /** Fraction of capacity fill sync and other background reads ('sync') may use (default 0.6). */
  backgroundShare?: number;
  /**
   * Fraction 'status' (account status, key checks: someone is waiting for the answer) may use (default 0.75):
   * above the background share, so a minute of fill sync and stream snapshots never starves a key check.
   */
  statusShare?: number;
  /** Fraction entries ('order') may use (default 0.85): a burst of entries never takes the exits' last share. */
  orderShare?: number;
  now?: () => number;
  shared?: SharedWindow | undefined;
  /** Fraction of capacity this process may use alone while the shared window is unreachable (default 0.5). */
  fallbackShare?: number;
  /** How long to stay on the fallback after the shared window failed, ms (default 5000). */
  fallbackMs?: number;
  /** Told each time the shared window failed and the fallback share applies (metrics). */
  onFallback?: (reason: string) => void;
}

export interface WaitStats {
  /** Waits that ended (granted). */
  count: number;
  totalMs: number;
  maxMs: number;
  /** Waiters still queued, and how long the oldest of them has waited so far. */
  queued: number;
  oldestQueuedMs: number;
}

interface Waiter {
  weight: number;
  rank: number;
  seq: number;
  enqueuedAt: number;
  resolve: () => void;
}

export class RequestBudget {
  private readonly spent: { at: number; weight: number }[] = [];
  private readonly queue: Waiter[] = [];
  private seq = 0;
  private pausedUntil = 0;
  /** Weight the exchange reports as already used (other processes/replicas), beyond our own count. */
  private external = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private pumping = false;
  private pumpAgain = false;
  /** Until when the shared window is considered unreachable. */
  private degradedUntil = 0;
  private readonly waits = new Map<Priority, { count: number; totalMs: number; maxMs: number }>();

  constructor(private readonly opts: BudgetOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Resolves when `weight` may be spent at `priority`; higher classes always go first. */
  acquire(weight: number, priority: Priority): Promise<void> {
    return new Promise((resolve) => {
      const now = this.now();
      const done = () => {
        this.recordWait(priority, this.now() - now);
        resolve();
      };
      this.queue.push({ weight, rank: RANK[priority], seq: this.seq++, enqueuedAt: now, resolve: done });
      this.queue.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
      this.pump();
    });
  }

  /** The exchange's own counter for the current window (X-MBX-USED-WEIGHT-1M). */
  observeUsed(used: number): void {
    this.prune();
    this.external = Math.max(0, used - this.used());
    this.opts.shared?.observe(used).catch((e: unknown) => this.degrade(e));
  }

  /** 429/418: nobody on this IP sends until the exchange's Retry-After has passed. */
  pause(retryAfterMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
    this.opts.shared?.pause(retryAfterMs).catch((e: unknown) => this.degrade(e));
    this.pump();
  }

  /** Weight counted in the current window (ours plus what the exchange reported beyond it). */
  usedWeight(): number {
    this.prune();
    return this.used() + this.external;
  }

  /** Weight this budget itself granted in the current window (without what the exchange reported). */
  spentWeight(): number {
    this.prune();
    return this.used();
  }

  /** Time spent queued in this budget, per priority class, since the process started. */
  waitStats(): Record<Priority, WaitStats> {
    const now = this.now();
    const out = {} as Record<Priority, WaitStats>;
    for (const p of PRIORITIES) {
      const queued = this.queue.filter((w) => w.rank === RANK[p]);
      out[p] = {
        ...(this.waits.get(p) ?? { count: 0, totalMs: 0, maxMs: 0 }),
        queued: queued.length,
        oldestQueuedMs: queued.reduce((m, w) => Math.max(m, now - w.enqueuedAt), 0),
      };
    }
    return out;
  }

  private recordWait(p: Priority, ms: number): void {
    const w = this.waits.get(p) ?? { count: 0, totalMs: 0, maxMs: 0 };
    w.count += 1;
    w.totalMs += ms;
    w.maxMs = Math.max(w.maxMs, ms);
    this.waits.set(p, w);
  }

  private degrade(err: unknown): void {
    this.degradedUntil = this.now() + (this.opts.fallbackMs ?? 5_000);
    this.opts.onFallback?.(err instanceof Error ? err.message : String(err));
  }

  private used(): number {
    return this.spent.reduce((s, e) => s + e.weight, 0);
  }

  private prune(): void {
    const cutoff = this.now() - this.opts.windowMs;
    while (this.spent.length > 0 && this.spent[0]!.at <= cutoff) this.spent.shift();
    if (this.spent.length === 0) this.external = 0;
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.drain().finally(() => {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.pump();
      }
    });
  }

  /** Grants waiters in rank order while the local and then the shared window allow it. */
  private async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (;;) {
      this.pumpAgain = false;
      const head = this.queue[0];
      if (!head) return;
      const now = this.now();
      if (now < this.pausedUntil) return this.wake(this.pausedUntil - now);
      this.prune();
      const shared = this.opts.shared && now >= this.degradedUntil ? this.opts.shared : undefined;
      // Shared window configured but unreachable: fewer requests, never more (this process's share only) —
      // except exits, which keep the whole capacity: a slow Redis must not hold a stop-out behind the window
      // (docs/decisions/0004); the exchange's own used-weight header still bounds them (observeUsed).
      const capacity =
        this.opts.shared && !shared && head.rank !== RANK.exit
          ? this.opts.capacity * (this.opts.fallbackShare ?? 0.5)
          : this.opts.capacity;
      const share =
        head.rank === RANK.sync
          ? (this.opts.backgroundShare ?? 0.6)
          : head.rank === RANK.status
            ? (this.opts.statusShare ?? 0.75)
            : head.rank === RANK.order
              ? (this.opts.orderShare ?? 0.85)
              : 1;
      const limit = capacity * share;
      if (this.used() + this.external + head.weight > limit) {
        const oldest = this.spent[0];
        return this.wake(oldest ? oldest.at + this.opts.windowMs - now + 1 : this.opts.windowMs);
      }
      if (shared && head.rank === RANK.exit) {
        // Exits do not queue behind other classes' round trips: the local check above and the headroom every
        // other class leaves bound them; the shared window records what they spend, and only a host-wide
        // pause (another replica's 429/418) holds them.
        this.queue.splice(this.queue.indexOf(head), 1);
        this.spent.push({ at: now, weight: head.weight });
        withTimeout(shared.spend(head.weight), 500).then(
          (pausedMs) => {
            if (pausedMs <= 0) return head.resolve();
            this.pausedUntil = Math.max(this.pausedUntil, this.now() + pausedMs);
            this.queue.push(head);
            this.queue.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
            this.pump();
          },
          (e: unknown) => {
            this.degrade(e);
            head.resolve();
          },
        );
        continue;
      }
      if (shared) {
        let answer: Awaited<ReturnType<SharedWindow['reserve']>>;
        try {
          answer = await withTimeout(shared.reserve(head.weight, limit), 500);
        } catch (e) {
          this.degrade(e);
          continue;
        }
        if (!answer.granted) return this.wake(answer.waitMs);
      }
      // A higher class may have been queued while the shared window answered: remove this waiter by identity.
      this.queue.splice(this.queue.indexOf(head), 1);
      this.spent.push({ at: this.now(), weight: head.weight });
      head.resolve();
    }
  }

  private wake(ms: number): void {
    this.timer = setTimeout(() => this.pump(), Math.max(1, ms));
    this.timer.unref?.();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`shared budget did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

const budgets = new Map<string, RequestBudget>();

/**
 * The budget for one venue and egress IP (same key → same object). `scope` separates budgets that coordinate
 * through different shared windows (e.g. two worker services in one test process, each with its own Redis
 * connection); the default is one per process.
 */
export function sharedBudget(
  venue: string,
  egressIp: string,
  opts: BudgetOptions,
  scope = 'process',
): RequestBudget {
  const key = `${scope}|${venue}|${egressIp}`;
  let b = budgets.get(key);
  if (!b) {
    b = new RequestBudget(opts);
    budgets.set(key, b);
  }
  return b;
}

/** Every budget of this process, for metrics and tests: `scope|venue|ip` → budget. */
export function allBudgets(): ReadonlyMap<string, RequestBudget> {
  return budgets;
}
