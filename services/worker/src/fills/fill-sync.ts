import type { Redis } from 'ioredis';
import { LEG_TAGS, PROTECTIVE_TAGS, type Exchange } from '@tradehook/contracts';
import type { OrderRow, pg } from '@tradehook/db';
import * as ccxt from 'ccxt';
import {
  claimFiredProtection,
  findOrdersByClientIds,
  firstOrderTime,
  getSyncCursor,
  insertFills,
  insertFundingPayments,
  lastFillTime,
  saveSyncCursor,
  markOrdersCanceled,
  settleFiredOco,
  settleTriggeredProtection,
  tradedSymbols,
} from '@tradehook/db';
import {
  exchangeErrorMessage,
  withRequestPriority,
  type FundingCursor,
  type OrderInfo,
  type TradeCursor,
  type TradeInfo,
} from '@tradehook/exchange';
import { toFills } from './fill-fees.ts';
import { followTakeProfit } from './after-take-profit.ts';
import { Periodic } from './periodic.ts';
import type { Logger } from '@tradehook/logger';
import type { AccountContext, AccountRegistry } from '../accounts.ts';

/** Our client order ids (packages/contracts/src/orders.ts): `th` + 22 signal chars + leg letter + part. */
export const OUR_CLIENT_ID = /^th([0-9A-Za-z]{22})([A-Z])\d*$/;

/** Funding records can appear shortly after the hour they settle at. */
const FUNDING_POST_DELAY_MS = 120_000;

interface FundingState {
  cursor: FundingCursor | null;
  checkedAt: number;
}

export interface FillSyncDeps {
  exchange: Exchange;
  pool: pg.Pool;
  redis: Redis;
  queuePrefix: string;
  registry: AccountRegistry;
  logger: Logger;
  intervalMs: number;
  lookbackDays: number;
  /** insertFills, or a wrapper that also notifies SL/TP hits (notifications.ts). */
  recordFills?: typeof insertFills;
  /** Resting limit entries, re-checked by REST in each periodic round (the stream's backup). */
  restingEntries?: { reconcile(account: AccountContext): Promise<number> } | undefined;
  /** BREAK_EVEN_FEE_PCT (after-take-profit.ts); default 0.05. */
  breakEvenFeePct?: number | undefined;
}

const TAKE_PROFIT_TAG = LEG_TAGS.take_profit;

/**
 * Pulls the account's trades from the exchange into `fills`, so positions closed on the exchange (SL/TP fired)
 * reach the daily-loss accounting (risk sums fills.realized_pnl − fee). The cursor per (account, symbol) is
 * saved in sync_cursors and pages the venue's history without gaps; re-reading an overlap is harmless
 * (unique trade ids). Every replica runs the timer;
 * a Redis lock per account and round lets one of them do the work.
 */
export class FillSync {
  private readonly rounds: Periodic;

  constructor(private readonly deps: FillSyncDeps) {
    this.rounds = new Periodic(
      deps.intervalMs,
      () => this.syncAll(),
      (err: unknown) => deps.logger.warn('fill sync round failed', { error: String(err) }),
    );
  }

