/**
 * `break_even_pct`: once the price has moved that % in favour of an entry's fill price, its stop moves to
 * break-even (the fill price ± entry and exit fees), the same replacement as after a take-profit (move-stop.ts)
 * (docs/decisions/0026-several-take-profits-and-break-even.md). Prices come from the venue's public stream the
 * worker already follows, so watching costs no request per tick in steady state; a price that reaches the level
 * is confirmed by the REST ticker before the stop moves. Each tick reads the candidates from Postgres; a Redis lock per tick lets one replica act.
 */
import type { Redis } from 'ioredis';
import { clientOrderId, type Exchange } from '@tradehook/contracts';
import {
  findBreakEvenCandidates,
  recordSignalFollowUp,
  type BreakEvenCandidate,
  type pg,
} from '@tradehook/db';
import { exchangeErrorMessage, withRequestPriority, type PositionSide } from '@tradehook/exchange';
import type { Logger } from '@tradehook/logger';
import type { AccountRegistry, AccountContext } from '../accounts.ts';
import { breakEvenLevel, moveStops, stopStillAhead } from './move-stop.ts';
import { Periodic } from './periodic.ts';

/** The client-id part of a stop moved to break-even by a price move (after-take-profit uses 11–16). */
const BREAK_EVEN_PART = 30;

export interface BreakEvenWatchDeps {
  exchange: Exchange;
  pool: pg.Pool;
  redis: Redis;
  queuePrefix: string;
  registry: AccountRegistry;
  logger: Logger;
  /** BREAK_EVEN_WATCH_MS; 0 = off. */
  intervalMs: number;
  feePct: number;
  priceMaxAgeMs: number;
}

export class BreakEvenWatch {
  private readonly rounds: Periodic;

  constructor(private readonly deps: BreakEvenWatchDeps) {
    this.rounds = new Periodic(
      deps.intervalMs,
      () => this.tick(),
      (err: unknown) => deps.logger.warn('break-even watch failed', { error: String(err) }),
    );
  }

  start(): void {
    this.rounds.start();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One look at every waiting stop; returns how many were moved. */
  async tick(): Promise<number> {
    const { deps } = this;
    const key = `${deps.queuePrefix}:break-even:${deps.exchange}`;
    const ttl = Math.max(200, Math.floor(deps.intervalMs * 0.9));
    if ((await deps.redis.set(key, String(process.pid), 'PX', ttl, 'NX')) !== 'OK') return 0;
    let moved = 0;
    for (const c of await findBreakEvenCandidates(deps.pool, deps.exchange)) {
      try {
        const account = await deps.registry.get(c.accountId);
        if (account && (await this.check(account, c))) moved++;
      } catch (err) {
        deps.logger.warn('break-even move failed', {
          signalId: c.stop.signalId,
          symbol: c.stop.symbol,
          error: exchangeErrorMessage(err),
        });
      }
    }
    return moved;
  }

  private async check(account: AccountContext, c: BreakEvenCandidate): Promise<boolean> {
    const { stop } = c;
    const symbol = stop.symbol;
    const side: PositionSide =
      (stop.positionSide as PositionSide | null) ?? (stop.side === 'sell' ? 'long' : 'short');
    const trigger = c.entryPrice * (1 + ((side === 'long' ? 1 : -1) * c.pct) / 100);
    const reached = (p: number) => (side === 'long' ? p >= trigger : p <= trigger);
    const streamed = account.livePrice(symbol, this.deps.priceMaxAgeMs);
    if (streamed !== undefined && !reached(streamed)) return false;
    // Reached on the stream (or no stream price): confirmed by the exchange's ticker before the stop moves — a
    // stream price can be a moment old, and a stop moved early cannot be taken back.
    // Without a stream price the ticker is a background read (it runs every tick); a confirmation is an exit's.
    const priority = streamed === undefined ? 'sync' : 'exit';
    const price = await withRequestPriority(priority, () => account.adapter.fetchPrice(symbol));
    if (!reached(price)) return false;
    // One mover per stop even when a tick outlasts its lock (another replica's tick may see it too).
    const lock = `${this.deps.queuePrefix}:break-even:${this.deps.exchange}:${stop.id}`;
    if ((await this.deps.redis.set(lock, String(process.pid), 'PX', 60_000, 'NX')) !== 'OK') return false;
    return withRequestPriority('exit', () => this.move(account, c, side, price, trigger));
  }

  private async move(
    account: AccountContext,
    c: BreakEvenCandidate,
    side: PositionSide,
    price: number,
    trigger: number,
  ): Promise<boolean> {
    const { stop } = c;
    const signalId = stop.signalId!;
    const level = breakEvenLevel(account, stop.symbol, side, c.entryPrice, this.deps.feePct);
    const view: Record<string, unknown> = { trigger, price };
    if (!stopStillAhead(side, level, price)) {
      view['skipped'] = `break-even ${level} is through the market (${price})`;
      await recordSignalFollowUp(this.deps.pool, signalId, 'break_even', view);
      return false;
    }
    const open = await account.adapter.fetchOpenOrders(stop.symbol);
    const openById = new Map(open.map((o) => [o.id, o]));
    if (!openById.has(stop.exchangeOrderId!)) return false; // fired or cancelled: the fill sync settles it
    const amount = stop.amount ?? 0;
    const moved = await moveStops(
      this.deps,
      account,
      signalId,
      [
        {
          old: stop,
          clientOrderId: clientOrderId(signalId, 'stop_loss', BREAK_EVEN_PART),
          amount: { amount, exchangeAmount: stop.exchangeAmount ?? amount },
          trigger: level,
        },
      ],
      openById,
    );
    Object.assign(view, { stop_loss: moved.views, canceled_orders: moved.canceled });
    if (moved.refused) {
      view['note'] = `stop_loss not moved: ${moved.refused}; the earlier stop stays`;
      this.deps.logger.warn('break-even stop refused', { signalId, error: moved.refused });
    } else view['stop'] = level;
    await recordSignalFollowUp(this.deps.pool, signalId, 'break_even', view);
    this.deps.logger.info('stop moved to break-even', { signalId, symbol: stop.symbol, stop: level });
    return moved.refused === undefined;
  }
}
