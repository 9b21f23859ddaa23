/** OKX v5 dialect (USDT-margined perpetual swaps). Sizes are in contracts: base qty = sz × ctVal. */
import { asReported, notVisibleYet } from './report-lag.ts';
import { randomBytes } from 'node:crypto';
import { verifyOkx } from './auth.ts';
import { accountBills } from './okx-bills.ts';
import {
  type Account,
  type OtherPosition,
  type AlgoOrder,
  EngineError,
  type MarginMode,
  type Order,
  type PosSide,
  type Side,
} from './engine.ts';
import { reply, type Reply, type Sim, type SimRequest } from './http.ts';
import { candles, INTERVAL_MS, OKX_BARS } from './klines.ts';
import { MARKETS, type MarketSpec, findMarket } from './markets.ts';
import { decimalsIn, decimalsOf, isMultiple, round, str } from './num.ts';

const CL_ORD_ID_RE = /^[A-Za-z0-9]{1,32}$/;

class OkxError extends Error {
  constructor(
    readonly code: string,
    msg: string,
    readonly status = 200,
  ) {
    super(msg);
  }
}

function err(code: string, msg: string, status = 200): never {
  throw new OkxError(code, msg, status);
}

export function okxErrorReply(code: string, msg: string, status = 200): Reply {
  return reply({ code, msg, data: [] }, status);
}

function ok(data: unknown[]): Reply {
  return reply({ code: '0', msg: '', data });
}

type Dict = Record<string, unknown>;

function s(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : String(v);
}

function inst(id: string | undefined, required = true): MarketSpec | undefined {
  if (!id) {
    if (required) err('51000', 'Parameter instId error');
    return undefined;
  }
  const m = MARKETS.find((x) => x.okxId === id);
  if (!m) err('51001', "Instrument ID, Instrument ID code, or Spread ID doesn't exist.");
  return m;
}

const szDec = (m: MarketSpec) => decimalsOf(m.lotSz);
const contracts = (m: MarketSpec, qty: number) => round(qty / m.ctVal, szDec(m));
const ctStr = (m: MarketSpec, qty: number) => str(contracts(m, qty));
const px = (m: MarketSpec, v: number) => str(round(v, m.pricePrecision));

function parseSz(m: MarketSpec, raw: string | undefined): number {
  if (raw === undefined) err('51000', 'Parameter sz error');
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) err('51000', 'Parameter sz error');
  if (decimalsIn(raw) > szDec(m) || !isMultiple(v, m.lotSz))
    err('51121', `Order quantity must be a multiple of the lot size. Lot size is ${str(m.lotSz)}.`);
  if (v < m.minSz) err('51020', `Your order should meet or exceed the minimum order amount.`);
  return round(v * m.ctVal, 10);
}

function parsePx(m: MarketSpec, raw: string | undefined, name: string): number {
  if (raw === undefined) err('51000', `Parameter ${name} error`);
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) err('51000', `Parameter ${name} error`);
  if (!isMultiple(v, m.tickSize)) err('51000', `Parameter ${name} error`);
  return v;
}

function posSideOf(acct: Account, raw: string | undefined): PosSide {
  if (acct.positionMode === 'hedge') {
    if (raw !== 'long' && raw !== 'short') err('51000', 'Parameter posSide error');
    return raw;
  }
  if (raw !== undefined && raw !== 'net') err('51000', 'Parameter posSide error');
  return 'both';
}

function sideOf(raw: string | undefined): Side {
  if (raw !== 'buy' && raw !== 'sell') err('51000', 'Parameter side error');
  return raw;
}

function tdModeOf(raw: string | undefined): MarginMode {
  if (raw !== 'cross' && raw !== 'isolated') err('51000', 'Parameter tdMode error');
  return raw;
}

const POS_SIDE_OUT: Record<PosSide, string> = { both: 'net', long: 'long', short: 'short' };
const STATE: Record<Order['status'], string> = {
  new: 'live',
  partially_filled: 'partially_filled',
  filled: 'filled',
  canceled: 'canceled',
  expired: 'canceled',
  rejected: 'canceled',
};
const ALGO_STATE: Record<AlgoOrder['status'], string> = {
  new: 'live',
  triggered: 'effective',
  canceled: 'canceled',
  expired: 'order_failed',
  rejected: 'order_failed',
};

