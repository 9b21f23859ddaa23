/** OKX v5 account endpoints: balance, positions, settings, bills, fills. */
import { type Account, type OtherPosition } from '../engine.ts';
import {
  type Dict,
  POS_SIDE_OUT,
  contracts,
  ctStr,
  err,
  inst,
  ok,
  okxErrorReply,
  parseJsonBody,
  px,
  s,
  tdModeOf,
} from './common.ts';
import { type MarketSpec, findMarket } from '../markets.ts';
import { type Route, route } from '../route-table.ts';
import { type Sim } from '../http.ts';
import { accountBills } from '../okx-bills.ts';
import { round, str } from '../num.ts';

export function balanceJson(sim: Sim, acct: Account): Dict {
  const g = sim.engine.margins(acct);
  const now = String(acct.updatedAt);
  return {
    adjEq: str(round(g.marginBalance, 8)),
    borrowFroz: '',
    details: [
      {
        availBal: str(round(g.available, 8)),
        availEq: str(round(g.available, 8)),
        borrowFroz: '',
        cashBal: str(round(g.wallet, 8)),
        ccy: 'USDT',
        crossLiab: '',
        disEq: str(round(g.marginBalance, 8)),
        eq: str(round(g.marginBalance, 8)),
        eqUsd: str(round(g.marginBalance, 8)),
        fixedBal: '0',
        frozenBal: str(round(g.positionIM + g.orderIM, 8)),
        imr: str(round(g.positionIM, 8)),
        interest: '',
        isoEq: '0',
        isoLiab: '',
        isoUpl: '0',
        liab: '',
        maxLoan: '',
        mgnRatio: '',
        mmr: str(round(g.maint, 8)),
        notionalLever: '',
        ordFrozen: str(round(g.orderIM, 8)),
        spotInUseAmt: '',
        stgyEq: '0',
        twap: '0',
        uTime: now,
        upl: str(round(g.upl, 8)),
        uplLiab: '',
      },
    ],
    imr: str(round(g.positionIM, 8)),
    isoEq: '0',
    mgnRatio: '',
    mmr: str(round(g.maint, 8)),
    notionalUsd: '',
    ordFroz: str(round(g.orderIM, 8)),
    totalEq: str(round(g.marginBalance, 8)),
    uTime: now,
    upl: str(round(g.upl, 8)),
  };
}

/**
 * `GET /api/v5/account/positions` (OKX docs, "Get positions"): `instType` (MARGIN, SWAP, FUTURES, OPTION) and
 * `instId` (up to 10, comma-separated) are both optional; without `instType` every instrument type is listed,
 * so an account's futures, margin and option positions come back beside its swaps.
 */
export function positionsJson(
  sim: Sim,
  acct: Account,
  instId: string | undefined,
  instType: string | undefined,
): Dict[] {
  const ids = instId ? instId.split(',') : undefined;
  const others = acct.otherPositions
    .filter((o) => (!instType || o.instType === instType) && (!ids || ids.includes(o.instId)))
    .map(otherPositionJson);
  if (instType && instType !== 'SWAP') return others;
  const swaps = sim.engine
    .openPositions(acct)
    .filter((p) => !ids || ids.includes((findMarket(p.symbol) as MarketSpec).okxId))
    .map((p) => {
      const m = findMarket(p.symbol) as MarketSpec;
      const last = sim.engine.price(p.symbol);
      const st = sim.engine.settings(acct, p.symbol);
      const notional = Math.abs(p.qty) * last;
      const upl = sim.engine.unrealized(p);
      const imr = notional / st.leverage;
      const pos = p.posSide === 'both' ? contracts(m, p.qty) : contracts(m, Math.abs(p.qty));
      return {
        adl: '1',
        availPos: str(Math.abs(pos)),
        avgPx: str(round(p.entryPrice, m.pricePrecision + 2)),
        baseBal: '',
        bePx: str(round(p.entryPrice * (1 + Math.sign(p.qty) * acct.takerFee), m.pricePrecision + 2)),
        cTime: String(p.openedAt),
        ccy: 'USDT',
        deltaBS: '',
        deltaPA: '',
        fee: str(-p.fees),
        fundingFee: '0',
        gammaBS: '',
        gammaPA: '',
        idxPx: px(m, last),
        imr: st.marginMode === 'cross' ? str(round(imr, 8)) : '',
        instId: m.okxId,
        instType: 'SWAP',
        interest: '',
        last: px(m, last),
        lever: String(st.leverage),
        liab: '',
        liabCcy: '',
        liqPenalty: '0',
        liqPx: '',
        margin:
          st.marginMode === 'isolated' ? str(round((Math.abs(p.qty) * p.entryPrice) / st.leverage, 8)) : '',
        markPx: px(m, last),
        mgnMode: st.marginMode,
        mgnRatio: '',
        mmr: str(round(notional * 0.004, 8)),
        notionalUsd: str(round(notional, 8)),
        optVal: '',
        pendingCloseOrdLiabVal: '',
        pnl: str(p.realizedPnl),
        pos: str(pos),
        posCcy: '',
        posId: String(p.id),
        posSide: POS_SIDE_OUT[p.posSide],
        quoteBal: '',
        realizedPnl: str(round(p.realizedPnl - p.fees, 8)),
        spotInUseAmt: '',
        spotInUseCcy: '',
        thetaBS: '',
        thetaPA: '',
        tradeId: '',
        uTime: String(p.updatedAt),
        upl: str(upl),
        uplLastPx: str(upl),
        uplRatio: str(round(upl / Math.max(imr, 1e-12), 6)),
        uplRatioLastPx: str(round(upl / Math.max(imr, 1e-12), 6)),
        usdPx: '',
        vegaBS: '',
        vegaPA: '',
      };
    });
  return [...swaps, ...others];
}