  start(): void {
    this.rounds.start();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One round over every account with recent orders. */
  async syncAll(): Promise<number> {
    const { rows } = await this.deps.pool.query<{ account_id: string }>(
      `SELECT DISTINCT account_id FROM orders
        WHERE exchange = $1::"Exchange"
          AND (created_at >= now() - make_interval(days => $2) OR status = 'open')`,
      [this.deps.exchange, this.deps.lookbackDays],
    );
    let inserted = 0;
    for (const { account_id: accountId } of rows) {
      const lockKey = `${this.deps.queuePrefix}:fill-sync:${this.deps.exchange}:${accountId}`;
      const ttl = Math.max(1_000, Math.floor(this.deps.intervalMs * 0.9));
      const got = await this.deps.redis.set(lockKey, String(process.pid), 'PX', ttl, 'NX');
      if (got !== 'OK') continue;
      try {
        const account = await this.deps.registry.get(accountId);
        if (account) inserted += await this.syncAccount(account);
      } catch (err) {
        this.deps.logger.warn('fill sync failed', { accountId, error: exchangeErrorMessage(err) });
      }
    }
    return inserted;
  }

  async syncAccount(account: AccountContext, symbols?: string[]): Promise<number> {
    const { pool } = this.deps;
    const accountId = account.settings.accountId;
    await account.adapter.loadMarkets();
    const since = new Date(Date.now() - this.deps.lookbackDays * 86_400_000);
    let inserted = 0;
    for (const symbol of symbols ?? (await tradedSymbols(pool, this.deps.exchange, accountId, since))) {
      // One symbol failing (e.g. a fee that cannot be valued yet) must not hold back the others' fills.
      try {
        inserted += await this.withClockResync(account, () => this.syncSymbol(account, symbol));
      } catch (err) {
        this.deps.logger.warn('fill sync failed', { accountId, symbol, error: exchangeErrorMessage(err) });
      }
    }
    // Funding in the periodic round only (not in the recording right after an execution).
    if (!symbols) await this.withClockResync(account, () => this.syncFunding(account));
    if (!symbols) await this.deps.restingEntries?.reconcile(account);
    if (inserted > 0) this.deps.logger.info('fills synced', { accountId, inserted });
    return inserted;
  }

  /**
   * Reads the trades after the saved cursor (every page, trade-history.ts) and saves the new cursor only
   * after the fills are stored, so a crash in between re-reads (ids dedupe) instead of skipping.
   */
  private async syncSymbol(account: AccountContext, symbol: string): Promise<number> {
    const { exchange, pool } = this.deps;
    const accountId = account.settings.accountId;
    const cursor = await getSyncCursor<TradeCursor>(pool, exchange, accountId, symbol, 'trades');
    let startMs = 0;
    if (!cursor) {
      // First read of this symbol: from the newest recorded fill (rows from before cursors existed), else
      // from just before our first order.
      const last = await lastFillTime(pool, exchange, accountId, symbol);
      const first = last ? null : await firstOrderTime(pool, exchange, accountId, symbol);
      startMs = last?.getTime() ?? (first ? first.getTime() - 60_000 : Date.now() - 60_000);
    }
    let inserted = 0;
    let next: TradeCursor | null = cursor;
    for (let round = 0; round < 10; round++) {
      const batch = await account.adapter.fetchTradesAfter(symbol, next, startMs);
      const fills = await toFills(account, batch.trades);
      const added = await (this.deps.recordFills ?? insertFills)(pool, exchange, accountId, fills);
      await saveSyncCursor(pool, exchange, accountId, symbol, 'trades', batch.cursor);
      next = batch.cursor;
      inserted += added;
      // New reducing trades may be an SL or TP that fired on the exchange: its sibling is now an orphan.
      if (added > 0 && batch.trades.some((t) => t.realizedPnl !== 0)) {
        await this.cancelOrphanedProtection(account, symbol);
      }
      if (batch.complete) break;
    }
    return inserted;
  }

  /**
   * Funding payments of the account (all symbols) into funding_payments, for the daily PnL. Both venues
   * settle funding on the hour at most (Binance 1/4/8 h, OKX 1–8 h): one read per account per hour, two
   * minutes after it (exchange time), so replicas and rounds do not spend the request budget on it.
   */
  async syncFunding(account: AccountContext): Promise<number> {
    const { exchange, pool } = this.deps;
    const accountId = account.settings.accountId;
    const saved = await getSyncCursor<FundingState>(pool, exchange, accountId, '*', 'funding');
    const now = account.adapter.exchangeTime();
    const hour = (t: number) => Math.floor((t - FUNDING_POST_DELAY_MS) / 3_600_000);
    if (saved && hour(now) <= hour(saved.checkedAt)) return 0;
    // First read: as far back as the accounts this sync looks at (orders within the lookback).
    const startMs = Date.now() - this.deps.lookbackDays * 86_400_000;
    let cursor = saved?.cursor ?? null;
    let inserted = 0;
    for (let round = 0; round < 10; round++) {
      const batch = await account.adapter.fetchFundingAfter(cursor, startMs);
      inserted += await insertFundingPayments(
        pool,
        exchange,
        accountId,
        batch.payments.map((p) => ({ ...p, paymentId: p.id, time: new Date(p.timestamp) })),
      );
      cursor = batch.cursor;
      if (batch.complete) break;
    }
    await saveSyncCursor(pool, exchange, accountId, '*', 'funding', { cursor, checkedAt: now });
    if (inserted > 0) this.deps.logger.info('funding synced', { accountId, inserted });
    return inserted;
  }

  /**
   * Fills of the market legs our jobs send (entry, exit, flip, flatten) as the stream pushed them
   * (docs/decisions/0028-fills-from-the-stream.md): stored at once, the same rows the REST history makes
   * (unique per symbol and trade id), so the daily loss counts a close within a round trip of its fill and no
   * trade read follows an execution. Everything else — our SL/TP that fired, a liquidation, a manual trade — is
   * read by REST from onStreamOrderDone: that read finds them new, which is what cancels orphans. A fill that
   * cannot be stored now (a fee in another asset not valued yet, PostgreSQL away) is left to the periodic round.
   */
  async onStreamTrades(account: AccountContext, trades: TradeInfo[]): Promise<number> {
    const ours = trades.filter((t) => {
      const leg = OUR_CLIENT_ID.exec(t.clientOrderId ?? '')?.[2];
      return leg !== undefined && !PROTECTIVE_TAGS.includes(leg);
    });
    if (ours.length === 0) return 0;
    const { exchange, pool } = this.deps;
    const accountId = account.settings.accountId;
    try {
      const fills = await toFills(account, ours);
      return await (this.deps.recordFills ?? insertFills)(pool, exchange, accountId, fills);
    } catch (err) {
      this.deps.logger.debug('stream fills not stored; the periodic sync reads them', {
        accountId,
        error: exchangeErrorMessage(err),
      });
      return 0;
    }
  }

  /** Exchange time moved away from ours (-1021 / 50102): re-sync the venue's shared clock and retry once. */
  private async withClockResync<T>(account: AccountContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ccxt.InvalidNonce)) throw err;
      await account.adapter.syncTime();
      return fn();
    }
  }

  /**
   * The stream saw an order leave the book filled or triggered (docs/decisions/0021-live-state-before-orders.md).
   * Our SL, TP or trailing stop: its siblings of the same signal is cancelled at once (one round trip after the event) when
   * the fill covered it, while its trades are read into `fills` in parallel. Anything else that is not our own
   * entry or exit (a liquidation, a manual close): its trades are read now, which also cancels orphans. Our own
   * market legs are recorded by the job that sent them.
   */
  async onStreamOrderDone(account: AccountContext, order: OrderInfo): Promise<void> {
    const ours = OUR_CLIENT_ID.exec(order.clientOrderId ?? '');
    const leg = ours?.[2];
    if (ours && !PROTECTIVE_TAGS.includes(leg!)) return;
    const work: Array<Promise<unknown>> = [
      withRequestPriority('sync', () => this.syncAccount(account, [order.symbol])),
    ];
    if (ours)
      work.push(withRequestPriority('exit', () => this.cancelSiblings(account, order, ours[1]!, leg!)));
    // An OKX OCO that fired: one exchange order behind our SL and TP rows; the half that did not fire went
    // with it (nothing to cancel), and its row says so.
    if (ours && order.conditional)
      work.push(
        settleFiredOco(
          this.deps.pool,
          this.deps.exchange,
          account.settings.accountId,
          order.id,
          order.type === 'take_profit' ? 'take_profit' : 'stop_loss',
        ),
      );
    const settled = await Promise.allSettled(work);
    for (const s of settled)
      if (s.status === 'rejected')
        this.deps.logger.warn('stream fill handling failed', {
          accountId: account.settings.accountId,
          symbol: order.symbol,
          error: exchangeErrorMessage(s.reason),
        });
  }

  /** The other protective orders of the signal whose SL/TP/trailing stop just executed, when that fill covered them. */
  private async cancelSiblings(
    account: AccountContext,
    done: OrderInfo,
    signalTag: string,
    doneLeg: string,
  ): Promise<string[]> {
    const covered = (done.filled ?? done.amount ?? 0) + 1e-12;
    const others = (account.live?.openOrders(done.symbol) ?? []).filter((o) => {
      const m = OUR_CLIENT_ID.exec(o.clientOrderId ?? '');
      // The other legs only: a Binance SL that triggered is also pushed as the market order it became. Never
      // the order that fired itself: an OKX OCO's two halves are one order, gone as a whole (its id may still
      // be listed when the fill's push comes before the algo channel's).
      return o.conditional && o.id !== done.id && m?.[1] === signalTag && m[2] !== doneLeg;
    });
    // A take-profit that left part of the position (several take-profits, or one for a share): the rest stays
    // protected, its stop resized (or moved to break-even) instead of cancelled.
    const partial = others.some(
      (o) => OUR_CLIENT_ID.exec(o.clientOrderId ?? '')?.[2] === TAKE_PROFIT_TAG || (o.amount ?? 0) > covered,
    );
    if (doneLeg === TAKE_PROFIT_TAG && partial) {
      await this.afterTakeProfit(account, done.clientOrderId ?? '');
      return [];
    }
    // The stream's word that it executed (an OKX OCO's row pair is settled by settleFiredOco alongside).
    const claimed = done.clientOrderId
      ? claimFiredProtection(
          this.deps.pool,
          this.deps.exchange,
          account.settings.accountId,
          done.clientOrderId,
        )
      : null;
    const siblings = others.filter((o) => (o.amount ?? Infinity) <= covered);
    await Promise.all([claimed, ...siblings.map((o) => account.adapter.cancelOrder(o))]);
    if (siblings.length === 0) return [];
    const ids = siblings.map((o) => o.id);
    await markOrdersCanceled(this.deps.pool, this.deps.exchange, account.settings.accountId, ids);
    this.deps.logger.info('sibling SL/TP cancelled on the stream fill', {
      accountId: account.settings.accountId,
      symbol: done.symbol,
      ids,
    });
    return ids;
  }

  /** The stream reported our take-profit executed: once per row (claimed), its follow-up. */
  private async afterTakeProfit(account: AccountContext, cid: string): Promise<void> {
    const tp = await claimFiredProtection(
      this.deps.pool,
      this.deps.exchange,
      account.settings.accountId,
      cid,
    );
    if (tp) await this.runAfterTakeProfit(account, tp);
  }

  private async runAfterTakeProfit(account: AccountContext, tp: OrderRow): Promise<void> {
    const deps = { ...this.deps, breakEvenFeePct: this.deps.breakEvenFeePct ?? 0.05 };
    // Retried a few times: the row is already settled, so nothing else would redo it.
    for (let attempt = 1; ; attempt++) {
      try {
        await withRequestPriority('exit', () => followTakeProfit(deps, account, tp));
        return;
      } catch (err) {
        if (attempt >= 3) {
          this.deps.logger.warn('take-profit follow-up failed', {
            accountId: account.settings.accountId,
            symbol: tp.symbol,
            error: exchangeErrorMessage(err),
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  /**
   * Cancels our own SL/TP/trailing orders (client ids from clientOrderId: `th…S`/`th…T`/`th…R`) that protect a side with no
   * position any more — e.g. the TP left behind when the SL fired. Orders placed by the user are never touched.
   */
  async cancelOrphanedProtection(account: AccountContext, symbol: string): Promise<string[]> {
    const { adapter } = account;
    // Not while a signal of this account and symbol is in flight (its entry may be between fill and SL/TP).
    const { rows } = await this.deps.pool.query<{ busy: boolean; now: Date }>(
      `SELECT now() AS now, EXISTS (
         SELECT 1 FROM signals WHERE exchange = $1::"Exchange" AND account_id = $2 AND symbol = $3
            AND status IN ('approved', 'executing')) AS busy`,
      [this.deps.exchange, account.settings.accountId, symbol],
    );
    const readStart = rows[0]!.now;
    if (rows[0]!.busy) return [];
    // Orders first, positions second: an SL/TP is placed only after its entry filled, so any order in the
    // list whose side has no position at the later read really is an orphan.
    const open = await adapter.fetchOpenOrders(symbol);
    const positions = await adapter.fetchPositions(symbol);
    const held = new Set(positions.map((p) => p.side));
    const ours = (o: OrderInfo) =>
      PROTECTIVE_TAGS.includes(OUR_CLIENT_ID.exec(o.clientOrderId ?? '')?.[2] ?? '');
    const sideOf = (o: OrderInfo) => o.positionSide ?? (o.side === 'sell' ? 'long' : 'short');
    const orphans = open.filter((o) => o.conditional && ours(o) && !held.has(sideOf(o)));
    await Promise.all(orphans.map((o) => adapter.cancelOrder(o)));
    const ids = orphans.map((o) => o.id);
    await markOrdersCanceled(this.deps.pool, this.deps.exchange, account.settings.accountId, ids);
    // What is ours, recorded open, and gone from the exchange without us cancelling it has fired there.
    const stillOpen = open.filter((o) => !ids.includes(o.id)).map((o) => o.id);
    const fired = await settleTriggeredProtection(
      this.deps.pool,
      this.deps.exchange,
      account.settings.accountId,
      symbol,
      stillOpen,
      readStart,
    );
    // A take-profit that fired while the stream missed it, with the position still held: the same follow-up.
    const tps = fired.filter((cid) => OUR_CLIENT_ID.exec(cid)?.[2] === TAKE_PROFIT_TAG);
    if (tps.length > 0) {
      for (const tp of await findOrdersByClientIds(this.deps.pool, tps)) {
        const side = tp.positionSide ?? (tp.side === 'sell' ? 'long' : 'short');
        if (held.has(side as 'long' | 'short')) await this.runAfterTakeProfit(account, tp);
      }
    }
    if (ids.length)
      this.deps.logger.info('orphaned SL/TP cancelled', {
        accountId: account.settings.accountId,
        symbol,
        ids,
      });
    return ids;
  }
}