export function orderJson(sim: Sim, order: Order): Dict {
  const acct = sim.engine.account('okx', order.apiKey);
  const o = asReported(acct, order, sim.engine.clock.now());
  const m = findMarket(o.symbol) as MarketSpec;
  const lastTrade = o.filledQty > 0 ? acct?.trades.findLast((t) => t.orderId === o.id) : undefined;
  return {
    instType: 'SWAP',
    instId: m.okxId,
    tgtCcy: '',
    ccy: '',
    ordId: String(o.id),
    clOrdId: o.clientId,
    tag: (o.meta['tag'] as string | undefined) ?? '',
    px: o.price === undefined ? '' : px(m, o.price),
    pxUsd: '',
    pxVol: '',
    pxType: '',
    sz: ctStr(m, o.qty),
    pnl: str(o.pnl),
    ordType: (o.meta['ordType'] as string | undefined) ?? o.type,
    side: o.side,
    posSide: POS_SIDE_OUT[o.posSide],
    tdMode: o.marginMode,
    accFillSz: ctStr(m, o.filledQty),
    fillPx: lastTrade ? px(m, lastTrade.price) : '',
    tradeId: lastTrade ? String(lastTrade.id) : '',
    fillSz: lastTrade ? ctStr(m, lastTrade.qty) : '0',
    fillTime: lastTrade ? String(lastTrade.time) : '',
    avgPx: o.filledQty > 0 ? str(round(o.avgPrice, m.pricePrecision + 2)) : '',
    state: STATE[o.status],
    stpId: '',
    stpMode: 'cancel_maker',
    lever: String(o.leverage),
    attachAlgoClOrdId: '',
    tpTriggerPx: '',
    tpTriggerPxType: '',
    tpOrdPx: '',
    slTriggerPx: '',
    slTriggerPxType: '',
    slOrdPx: '',
    attachAlgoOrds: [],
    linkedAlgoOrd: { algoId: o.algoId === undefined ? '' : String(o.algoId) },
    feeCcy: 'USDT',
    fee: str(-o.fee),
    rebateCcy: 'USDT',
    rebate: '0',
    source: o.source === 'algo' ? '13' : '',
    category: 'normal',
    reduceOnly: String(o.reduceOnly),
    isTpLimit: 'false',
    cancelSource: '',
    cancelSourceReason: '',
    quickMgnType: '',
    algoClOrdId: '',
    uTime: String(o.updatedAt),
    cTime: String(o.createdAt),
  };
}

export function algoJson(sim: Sim, a: AlgoOrder): Dict {
  const m = findMarket(a.symbol) as MarketSpec;
  const result =
    a.resultOrderId !== undefined
      ? sim.engine.account('okx', a.apiKey)?.orders.find((o) => o.id === a.resultOrderId)
      : undefined;
  const ordPx = a.orderPrice === undefined ? '-1' : px(m, a.orderPrice);
  return {
    instType: 'SWAP',
    instId: m.okxId,
    ccy: '',
    ordId: result ? String(result.id) : '',
    ordIdList: result ? [String(result.id)] : [],
    algoId: String(a.id),
    clOrdId: (a.meta['clOrdId'] as string | undefined) ?? '',
    algoClOrdId: a.clientId,
    sz: a.qty === undefined ? '' : ctStr(m, a.qty),
    closeFraction: a.closePosition ? '1' : '',
    ordType: (a.meta['ordType'] as string | undefined) ?? 'conditional',
    side: a.side,
    posSide: POS_SIDE_OUT[a.posSide],
    tdMode: a.marginMode,
    tgtCcy: '',
    state: ALGO_STATE[a.status],
    lever: String(
      sim.engine.account('okx', a.apiKey)
        ? sim.engine.settings(sim.engine.account('okx', a.apiKey) as Account, a.symbol).leverage
        : '',
    ),
    tpTriggerPx: a.tpTrigger === undefined ? '' : px(m, a.tpTrigger),
    tpTriggerPxType: a.tpTrigger === undefined ? '' : 'last',
    tpOrdPx: a.tpTrigger === undefined ? '' : ordPx,
    slTriggerPx: a.slTrigger === undefined ? '' : px(m, a.slTrigger),
    slTriggerPxType: a.slTrigger === undefined ? '' : 'last',
    slOrdPx: a.slTrigger === undefined ? '' : ordPx,
    triggerPx: '',
    triggerPxType: '',
    ordPx: '',
    actualSz: result ? ctStr(m, result.filledQty) : '',
    actualPx: result ? px(m, result.avgPrice) : '',
    actualSide: a.triggeredBy ?? '',
    triggerTime: a.triggeredAt === undefined ? '' : String(a.triggeredAt),
    pxVar: '',
    pxSpread: '',
    szLimit: '',
    pxLimit: '',
    tag: (a.meta['tag'] as string | undefined) ?? '',
    timeInterval: '',
    callbackRatio: '',
    callbackSpread: '',
    activePx: '',
    moveTriggerPx: '',
    reduceOnly: String(a.reduceOnly),
    quickMgnType: '',
    last: px(m, sim.engine.price(a.symbol)),
    failCode: a.status === 'expired' ? '51169' : '',
    amendPxOnTriggerType: '0',
    attachAlgoOrds: [],
    linkedOrd: { ordId: '' },
    cTime: String(a.createdAt),
    uTime: String(a.updatedAt),
  };
}

