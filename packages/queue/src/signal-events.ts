import type { Redis } from 'ioredis';

/**
 * "A signal reached a terminal state" notifications, so `?wait=<ms>` on the webhook can answer as soon as
 * the outcome is recorded. Pub/sub is only a wake-up call: Postgres holds the outcome, and a waiter that
 * misses a message still finds the outcome when its wait ends.
 */
export function signalDoneChannel(prefix: string): string {
  return `${prefix}:signal-done`;
}

/** Called by risk (rejections) and workers (executed/ignored/failed) after the outcome is committed. */
export async function publishSignalDone(redis: Redis, prefix: string, signalId: string): Promise<void> {
  await redis.publish(signalDoneChannel(prefix), signalId);
}

/** One subscriber connection per process; resolves waiters by signal id. */
export class SignalDoneListener {
  private readonly waiters = new Map<string, Set<() => void>>();
  private started: Promise<unknown> | undefined;

  constructor(
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {}

  start(): Promise<unknown> {
    this.started ??= (async () => {
      this.subscriber.on('message', (_channel: string, signalId: string) => {
        const set = this.waiters.get(signalId);
        if (!set) return;
        this.waiters.delete(signalId);
        for (const wake of set) wake();
      });
      await this.subscriber.subscribe(signalDoneChannel(this.prefix));
    })();
    return this.started;
  }

  /** Resolves true when notified, false when `timeoutMs` passes first. */
  wait(signalId: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const set = this.waiters.get(signalId) ?? new Set();
      this.waiters.set(signalId, set);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(signalId);
        resolve(false);
      }, timeoutMs);
      set.add(wake);
    });
  }

  async stop(): Promise<void> {
    for (const set of this.waiters.values()) for (const wake of set) wake();
    this.waiters.clear();
    this.subscriber.disconnect();
  }
}
