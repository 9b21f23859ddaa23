import type { Exchange, NotificationEvent } from '@tradehook/contracts';
import { streamConnected } from '@tradehook/metrics/pipeline';

/**
 * "Down for longer than N s" for one component: the first report of being down starts the clock, an alert goes
 * out once the clock passes `downAfterMs`, and the return is told only if the outage was. Short blips stay quiet.
 */
export class OutageTracker {
  private downSince: number | undefined;
  private alerted = false;

  constructor(
    private readonly component: string,
    private readonly downAfterMs: number,
    private readonly emit: (event: NotificationEvent) => void,
    private readonly where: { exchange?: Exchange; accountId?: string } = {},
  ) {}

  /** Call on every observation (a poll, a stream's open/close); `now` in epoch ms. */
  observe(up: boolean, now = Date.now()): void {
    if (up) {
      if (this.alerted && this.downSince !== undefined)
        this.emit(this.event(false, (now - this.downSince) / 1000, now));
      this.downSince = undefined;
      this.alerted = false;
      return;
    }
    this.downSince ??= now;
    if (!this.alerted && this.downAfterMs > 0 && now - this.downSince >= this.downAfterMs) {
      this.alerted = true;
      this.emit(this.event(true, (now - this.downSince) / 1000, now));
    }
  }

  private event(down: boolean, seconds: number, at: number): NotificationEvent {
    return { kind: 'component_down', at, ...this.where, component: this.component, down, seconds };
  }
}

/**
 * For whatever keeps an exchange stream open (user data, market data): sets the `tradehook_stream_connected`
 * gauge and reports the stream down once it has stayed disconnected for `downAfterMs`. Call `connected(bool)` on
 * open/close, and `tick()` periodically while disconnected so the alert fires even without further events.
 */
export class StreamWatch {
  private readonly outage: OutageTracker;
  private up = false;

  constructor(
    private readonly labels: { venue: Exchange; account: string; stream: string },
    downAfterMs: number,
    emit: (event: NotificationEvent) => void,
  ) {
    this.outage = new OutageTracker(
      `stream ${labels.venue}:${labels.account} ${labels.stream}`,
      downAfterMs,
      emit,
      { exchange: labels.venue, accountId: labels.account },
    );
  }

  connected(up: boolean, now = Date.now()): void {
    this.up = up;
    streamConnected.set(this.labels, up ? 1 : 0);
    this.outage.observe(up, now);
  }

  tick(now = Date.now()): void {
    if (!this.up) this.outage.observe(false, now);
  }
}