function instrumentJson(m: MarketSpec): Dict {
  return {
    alias: '',
    auctionEndTime: '',
    baseCcy: '',
    category: '1',
    ctMult: '1',
    ctType: 'linear',
    ctVal: str(m.ctVal),
    ctValCcy: m.base,
    expTime: '',
    instFamily: `${m.base}-USDT`,
    instId: m.okxId,
    instType: 'SWAP',
    lever: String(m.okxMaxLever),
    listTime: '1611916828000',
    lotSz: str(m.lotSz),
    maxIcebergSz: '100000000',
    maxLmtAmt: '20000000',
    maxLmtSz: '100000000',
    maxMktAmt: '',
    maxMktSz: str(round(m.marketMaxQty / m.ctVal, 0)),
    maxStopSz: str(round(m.marketMaxQty / m.ctVal, 0)),
    maxTriggerSz: '100000000',
    maxTwapSz: '100000000',
    minSz: str(m.minSz),
    optType: '',
    quoteCcy: '',
    ruleType: 'normal',
    settleCcy: 'USDT',
    state: 'live',
    stk: '',
    tickSz: str(m.tickSize),
    uly: `${m.base}-USDT`,
  };
}

interface Outcome {
  data: Dict;
  ok: boolean;
}

function itemError(e: unknown, base: Dict): Outcome {
  if (e instanceof OkxError) return { ok: false, data: { ...base, sCode: e.code, sMsg: e.message } };
  if (e instanceof EngineError) {
    const [code, msg] =
      e.kind === 'insufficient_margin'
        ? ['51008', 'Order failed. Insufficient USDT margin in account']
        : e.kind === 'unknown_symbol'
          ? ['51001', "Instrument ID doesn't exist."]
          : [
              '51169',
              "Order failed because you don't have any positions in this direction for this contract.",
            ];
    return { ok: false, data: { ...base, sCode: code, sMsg: msg } };
  }
  throw e;
}

function clientIdOf(raw: unknown): string {
  const v = s(raw);
  if (v === undefined) return '';
  if (!CL_ORD_ID_RE.test(v)) err('51000', 'Parameter clOrdId error');
  return v;
}

/** Simple mode (acctLv 1) trades spot only: a swap order is refused (OKX error code 51010). */
function refuseSimpleMode(acct: Account): void {
  if (acct.acctLv === '1') err('51010', "You can't complete this request under your current account mode.");
}

