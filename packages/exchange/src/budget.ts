/**
 * One request budget per (venue, egress IP) shared by every account client in the process.
 * Binance limits REQUEST_WEIGHT per IP (2400/min, USDⓈ-M "General Info → Limits"), not per key, so
 * per-client throttles under-count as soon as there are many accounts. Weight-aware rolling window,
 * priority classes (exits first, fill sync last), corrected from X-MBX-USED-WEIGHT-1M, and a hard
 * pause for everyone on the IP after 429/418 until Retry-After has passed.
 */
export type Priority = 'exit' | 'order' | 'status' | 'sync';
const RANK: Record<Priority, number> = { exit: 0, order: 1, status: 2, sync: 3 };

export interface BudgetOptions {
  /** Weight allowed per window. */
  capacity: number;
  windowMs: number;
  /** Fraction of capacity background classes ('status', 'sync') may use; the rest is kept for orders/exits. */
  backgroundShare?: number;
  now?: () => number;
}

interface Waiter {
  weight: number;
  rank: number;
  seq: number;
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

  constructor(private readonly opts: BudgetOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Resolves when `weight` may be spent at `priority`; higher classes always go first. */
  acquire(weight: number, priority: Priority): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ weight, rank: RANK[priority], seq: this.seq++, resolve });
      this.queue.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
      this.pump();
    });
  }

  /** The exchange's own counter for the current window (X-MBX-USED-WEIGHT-1M). */
  observeUsed(used: number): void {
    this.prune();
    this.external = Math.max(0, used - this.used());
  }

  /** 429/418: nobody on this IP sends until the exchange's Retry-After has passed. */
  pause(retryAfterMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
    this.pump();
  }

  /** Weight counted in the current window (ours plus what the exchange reported beyond it). */
  usedWeight(): number {
    this.prune();
    return this.used() + this.external;
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
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (;;) {
      const head = this.queue[0];
      if (!head) return;
      const now = this.now();
      if (now < this.pausedUntil) return this.wake(this.pausedUntil - now);
      this.prune();
      const limit =
        head.rank >= RANK.status
          ? this.opts.capacity * (this.opts.backgroundShare ?? 0.6)
          : this.opts.capacity;
      if (this.used() + this.external + head.weight > limit) {
        const oldest = this.spent[0];
        return this.wake(oldest ? oldest.at + this.opts.windowMs - now + 1 : this.opts.windowMs);
      }
      this.queue.shift();
      this.spent.push({ at: now, weight: head.weight });
      head.resolve();
    }
  }

  private wake(ms: number): void {
    this.timer = setTimeout(() => this.pump(), Math.max(1, ms));
    this.timer.unref?.();
  }
}

const budgets = new Map<string, RequestBudget>();

/** The process-wide budget for one venue and egress IP (same key → same object). */
export function sharedBudget(venue: string, egressIp: string, opts: BudgetOptions): RequestBudget {
  const key = `${venue}|${egressIp}`;
  let b = budgets.get(key);
  if (!b) {
    b = new RequestBudget(opts);
    budgets.set(key, b);
  }
  return b;
}
