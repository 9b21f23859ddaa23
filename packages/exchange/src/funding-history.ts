/**
 * Funding payments of an account (all USDT swaps), read after a saved cursor (issue 11 item 9):
 * - Binance `GET /fapi/v1/income?incomeType=FUNDING_FEE` (ascending, limit ≤ 1000), walked in 7-day windows
 *   like userTrades (the simulator enforces 7 days; Binance's docs only name the 7-day default, so this is
 *   the safe reading).
 * - OKX `GET /api/v5/account/bills` (7 days) / `bills-archive` (3 months) with `type=8`, paged by billId as
 *   fills are (okx-paging.ts).
 */
import type * as ccxt from 'ccxt';
import { okxCall, okxRowsNewerThan } from './okx-paging.ts';
import { exchangeNow, newestRow } from './trade-history.ts';

type Dict = Record<string, unknown>;

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const SETTLE_MS = 60_000;
const BINANCE_LIMIT = 1000;
const MAX_PAGES = 20;

export interface FundingCursor {
  /** Binance: start of the next window to ask (inclusive). */
  windowStart?: number | undefined;
  /** OKX: newest billId read, and its time. */
  billId?: string | undefined;
  time?: number | undefined;
}

export interface FundingInfo {
  id: string;
  symbol: string;
  /** Positive = received, negative = paid. */
  amount: number;
  asset: string;
  timestamp: number;
}

export interface FundingBatch {
  payments: FundingInfo[];
  cursor: FundingCursor;
  complete: boolean;
}

const symbolOf = (client: ccxt.Exchange, marketId: unknown) =>
  client.safeMarket(String(marketId), undefined, undefined, 'swap').symbol;

export async function binanceFundingAfter(
  client: ccxt.Exchange,
  cursor: FundingCursor | null,
  startMs: number,
): Promise<FundingBatch> {
  const call = (client as unknown as Record<string, (p: Dict) => Promise<Dict[]>>)[
    'fapiPrivateGetIncome'
  ]!.bind(client);
  const payments: FundingInfo[] = [];
  let windowStart = cursor?.windowStart ?? startMs;
  const now = exchangeNow(client);
  for (let page = 0; page < MAX_PAGES; page++) {
    const rows = await call({
      incomeType: 'FUNDING_FEE',
      startTime: windowStart,
      endTime: windowStart + WEEK_MS,
      limit: BINANCE_LIMIT,
    });
    for (const r of rows) {
      payments.push({
        id: String(r['tranId']),
        symbol: symbolOf(client, r['symbol']),
        amount: Number(r['income']),
        asset: String(r['asset']),
        timestamp: Number(r['time']),
      });
    }
    const lastTime = rows.length ? Number(rows[rows.length - 1]!['time']) : windowStart;
    // A full page: go on from its last time (that instant is read again; tranIds dedupe).
    if (rows.length >= BINANCE_LIMIT) {
      windowStart = Math.max(windowStart + 1, lastTime);
      continue;
    }
    if (windowStart + WEEK_MS > now - SETTLE_MS)
      return { payments, cursor: { windowStart: lastTime }, complete: true };
    windowStart += WEEK_MS + 1;
  }
  return { payments, cursor: { windowStart }, complete: false };
}

export async function okxFundingAfter(
  client: ccxt.Exchange,
  cursor: FundingCursor | null,
  startMs: number,
): Promise<FundingBatch> {
  const oldest = cursor?.time ?? startMs;
  // "bills": the last 7 days; older only in "bills-archive" (3 months).
  const recent = exchangeNow(client) - oldest < WEEK_MS - 3_600_000;
  const call = okxCall(client, recent ? 'privateGetAccountBills' : 'privateGetAccountBillsArchive');
  const { rows, complete } = await okxRowsNewerThan(
    call,
    { instType: 'SWAP', type: '8' },
    cursor?.billId,
    startMs,
  );
  const payments = rows.map((r) => {
    // ccxt's okx.fetchFundingHistory reading: balChg, or posBalChg when balChg is 0.
    const bal = Number(r['balChg']);
    return {
      id: String(r['billId']),
      symbol: symbolOf(client, r['instId']),
      amount: bal !== 0 ? bal : Number(r['posBalChg']),
      asset: String(r['ccy']),
      timestamp: Number(r['ts']),
    };
  });
  const newest = newestRow(rows);
  const next: FundingCursor =
    complete && newest ? { billId: String(newest['billId']), time: Number(newest['ts']) } : (cursor ?? {});
  return { payments, cursor: next, complete };
}