function placeOne(sim: Sim, acct: Account, o: Dict, arrivalMs: number): Outcome {
  const clOrdId = s(o['clOrdId']) ?? '';
  const tag = s(o['tag']) ?? '';
  const base = { clOrdId, ordId: '', tag, ts: String(sim.engine.clock.now()) };
  try {
    const m = inst(s(o['instId'])) as MarketSpec;
    refuseSimpleMode(acct);
    const tdMode = tdModeOf(s(o['tdMode']));
    const side = sideOf(s(o['side']));
    const posSide = posSideOf(acct, s(o['posSide']));
    const ordType = s(o['ordType']);
    if (!ordType || !['market', 'limit', 'post_only', 'fok', 'ioc', 'optimal_limit_ioc'].includes(ordType))
      err('51000', 'Parameter ordType error');
    const qty = parseSz(m, s(o['sz']));
    const isMarket = ordType === 'market' || ordType === 'optimal_limit_ioc';
    const price = isMarket ? undefined : parsePx(m, s(o['px']), 'px');
    const cid = clientIdOf(o['clOrdId']);
    if (cid && acct.orders.some((x) => x.clientId === cid)) err('51016', 'Duplicated clOrdId');
    const reduceOnly =
      acct.positionMode === 'oneway' && (o['reduceOnly'] === true || o['reduceOnly'] === 'true');
    const settings = sim.engine.settings(acct, m.id);
    if (settings.marginMode !== tdMode && !sim.engine.openPositions(acct).some((p) => p.symbol === m.id))
      settings.marginMode = tdMode;
    const order = sim.engine.placeOrder(acct, {
      symbol: m.id,
      side,
      posSide,
      type: isMarket ? 'market' : 'limit',
      price,
      qty,
      reduceOnly,
      clientId: cid,
      marginMode: tdMode,
      arrivalMs,
      overClose: 'clamp',
      meta: { tag, ordType },
    });
    if (Array.isArray(o['attachAlgoOrds']) && order.filledQty > 0) {
      for (const att of o['attachAlgoOrds'] as Dict[]) {
        const sl = s(att['slTriggerPx']);
        const tp = s(att['tpTriggerPx']);
        if (!sl && !tp) continue;
        sim.engine.placeAlgo(acct, {
          symbol: m.id,
          side: side === 'buy' ? 'sell' : 'buy',
          posSide,
          slTrigger: sl ? Number(sl) : undefined,
          tpTrigger: tp ? Number(tp) : undefined,
          qty: order.filledQty,
          closePosition: false,
          reduceOnly: true,
          clientId: s(att['attachAlgoClOrdId']) ?? '',
          marginMode: tdMode,
          arrivalMs,
          meta: { ordType: sl && tp ? 'oco' : 'conditional', tag, attachedTo: order.id },
        });
      }
    }
    return { ok: true, data: { ...base, ordId: String(order.id), sCode: '0', sMsg: 'Order placed' } };
  } catch (e) {
    return itemError(e, base);
  }
}

function placeAlgo(sim: Sim, acct: Account, o: Dict, arrivalMs: number): Outcome {
  // An algo order's own client id is `algoClOrdId` (OKX docs, "Place algo order"); `clOrdId` is a separate,
  // deprecated field that is echoed back but never identifies the algo order, so it is not copied across:
  // an algo order sent with only `clOrdId` cannot be looked up by client id.
  const clientRaw = o['algoClOrdId'];
  const base = {
    algoId: '',
    clOrdId: s(o['clOrdId']) ?? '',
    algoClOrdId: s(clientRaw) ?? '',
    tag: s(o['tag']) ?? '',
  };
  try {
    const m = inst(s(o['instId'])) as MarketSpec;
    refuseSimpleMode(acct);
    const tdMode = tdModeOf(s(o['tdMode']));
    const side = sideOf(s(o['side']));
    const posSide = posSideOf(acct, s(o['posSide']));
    const ordType = s(o['ordType']);
    if (ordType !== 'conditional' && ordType !== 'oco') err('51000', 'Parameter ordType error');
    const closeFraction = s(o['closeFraction']);
    let qty: number | undefined;
    if (closeFraction !== undefined) {
      if (closeFraction !== '1') err('51000', 'Parameter closeFraction error');
      if (o['sz'] !== undefined && o['sz'] !== '') err('51000', 'Parameter sz error');
    } else {
      qty = parseSz(m, s(o['sz']));
    }
    const reduceOnly = o['reduceOnly'] === true || o['reduceOnly'] === 'true';
    const slRaw = s(o['slTriggerPx']);
    const tpRaw = s(o['tpTriggerPx']);
    if (!slRaw && !tpRaw) err('51000', 'Parameter slTriggerPx error');
    const sl = slRaw ? parsePx(m, slRaw, 'slTriggerPx') : undefined;
    const tp = tpRaw ? parsePx(m, tpRaw, 'tpTriggerPx') : undefined;
    const ordPxRaw = s(o['slOrdPx'] ?? o['tpOrdPx']);
    const orderPrice =
      ordPxRaw === undefined || ordPxRaw === '-1' ? undefined : parsePx(m, ordPxRaw, 'slOrdPx');
    const last = sim.engine.price(m.id);
    // A trigger on the wrong side of the last price (OKX docs, error codes 51277–51280): a sell's stop-loss
    // "cannot be higher than", a buy's "cannot be lower than" the last price; take-profits the other way round.
    if (sl !== undefined && sim.engine.triggerHit({ side, slTrigger: sl, tpTrigger: undefined }, last)) {
      err(
        side === 'sell' ? '51280' : '51278',
        side === 'sell'
          ? 'SL trigger price cannot be higher than the last price'
          : 'SL trigger price cannot be lower than the last price',
      );
    }
    if (tp !== undefined && sim.engine.triggerHit({ side, slTrigger: undefined, tpTrigger: tp }, last)) {
      err(
        side === 'sell' ? '51279' : '51277',
        side === 'sell'
          ? 'TP trigger price cannot be lower than the last price'
          : 'TP trigger price cannot be higher than the last price',
      );
    }
    const cid = clientIdOf(clientRaw);
    if (cid && acct.algoOrders.some((x) => x.clientId === cid)) err('51016', 'Duplicated clOrdId');
    const algo = sim.engine.placeAlgo(acct, {
      symbol: m.id,
      side,
      posSide,
      slTrigger: sl,
      tpTrigger: tp,
      orderPrice,
      qty,
      closePosition: closeFraction === '1',
      reduceOnly: reduceOnly || closeFraction === '1',
      clientId: cid,
      marginMode: tdMode,
      arrivalMs,
      meta: { ordType, tag: base.tag, clOrdId: base.clOrdId },
    });
    return { ok: true, data: { ...base, algoId: String(algo.id), sCode: '0', sMsg: '' } };
  } catch (e) {
    return itemError(e, base);
  }
}