/** A non-swap position row, with the fields a swap row has (values of a plain cross position). */
export function otherPositionJson(o: OtherPosition): Dict {
  return {
    adl: '1',
    availPos: str(Math.abs(o.pos)),
    avgPx: str(o.avgPx),
    cTime: String(Date.now()),
    ccy: o.instType === 'MARGIN' ? 'USDT' : o.instId.split('-')[0],
    instId: o.instId,
    instType: o.instType,
    lever: '3',
    liqPx: '',
    markPx: str(o.avgPx),
    mgnMode: 'cross',
    notionalUsd: str(Math.abs(o.pos) * o.avgPx),
    pos: str(o.pos),
    posCcy: o.instType === 'MARGIN' ? o.instId.split('-')[0] : '',
    posId: `other-${o.instId}`,
    posSide: 'net',
    realizedPnl: '0',
    uTime: String(Date.now()),
    upl: '0',
  };
}

/** Account, balance, positions, bills and fills (OKX v5 "Trading Account", "Trade" fills). */
export const ACCOUNT_ROUTES: Route[] = [
  route(['GET /api/v5/asset/currencies'], () => ok([])),
  route(['GET /api/v5/account/balance'], ({ sim, acct }) => ok([balanceJson(sim, acct)])),
  route(['GET /api/v5/account/positions'], ({ sim, q, acct }) =>
    ok(positionsJson(sim, acct, q.get('instId') ?? undefined, q.get('instType') ?? undefined)),
  ),
  route(['GET /api/v5/account/config'], ({ acct }) => {
    return ok([
      {
        acctLv: acct.acctLv,
        acctStpMode: 'cancel_maker',
        autoLoan: false,
        ctIsoMode: 'automatic',
        enableSpotBorrow: false,
        greeksType: 'PA',
        ip: '',
        kycLv: '2',
        label: 'tradehook-sim',
        level: 'Lv1',
        levelTmp: '',
        liquidationGear: '-1',
        mainUid: String(1000 + (acct.createdAt % 100000)),
        mgnIsoMode: 'automatic',
        opAuth: '0',
        perm: acct.permissions.join(','),
        posMode: acct.positionMode === 'hedge' ? 'long_short_mode' : 'net_mode',
        roleType: '0',
        spotBorrowAutoRepay: false,
        spotOffsetType: '',
        spotRoleType: '0',
        spotTraderInsts: [],
        traderInsts: [],
        type: '0',
        uid: String(1000 + (acct.createdAt % 100000)),
      },
    ]);
  }),
  route(['GET /api/v5/account/leverage-info'], ({ engine, q, acct }) => {
    const m = inst(q.get('instId') ?? undefined) as MarketSpec;
    const mode = q.get('mgnMode') ?? 'cross';
    return ok([
      {
        instId: m.okxId,
        mgnMode: mode,
        posSide: 'net',
        lever: String(engine.settings(acct, m.id).leverage),
      },
    ]);
  }),
  route(['POST /api/v5/account/set-leverage'], ({ engine, acct, req }) => {
    const b = parseJsonBody(req.body) as Dict;
    const m = inst(s(b['instId'])) as MarketSpec;
    const mgnMode = tdModeOf(s(b['mgnMode']));
    const lever = Number(s(b['lever']));
    if (!Number.isFinite(lever) || lever < 1 || lever > m.okxMaxLever) err('51000', 'Parameter lever error');
    const st = engine.settings(acct, m.id);
    st.leverage = lever;
    if (!engine.openPositions(acct).some((p) => p.symbol === m.id)) st.marginMode = mgnMode;
    return ok([{ instId: m.okxId, lever: String(lever), mgnMode, posSide: s(b['posSide']) ?? '' }]);
  }),
  route(['POST /api/v5/account/set-position-mode'], ({ engine, acct, req }) => {
    const b = parseJsonBody(req.body) as Dict;
    const mode = s(b['posMode']);
    if (mode !== 'net_mode' && mode !== 'long_short_mode') err('51000', 'Parameter posMode error');
    const want = mode === 'long_short_mode' ? 'hedge' : 'oneway';
    if (want !== acct.positionMode) {
      if (
        engine.openPositions(acct).length > 0 ||
        engine.openOrders(acct).length > 0 ||
        engine.openAlgos(acct).length > 0
      ) {
        err('59000', 'Settings failed. Close any open positions or orders before modifying settings.');
      }
      acct.positionMode = want;
    }
    return ok([{ posMode: mode }]);
  }),
  route(['GET /api/v5/account/bills', 'GET /api/v5/account/bills-archive'], ({ engine, q, acct, path }) =>
    accountBills(engine, acct, path, q),
  ),
  route(['GET /api/v5/trade/fills', 'GET /api/v5/trade/fills-history'], ({ sim, q, acct, path }) => {
    const id = q.get('instId');
    const ordId = q.get('ordId');
    const begin = q.get('begin');
    const end = q.get('end');
    // OKX "Get transaction details (last 3 days)" vs "(last 3 months)"; fills-history requires instType.
    // Both: newest first, limit default 100 and max 100, `after` = older than billId, `before` = newer.
    const history = path.endsWith('history');
    if (history && !q.get('instType')) return okxErrorReply('50014', 'Parameter instType can not be empty.');
    const maxAge = history ? 90 * 86_400_000 : 3 * 86_400_000;
    const now = sim.engine.clock.now();
    let list = acct.trades.filter(
      (t) =>
        t.time >= now - maxAge &&
        (!id || (findMarket(t.symbol) as MarketSpec).okxId === id) &&
        (!ordId || String(t.orderId) === ordId) &&
        (!begin || t.time >= Number(begin)) &&
        (!end || t.time <= Number(end)),
    );
    const after = q.get('after');
    const before = q.get('before');
    list = [...list].reverse();
    if (after) list = list.filter((t) => t.billId < Number(after));
    if (before) list = list.filter((t) => t.billId > Number(before));
    list = list.slice(0, Math.min(Number(q.get('limit') ?? 100), 100));
    return ok(
      list.map((t) => {
        const m = findMarket(t.symbol) as MarketSpec;
        return {
          instType: 'SWAP',
          instId: m.okxId,
          tradeId: String(t.id),
          ordId: String(t.orderId),
          clOrdId: t.clientId,
          billId: String(t.billId),
          subType:
            t.realizedPnl !== 0 || (t.side === 'sell' ? t.posSide === 'long' : t.posSide === 'short')
              ? t.side === 'buy'
                ? '4'
                : '3'
              : t.side === 'buy'
                ? '1'
                : '2',
          tag: '',
          fillPx: px(m, t.price),
          fillSz: ctStr(m, t.qty),
          fillIdxPx: px(m, t.price),
          fillPnl: str(t.realizedPnl),
          fillPxVol: '',
          fillPxUsd: '',
          fillMarkVol: '',
          fillFwdPx: '',
          fillMarkPx: px(m, t.price),
          side: t.side,
          posSide: POS_SIDE_OUT[t.posSide],
          execType: t.maker ? 'M' : 'T',
          feeCcy: t.feeAsset,
          // OKX sign: negative = charged, positive = rebate.
          fee: str(-t.fee),
          ts: String(t.time),
          fillTime: String(t.time),
          feeRate: str(-(t.maker ? acct.makerFee : acct.takerFee)),
        };
      }),
    );
  }),
];
