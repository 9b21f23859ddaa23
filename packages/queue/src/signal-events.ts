import type { Redis } from 'ioredis';

/**
 * "A signal reached a terminal state" notifications, so `?wait=<ms>` on the webhook can answer as soon as
 * the outcome is recorded. Pub/sub is only a wake-up call: Postgres holds the outcome, and a waiter that
 * misses a message still finds the outcome when its wait ends.
 */
export function signalDoneChannel(prefix: string): string {
  return `${prefix}:signal-done`;
}

/**
 * "A signal's row changed" (recorded, or reached a terminal state), for live views such as the dashboard.
 * Carries only the id: the listener reads the row from Postgres, so nothing else ever travels here.
 */
export function signalChangedChannel(prefix: string): string {
  return `${prefix}:signal-changed`;
}

/** Called by ingress once a signal is recorded and queued. */
export async function publishSignalChanged(redis: Redis, prefix: string, signalId: string): Promise<void> {
  await redis.publish(signalChangedChannel(prefix), signalId);
}

/**
 * Called by risk (rejections) and workers (executed/ignored/failed) after the outcome is committed; a
 * terminal state is a change too, so live views hear of it on the changed channel.
 */
export async function publishSignalDone(redis: Redis, prefix: string, signalId: string): Promise<void> {
  await redis
    .multi()
    .publish(signalDoneChannel(prefix), signalId)
    .publish(signalChangedChannel(prefix), signalId)
    .exec();
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

/**
 * Subscriber of the changed channel for live views: one connection per process, subscribed only while
 * someone listens. Listeners get signal ids; `stop()` tells them to end (shutdown).
 */
export class SignalChangeFeed {
  private readonly listeners = new Set<(signalId: string) => void>();
  private readonly stopHandlers = new Set<() => void>();
  private subscribed: Promise<unknown> | undefined;

  constructor(
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {
    this.subscriber.on('message', (channel: string, signalId: string) => {
      if (channel !== signalChangedChannel(this.prefix)) return;
      for (const listener of this.listeners) listener(signalId);
    });
  }

  /** Adds a listener (subscribing on the first); returns its removal. */
  async listen(listener: (signalId: string) => void, onStop: () => void): Promise<() => void> {
    this.listeners.add(listener);
    this.stopHandlers.add(onStop);
    this.subscribed ??= this.subscriber.subscribe(signalChangedChannel(this.prefix));
    await this.subscribed;
    return () => {
      this.listeners.delete(listener);
      this.stopHandlers.delete(onStop);
    };
  }

  async stop(): Promise<void> {
    for (const onStop of this.stopHandlers) onStop();
    this.listeners.clear();
    this.stopHandlers.clear();
    this.subscriber.disconnect();
  }
}