function batchReply(outcomes: Outcome[], inTime: number): Reply {
  const okCount = outcomes.filter((x) => x.ok).length;
  const code = okCount === outcomes.length ? '0' : okCount === 0 ? '1' : '2';
  const msg =
    code === '0' ? '' : code === '1' ? 'All operations failed' : 'Bulk operation partially succeeded';
  return reply({
    code,
    msg,
    data: outcomes.map((x) => x.data),
    inTime: String(Math.round(inTime * 1000)),
    outTime: String(Math.round(performance.timeOrigin * 1000 + performance.now() * 1000)),
  });
}

function findOrder(
  acct: Account,
  m: MarketSpec,
  ordId: string | undefined,
  clOrdId: string | undefined,
): Order | undefined {
  if (!ordId && !clOrdId) err('51000', 'Parameter ordId error');
  return acct.orders.findLast(
    (o) => o.symbol === m.id && (ordId ? String(o.id) === ordId : o.clientId === clOrdId),
  );
}

function findAlgo(
  acct: Account,
  algoId: string | undefined,
  clId: string | undefined,
): AlgoOrder | undefined {
  if (!algoId && !clId) err('51000', 'Parameter algoId error');
  return acct.algoOrders.findLast((a) => (algoId ? String(a.id) === algoId : a.clientId === clId));
}

