/**
 * OKX `GET /api/v5/account/bills` ("Get bills details (last 7 days)") and `/account/bills-archive` ("last
 * 3 months"): newest first, limit default 100 and max 100, `after` = older than a billId, `before` = newer,
 * `begin`/`end` on ts. The bills simulated: trades (type 2; subType 1 buy, 2 sell, 3 open long … as
 * fills' subType) and funding (type 8; subType 173 expense, 174 income). Fields as recorded from OKX
 * (test-fixtures/okx-bills.json).
 */
import type { Account, Engine } from './engine.ts';
import { reply, type Reply } from './http.ts';
import { findMarket, type MarketSpec } from './markets.ts';
import { str } from './num.ts';

interface Bill {
  billId: number;
  ts: number;
  row: Record<string, string>;
}

const ok = (data: unknown[]): Reply => reply({ code: '0', msg: '', data });

function billsOf(acct: Account): Bill[] {
  const out: Bill[] = [];
  for (const x of acct.income) {
    if (x.type !== 'FUNDING_FEE' || x.billId === undefined) continue;
    const m = findMarket(x.symbol) as MarketSpec;
    out.push({
      billId: x.billId,
      ts: x.time,
      row: base(m, x.billId, x.time, {
        type: '8',
        subType: x.amount < 0 ? '173' : '174',
        balChg: str(x.amount),
        ccy: x.asset,
        pnl: '0',
        fee: '0',
      }),
    });
  }
  for (const t of acct.trades) {
    const m = findMarket(t.symbol) as MarketSpec;
    out.push({
      billId: t.billId,
      ts: t.time,
      row: base(m, t.billId, t.time, {
        type: '2',
        subType: t.side === 'buy' ? '1' : '2',
        balChg: str(t.realizedPnl - (t.feeAsset === 'USDT' ? t.fee : 0)),
        ccy: 'USDT',
        pnl: str(t.realizedPnl),
        fee: str(-t.fee),
        ordId: String(t.orderId),
        tradeId: String(t.id),
        clOrdId: t.clientId,
        px: str(t.price),
        sz: str(t.qty / m.ctVal),
        execType: t.maker ? 'M' : 'T',
        fillTime: String(t.time),
      }),
    });
  }
  return out.sort((a, b) => b.billId - a.billId);
}

function base(
  m: MarketSpec,
  billId: number,
  ts: number,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    instType: 'SWAP',
    instId: m.okxId,
    billId: String(billId),
    ts: String(ts),
    mgnMode: 'cross',
    bal: '',
    balChg: '0',
    posBal: '0',
    posBalChg: '0',
    sz: '0',
    px: '',
    ordId: '',
    tradeId: '',
    clOrdId: '',
    execType: '',
    from: '',
    to: '',
    notes: '',
    interest: '0',
    tag: '',
    fillTime: '',
    fillIdxPx: '',
    fillMarkPx: '',
    fillMarkVol: '',
    fillPxUsd: '',
    fillPxVol: '',
    fillFwdPx: '',
    ...extra,
  };
}

export function accountBills(engine: Engine, acct: Account, path: string, q: URLSearchParams): Reply {
  const archive = path.endsWith('bills-archive');
  const maxAge = (archive ? 90 : 7) * 86_400_000;
  const rawLimit = q.get('limit');
  const limit = rawLimit === null || rawLimit === '' ? 100 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1)
    return reply({ code: '51000', msg: 'Parameter limit error', data: [] });
  const now = engine.clock.now();
  const instType = q.get('instType');
  const instId = q.get('instId');
  const type = q.get('type');
  const num = (k: string) => (q.get(k) ? Number(q.get(k)) : undefined);
  const [after, before, begin, end] = [num('after'), num('before'), num('begin'), num('end')];
  const list = billsOf(acct).filter(
    (b) =>
      b.ts >= now - maxAge &&
      (!instType || b.row['instType'] === instType) &&
      (!instId || b.row['instId'] === instId) &&
      (!type || b.row['type'] === type) &&
      (after === undefined || b.billId < after) &&
      (before === undefined || b.billId > before) &&
      (begin === undefined || b.ts >= begin) &&
      (end === undefined || b.ts <= end),
  );
  return ok(list.slice(0, Math.min(limit, 100)).map((b) => b.row));
}
