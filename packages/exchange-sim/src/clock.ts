/**
 * The simulator's exchange time. Everything time-based in the simulator (trade, order and income times,
 * serverTime / public time, the signature timestamp checks, funding) reads this clock, so a test can move
 * the exchange days ahead (`POST /_sim/clock`) without waiting. Real time keeps running underneath; only an
 * offset is added. A client sees what it would see against a real exchange whose clock is ahead of its own:
 * signed requests fail (-1021 / 50102) until it syncs its time difference (packages/exchange/src/clock.ts).
 */
export class SimClock {
  private offsetMs = 0;
  private listeners: Array<(fromMs: number, toMs: number) => void> = [];

  now(): number {
    return Date.now() + this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** Moves exchange time forward (never back: an exchange's clock does not run backwards). */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('advance_ms must be a number >= 0');
    const from = this.now();
    this.offsetMs += Math.round(ms);
    const to = this.now();
    for (const fn of this.listeners) fn(from, to);
    return to;
  }

  /** Called after every advance with the exchange time before and after (e.g. to book funding). */
  onAdvance(fn: (fromMs: number, toMs: number) => void): void {
    this.listeners.push(fn);
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