function paginate<T extends { id: number }>(list: T[], q: URLSearchParams, newestFirst = true): T[] {
  const after = q.get('after'); // older than
  const before = q.get('before'); // newer than
  let out = newestFirst ? [...list].reverse() : [...list];
  if (after) out = out.filter((x) => x.id < Number(after));
  if (before) out = out.filter((x) => x.id > Number(before));
  return out.slice(0, Math.min(Number(q.get('limit') ?? 100), 100));
}

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
function otherPositionJson(o: OtherPosition): Dict {
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

function parseJsonBody(body: string): unknown {
  if (!body) return {};
  try {
    return JSON.parse(body);
  } catch {
    err('50002', 'JSON syntax error');
  }
}

const EXP_TIME_PATHS = new Set([
  '/api/v5/trade/order',
  '/api/v5/trade/batch-orders',
  '/api/v5/trade/order-algo',
  '/api/v5/trade/amend-order',
]);

function pastExpTime(raw: string | string[] | undefined, nowMs: number): boolean {
  const exp = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && Number.isFinite(exp) && nowMs > exp;
}

export async function handleOkx(sim: Sim, req: SimRequest): Promise<Reply> {
  try {
    return route(sim, req);
  } catch (e) {
    if (e instanceof OkxError) return okxErrorReply(e.code, e.message, e.status);
    throw e;
  }
}

const PUBLIC_PREFIXES = ['/api/v5/public/', '/api/v5/market/'];

function route(sim: Sim, req: SimRequest): Reply {
  const { method, path, query: q } = req;
  const engine = sim.engine;
  if (PUBLIC_PREFIXES.some((p) => path.startsWith(p))) {
    switch (path) {
      case '/api/v5/public/time':
        return ok([{ ts: String(sim.engine.clock.now()) }]);
      case '/api/v5/public/instruments': {
        const t = q.get('instType');
        if (!t) err('51000', 'Parameter instType error');
        if (t !== 'SWAP') return ok([]);
        const id = q.get('instId');
        return ok(MARKETS.filter((m) => !id || m.okxId === id).map(instrumentJson));
      }
      case '/api/v5/market/candles':
      case '/api/v5/market/history-candles':
      case '/api/v5/market/mark-price-candles': {
        const m = inst(q.get('instId') ?? undefined) as MarketSpec;
        const bar = q.get('bar') ?? '1m';
        const ivName = OKX_BARS[bar];
        const iv = ivName ? INTERVAL_MS[ivName] : undefined;
        if (!iv) err('51000', 'Parameter bar error');
        const limit = Math.min(Number(q.get('limit') ?? 100), path.endsWith('history-candles') ? 100 : 300);
        const after = q.get('after'); // records earlier than ts
        const before = q.get('before'); // records newer than ts
        const list = candles(m, engine.price(m.id), iv, {
          limit,
          endTime: after ? Number(after) - 1 : undefined,
          startTime: before && !after ? Number(before) + 1 : undefined,
          now: engine.clock.now(),
        });
        const nowOpen = Math.floor(sim.engine.clock.now() / iv) * iv;
        return ok(
          list
            .reverse()
            .map((c) => [
              String(c.openTime),
              px(m, c.open),
              px(m, c.high),
              px(m, c.low),
              px(m, c.close),
              ctStr(m, c.volume),
              str(round(c.volume, 8)),
              str(round(c.volume * c.close, 4)),
              c.openTime === nowOpen ? '0' : '1',
            ]),
        );
      }
      case '/api/v5/market/ticker':
      case '/api/v5/market/tickers': {
        const id = q.get('instId');
        const list = path.endsWith('ticker') ? [inst(id ?? undefined) as MarketSpec] : MARKETS;
        return ok(
          list.map((m) => {
            const last = engine.price(m.id);
            const day = candles(m, last, 86_400_000, { limit: 1, now: sim.engine.clock.now() })[0];
            return {
              instType: 'SWAP',
              instId: m.okxId,
              last: px(m, last),
              lastSz: str(m.minSz),
              askPx: px(m, last),
              askSz: '10',
              bidPx: px(m, last - m.tickSize),
              bidSz: '10',
              open24h: px(m, day?.open ?? last),
              high24h: px(m, Math.max(day?.high ?? last, last)),
              low24h: px(m, Math.min(day?.low ?? last, last)),
              volCcy24h: str(round(day?.volume ?? 0, 4)),
              vol24h: ctStr(m, day?.volume ?? 0),
              ts: String(sim.engine.clock.now()),
              sodUtc0: px(m, day?.open ?? last),
              sodUtc8: px(m, day?.open ?? last),
            };
          }),
        );
      }
      case '/api/v5/public/mark-price': {
        const id = q.get('instId');
        return ok(
          MARKETS.filter((m) => !id || m.okxId === id).map((m) => ({
            instType: 'SWAP',
            instId: m.okxId,
            markPx: px(m, engine.price(m.id)),
            ts: String(sim.engine.clock.now()),
          })),
        );
      }
      case '/api/v5/public/funding-rate': {
        const m = inst(q.get('instId') ?? undefined) as MarketSpec;
        const next = Math.ceil(sim.engine.clock.now() / 28_800_000) * 28_800_000;
        return ok([
          {
            instType: 'SWAP',
            instId: m.okxId,
            fundingRate: '0.0001',
            nextFundingRate: '',
            fundingTime: String(next),
            nextFundingTime: String(next + 28_800_000),
            method: 'current_period',
            ts: String(sim.engine.clock.now()),
          },
        ]);
      }
    }
    return okxErrorReply('50014', `Path ${path} not found`, 404);
  }
  // ── private ──
  const requestPath = req.rawQuery ? `${path}?${req.rawQuery}` : path;
  const auth = verifyOkx(
    engine,
    req.headers,
    method,
    requestPath,
    req.body,
    req.arrivalMs + engine.clock.offset,
  );
  if ('error' in auth) return okxErrorReply(String(auth.error.code), auth.error.msg, auth.error.status);
  const acct = auth.account;
  if (
    method === 'POST' &&
    EXP_TIME_PATHS.has(path) &&
    pastExpTime(req.headers['exptime'], engine.clock.now())
  ) {
    // OKX API v5 "Place order" header `expTime` ("request effective deadline"): a request past it is refused,
    // not executed. The exact code is not given there; 50102 ("Timestamp request expired") is used.
    return okxErrorReply('50102', 'Timestamp request expired', 401);
  }
  const key = `${method} ${path}`;
  switch (key) {
    case 'GET /api/v5/asset/currencies':
      return ok([]);
    case 'GET /api/v5/account/balance':
      return ok([balanceJson(sim, acct)]);
    case 'GET /api/v5/account/positions':
      return ok(positionsJson(sim, acct, q.get('instId') ?? undefined, q.get('instType') ?? undefined));
    case 'GET /api/v5/account/config':
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
    case 'GET /api/v5/account/leverage-info': {
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
    }
    case 'POST /api/v5/account/set-leverage': {
      const b = parseJsonBody(req.body) as Dict;
      const m = inst(s(b['instId'])) as MarketSpec;
      const mgnMode = tdModeOf(s(b['mgnMode']));
      const lever = Number(s(b['lever']));
      if (!Number.isFinite(lever) || lever < 1 || lever > m.okxMaxLever)
        err('51000', 'Parameter lever error');
      const st = engine.settings(acct, m.id);
      st.leverage = lever;
      if (!engine.openPositions(acct).some((p) => p.symbol === m.id)) st.marginMode = mgnMode;
      return ok([{ instId: m.okxId, lever: String(lever), mgnMode, posSide: s(b['posSide']) ?? '' }]);
    }
    case 'POST /api/v5/account/set-position-mode': {
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
    }
    case 'POST /api/v5/trade/order':
    case 'POST /api/v5/trade/batch-orders': {
      const b = parseJsonBody(req.body);
      const list = (Array.isArray(b) ? b : [b]) as Dict[];
      if (list.length === 0 || list.length > 20) err('51000', 'Parameter data error');
      return batchReply(
        list.map((o) => placeOne(sim, acct, o, req.arrivalMs)),
        req.arrivalMs,
      );
    }
    case 'GET /api/v5/trade/order': {
      const m = inst(q.get('instId') ?? undefined) as MarketSpec;
      const o = findOrder(acct, m, q.get('ordId') ?? undefined, q.get('clOrdId') ?? undefined);
      if (!o || notVisibleYet(acct, o.createdAt, sim.engine.clock.now()))
        err('51603', 'Order does not exist');
      return ok([orderJson(sim, o)]);
    }
    case 'POST /api/v5/trade/cancel-order':
    case 'POST /api/v5/trade/cancel-batch-orders': {
      const b = parseJsonBody(req.body);
      const list = (Array.isArray(b) ? b : [b]) as Dict[];
      const outcomes = list.map((c): Outcome => {
        const base = {
          clOrdId: s(c['clOrdId']) ?? '',
          ordId: s(c['ordId']) ?? '',
          ts: String(sim.engine.clock.now()),
        };
        try {
          const m = inst(s(c['instId'])) as MarketSpec;
          const o = findOrder(acct, m, s(c['ordId']), s(c['clOrdId']));
          if (!o)
            err(
              '51400',
              'Order cancellation failed as the order has been filled, canceled or does not exist.',
            );
          if (!engine.cancelOrder(acct, o))
            err(
              o.status === 'filled' ? '51402' : '51401',
              o.status === 'filled'
                ? 'Order cancellation failed as the order has been filled.'
                : 'Order cancellation failed as the order has been canceled.',
            );
          return {
            ok: true,
            data: { ...base, clOrdId: o.clientId, ordId: String(o.id), sCode: '0', sMsg: '' },
          };
        } catch (e) {
          return itemError(e, base);
        }
      });
      return batchReply(outcomes, req.arrivalMs);
    }
    case 'GET /api/v5/trade/orders-pending': {
      const id = q.get('instId');
      const list = engine
        .openOrders(acct)
        .filter((o) => !id || (findMarket(o.symbol) as MarketSpec).okxId === id);
      return ok(paginate(list, q).map((o) => orderJson(sim, o)));
    }
    case 'GET /api/v5/trade/orders-history':
    case 'GET /api/v5/trade/orders-history-archive': {
      const id = q.get('instId');
      const list = acct.orders.filter(
        (o) =>
          o.status !== 'new' &&
          o.status !== 'partially_filled' &&
          (!id || (findMarket(o.symbol) as MarketSpec).okxId === id),
      );
      return ok(paginate(list, q).map((o) => orderJson(sim, o)));
    }
    case 'POST /api/v5/trade/order-algo': {
      const b = parseJsonBody(req.body) as Dict;
      return batchReply([placeAlgo(sim, acct, b, req.arrivalMs)], req.arrivalMs);
    }
    case 'GET /api/v5/trade/order-algo': {
      const a = findAlgo(acct, q.get('algoId') ?? undefined, q.get('algoClOrdId') ?? undefined);
      if (!a || notVisibleYet(acct, a.createdAt, sim.engine.clock.now()))
        err('51603', 'Order does not exist');
      return ok([algoJson(sim, a)]);
    }
    case 'GET /api/v5/trade/orders-algo-pending':
    case 'GET /api/v5/trade/orders-algo-history': {
      const ordType = q.get('ordType');
      if (!ordType) err('51000', 'Parameter ordType error');
      const types = ordType.split(',');
      const id = q.get('instId');
      const pending = path.endsWith('pending');
      const state = q.get('state');
      const list = acct.algoOrders.filter(
        (a) =>
          (pending ? a.status === 'new' : a.status !== 'new' && (!state || ALGO_STATE[a.status] === state)) &&
          types.includes((a.meta['ordType'] as string | undefined) ?? 'conditional') &&
          (!id || (findMarket(a.symbol) as MarketSpec).okxId === id) &&
          (!q.get('algoId') || String(a.id) === q.get('algoId')),
      );
      return ok(paginate(list, q).map((a) => algoJson(sim, a)));
    }
    case 'POST /api/v5/trade/cancel-algos': {
      const b = parseJsonBody(req.body);
      const list = (Array.isArray(b) ? b : [b]) as Dict[];
      const outcomes = list.map((c): Outcome => {
        const base = {
          algoId: s(c['algoId']) ?? '',
          algoClOrdId: s(c['algoClOrdId']) ?? '',
          clOrdId: '',
          tag: '',
        };
        try {
          inst(s(c['instId']));
          const a = findAlgo(acct, s(c['algoId']), s(c['algoClOrdId']));
          if (!a || !engine.cancelAlgo(acct, a))
            err(
              '51400',
              'Order cancellation failed as the order has been filled, canceled or does not exist.',
            );
          return {
            ok: true,
            data: { ...base, algoId: String(a.id), algoClOrdId: a.clientId, sCode: '0', sMsg: '' },
          };
        } catch (e) {
          return itemError(e, base);
        }
      });
      return batchReply(outcomes, req.arrivalMs);
    }
    case 'GET /api/v5/account/bills':
    case 'GET /api/v5/account/bills-archive':
      return accountBills(engine, acct, path, q);
    case 'GET /api/v5/trade/fills':
    case 'GET /api/v5/trade/fills-history': {
      const id = q.get('instId');
      const ordId = q.get('ordId');
      const begin = q.get('begin');
      const end = q.get('end');
      // OKX "Get transaction details (last 3 days)" vs "(last 3 months)"; fills-history requires instType.
      // Both: newest first, limit default 100 and max 100, `after` = older than billId, `before` = newer.
      const history = path.endsWith('history');
      if (history && !q.get('instType'))
        return okxErrorReply('50014', 'Parameter instType can not be empty.');
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
    }
  }
  return okxErrorReply('50014', `Path ${path} not found`, 404);
}

/** Random-looking id generator for tests. */
export function okxClientId(): string {
  return `sim${randomBytes(8).toString('hex')}`;
}
