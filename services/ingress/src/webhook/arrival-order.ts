/**
 * Arrival order per (account, symbol) key inside one ingress process. The sequence number is taken by the
 * INSERT, after the account lookup and the dedup round trips; without this queue, two alerts of one key a few
 * milliseconds apart could reach the INSERT in the opposite order (a slower lookup for the first) and be
 * executed reversed. A request takes its turn synchronously when it arrives and holds it until its signal is
 * recorded, so its successor's INSERT follows.
 *
 * A turn waits at most `maxWaitMs` for its predecessor: a request stuck on a dead database must not hold the
 * key for ever (the predecessor then answers 5xx and TradingView resends it anyway).
 */
export class ArrivalOrder {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly maxWaitMs = 5_000) {}

  /** Call on arrival, before any await; resolves with the release function once it is this request's turn. */
  enter(key: string): Promise<() => void> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, mine);
    void mine.then(() => {
      if (this.tails.get(key) === mine) this.tails.delete(key);
    });
    if (!previous) return Promise.resolve(release);
    let timer: NodeJS.Timeout | undefined;
    const capped = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.maxWaitMs)));
    return Promise.race([previous, capped]).then(() => {
      clearTimeout(timer);
      return release;
    });
  }

  /** Keys with a request in flight (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
