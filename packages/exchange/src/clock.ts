import type * as ccxt from 'ccxt';

/**
 * One clock offset per venue (and base URL), shared by every account client: synced when the first client
 * is created and then periodically, so fill sync and account requests sign with a corrected timestamp
 * too, not only an order job after -1021 (Binance) / 50102 (OKX).
 */
export class VenueClock {
  offsetMs = 0;
  private syncing: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly source: ccxt.Exchange) {}

  /** ccxt's loadTimeDifference semantics (local − server), one request in flight for all clients. */
  sync(): Promise<number> {
    this.syncing ??= (async () => {
      try {
        const server = await this.source.fetchTime();
        const local = this.source.milliseconds();
        if (server !== undefined) this.offsetMs = local - server;
        return this.offsetMs;
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  startPeriodic(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sync().catch(() => undefined), intervalMs);
    this.timer.unref();
  }
}

const clocks = new Map<string, VenueClock>();
const RESYNC_MS = 5 * 60_000;

/** The venue's shared offset (local − server, ms) once a client attached it; 0 before. */
export function venueClockOffsetMs(key: string): number {
  return clocks.get(key)?.offsetMs ?? 0;
}

/** Makes `ex` sign with the venue's shared offset; its loadTimeDifference re-syncs the shared clock. */
export function attachSharedClock(ex: ccxt.Exchange, key: string): VenueClock {
  let clock = clocks.get(key);
  if (!clock) {
    clock = new VenueClock(ex);
    clocks.set(key, clock);
    void clock.sync().catch(() => undefined);
    clock.startPeriodic(RESYNC_MS);
  }
  const shared = clock;
  ex.options['adjustForTimeDifference'] = false;
  ex.nonce = () => ex.milliseconds() - shared.offsetMs;
  ex.loadTimeDifference = () => shared.sync();
  return shared;
}
