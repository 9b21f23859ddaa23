/**
 * Reading an account's trades without gaps (issue 11, items 1 and 5). Each venue pages differently:
 * - Binance `GET /fapi/v1/userTrades` answers at most 7 days (startTime..endTime ≤ 7 d) and cannot combine
 *   `fromId` with times. Once one trade is known we page by `fromId` (ids ascend, no time limit); before that
 *   we walk 7-day windows from the start, keeping the window start as the cursor so an empty week is asked once.
 * - OKX `GET /api/v5/trade/fills` (3 days) / `fills-history` (3 months) return at most 100, newest first;
 *   `before` = newer than a billId, `after` = older. We ask for everything newer than the cursor and page
 *   back with `after` until a short page, so more than 100 new fills are all read.
 */
import type * as ccxt from 'ccxt';
import { okxCall, okxRowsNewerThan } from './okx-paging.ts';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** A window is final (never asked again) once it ended this long ago: trades can be booked late. */
const SETTLE_MS = 60_000;
const BINANCE_LIMIT = 1000;
/** Pages per call; the rest is read on the next round from the saved cursor. */
const MAX_PAGES = 50;

/** Where the trade sync of one (account, symbol) stands; stored as JSON (sync_cursors). */
export interface TradeCursor {
  /** Binance: the next trade id to read (`fromId`). */
  fromId?: string | undefined;
  /** Binance, before any trade is known: start of the next 7-day window to ask. */
  windowStart?: number | undefined;
  /** OKX: newest billId read. */
  billId?: string | undefined;
  /** OKX: time of that fill (chooses `fills` vs `fills-history`). */
  time?: number | undefined;
}

export interface TradePage {
  trades: ccxt.Trade[];
  cursor: TradeCursor;
  /** False when MAX_PAGES stopped the read early (call again). */
  complete: boolean;
}

/** The highest of numeric ids (exchange ids exceed 2^53: compared as BigInt). */
export const maxId = (ids: string[]): bigint => ids.reduce((m, id) => (BigInt(id) > m ? BigInt(id) : m), 0n);

/** The row with the highest billId (OKX). */
export function newestRow(rows: Array<Record<string, unknown>>): Record<string, unknown> | undefined {
  if (rows.length === 0) return undefined;
  const top = maxId(rows.map((r) => String(r['billId'])));
  return rows.find((r) => BigInt(String(r['billId'])) === top);
}

/** Exchange time: ccxt's nonce carries the shared clock offset (clock.ts). */
export const exchangeNow = (client: ccxt.Exchange): number => Number(client.nonce());

export async function binanceTradesAfter(
  client: ccxt.Exchange,
  symbol: string,
  cursor: TradeCursor | null,
  startMs: number,
): Promise<TradePage> {
  const trades: ccxt.Trade[] = [];
  let fromId = cursor?.fromId;
  let windowStart = cursor?.windowStart ?? startMs;
  const now = exchangeNow(client);
  for (let page = 0; page < MAX_PAGES; page++) {
    const batch =
      fromId !== undefined
        ? await client.fetchMyTrades(symbol, undefined, BINANCE_LIMIT, { fromId })
        : await client.fetchMyTrades(symbol, windowStart, BINANCE_LIMIT, { until: windowStart + WEEK_MS });
    trades.push(...batch);
    if (batch.length > 0) {
      // ccxt sorts by time; the next id to read follows the highest one seen.
      fromId = String(maxId(batch.map((t) => String(t.id))) + 1n);
      if (batch.length < BINANCE_LIMIT) return { trades, cursor: { fromId }, complete: true };
      continue;
    }
    if (fromId !== undefined) return { trades, cursor: { fromId }, complete: true };
    // An empty window: move on only once it lies wholly in the past.
    if (windowStart + WEEK_MS > now - SETTLE_MS) return { trades, cursor: { windowStart }, complete: true };
    windowStart += WEEK_MS + 1; // endTime is inclusive
  }
  return { trades, cursor: fromId !== undefined ? { fromId } : { windowStart }, complete: false };
}

export async function okxTradesAfter(
  client: ccxt.Exchange,
  symbol: string,
  cursor: TradeCursor | null,
  startMs: number,
): Promise<TradePage> {
  const market = client.market(symbol);
  const oldest = cursor?.time ?? startMs;
  // "fills": the last 3 days (more generous rate limit); older than that only "fills-history" has it.
  const recent = exchangeNow(client) - oldest < 3 * DAY_MS - 3_600_000;
  const call = okxCall(client, recent ? 'privateGetTradeFills' : 'privateGetTradeFillsHistory');
  const { rows, complete } = await okxRowsNewerThan(
    call,
    { instType: 'SWAP', instId: market.id },
    cursor?.billId,
    startMs,
  );
  const newest = newestRow(rows);
  // Not all read: keep the old cursor so the next round reads this stretch again (ids dedupe).
  const next: TradeCursor =
    complete && newest ? { billId: String(newest['billId']), time: Number(newest['ts']) } : (cursor ?? {});
  return { trades: client.parseTrades(rows, market), cursor: next, complete };
}
