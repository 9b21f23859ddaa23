/** OKX v5 orders and algo orders: JSON shapes, placement, and their routes. Sizes are in contracts. */
import {
  ALGO_STATE,
  type Dict,
  type Outcome,
  POS_SIDE_OUT,
  STATE,
  batchReply,
  clientIdOf,
  ctStr,
  err,
  inst,
  itemError,
  ok,
  paginate,
  parseJsonBody,
  parsePx,
  parseSz,
  posSideOf,
  px,
  refuseSimpleMode,
  s,
  sideOf,
  tdModeOf,
} from './common.ts';
import { type Account, type AlgoOrder, type Order } from '../engine.ts';
import { type MarketSpec, findMarket } from '../markets.ts';
import { type Route, route } from '../route-table.ts';
import { type Sim } from '../http.ts';
import { asReported, notVisibleYet } from '../report-lag.ts';
import { round, str } from '../num.ts';
import { algoTypesOf, placeMoveOrderStop, trailingFields } from './trailing.ts';

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
    cancelSource: (o.meta['cancelSource'] as string | undefined) ?? '',
    cancelSourceReason: (o.meta['cancelSourceReason'] as string | undefined) ?? '',
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
    ...trailingFields(a, m),
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

export function placeOne(sim: Sim, acct: Account, o: Dict, arrivalMs: number): Outcome {
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
    const last = sim.engine.price(m.id);
    refuseAttachedThroughPrice(o['attachAlgoOrds'], side, isMarket ? undefined : price, last);
    const wouldTake = price !== undefined && (side === 'buy' ? price >= last : price <= last);
    // OKX v5 "Place order" ordType: post_only / fok / ioc are limit orders with a time-in-force. They are
    // accepted (sCode 0) and then canceled by the exchange when they cannot do what they ask: a post-only that
    // would take (cancelSource 31, "POST_ONLY would take liquidity") never rests or fills; an IOC's unfilled
    // remainder and a FOK that cannot fill in full are canceled. The sim's book is the last price, so a limit
    // at or through it takes (in full, at that price).
    const order = sim.engine.placeOrder(acct, {
      symbol: m.id,
      side,
      posSide,
      type: isMarket ? 'market' : 'limit',
      price,
      // A FOK the book cannot fill in full (control API limit-depth) is canceled without a fill.
      cancelIfTaking:
        ordType === 'post_only' || (ordType === 'fok' && (sim.engine.limitDepth.get(m.id) ?? Infinity) < qty),
      qty,
      reduceOnly,
      clientId: cid,
      marginMode: tdMode,
      arrivalMs,
      overClose: 'clamp',
      meta: {
        tag,
        ordType,
        ...(ordType === 'post_only' && wouldTake
          ? { cancelSource: '31', cancelSourceReason: 'POST_ONLY would take liquidity' }
          : {}),
      },
    });
    if (ordType === 'ioc' || ordType === 'fok') sim.engine.cancelOrder(acct, order);
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

/**
 * Attached SL/TP on the wrong side refuse the whole order, before anything fills (ccxt okx.ts exceptions,
 * OKX error codes): against a limit order's price 51046–51049, against the book for a market order 51050–51053
 * (best ask for a buy, best bid for a sell; the sim's book is the last price). Equal counts as wrong (stricter).
 */
function refuseAttachedThroughPrice(
  raw: unknown,
  side: 'buy' | 'sell',
  limitPx: number | undefined,
  last: number,
) {
  if (!Array.isArray(raw)) return;
  const ref = limitPx ?? last;
  const market = limitPx === undefined;
  for (const att of raw as Dict[]) {
    const sl = s(att['slTriggerPx']);
    const tp = s(att['tpTriggerPx']);
    const buy = side === 'buy';
    if (tp && (buy ? Number(tp) <= ref : Number(tp) >= ref)) {
      if (market)
        err(
          buy ? '51050' : '51052',
          `The take profit trigger price should be ${buy ? 'higher than the best ask' : 'lower than the best bid'} price`,
        );
      err(
        buy ? '51046' : '51048',
        `The take profit trigger price should be ${buy ? 'higher' : 'lower'} than the order price`,
      );
    }
    if (sl && (buy ? Number(sl) >= ref : Number(sl) <= ref)) {
      if (market)
        err(
          buy ? '51051' : '51053',
          `The stop loss trigger price should be ${buy ? 'lower than the best ask' : 'higher than the best bid'} price`,
        );
      err(
        buy ? '51047' : '51049',
        `The stop loss trigger price should be ${buy ? 'lower' : 'higher'} than the order price`,
      );
    }
  }
}

export function placeAlgo(sim: Sim, acct: Account, o: Dict, arrivalMs: number): Outcome {
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
    if (ordType !== 'conditional' && ordType !== 'oco' && ordType !== 'move_order_stop')
      err('51000', 'Parameter ordType error');
    const closeFraction = s(o['closeFraction']);
    let qty: number | undefined;
    if (closeFraction !== undefined) {
      if (closeFraction !== '1') err('51000', 'Parameter closeFraction error');
      if (o['sz'] !== undefined && o['sz'] !== '') err('51000', 'Parameter sz error');
    } else {
      qty = parseSz(m, s(o['sz']));
    }
    const reduceOnly = o['reduceOnly'] === true || o['reduceOnly'] === 'true';
    if (ordType === 'move_order_stop') {
      // A trailing stop closes by size (closeFraction belongs to TP/SL orders: OKX "Place algo order").
      if (closeFraction !== undefined) err('51000', 'Parameter closeFraction error');
      const cid = clientIdOf(clientRaw);
      if (cid && acct.algoOrders.some((x) => x.clientId === cid)) err('51016', 'Duplicated clOrdId');
      const algo = placeMoveOrderStop(
        sim,
        acct,
        m,
        {
          side,
          posSide,
          qty,
          reduceOnly,
          clientId: cid,
          marginMode: tdMode,
          arrivalMs,
          tag: base.tag,
          clOrdId: base.clOrdId,
        },
        o,
      );
      return { ok: true, data: { ...base, algoId: String(algo.id), sCode: '0', sMsg: '' } };
    }
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

export function findOrder(
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

export function findAlgo(
  acct: Account,
  algoId: string | undefined,
  clId: string | undefined,
): AlgoOrder | undefined {
  if (!algoId && !clId) err('51000', 'Parameter algoId error');
  return acct.algoOrders.findLast((a) => (algoId ? String(a.id) === algoId : a.clientId === clId));
}

/** Orders and algo orders (OKX v5 "Trade"). */
export const ORDER_ROUTES: Route[] = [
  route(['POST /api/v5/trade/order', 'POST /api/v5/trade/batch-orders'], ({ sim, acct, req }) => {
    const b = parseJsonBody(req.body);
    const list = (Array.isArray(b) ? b : [b]) as Dict[];
    if (list.length === 0 || list.length > 20) err('51000', 'Parameter data error');
    return batchReply(
      list.map((o) => placeOne(sim, acct, o, req.arrivalMs)),
      req.arrivalMs,
    );
  }),
  route(['GET /api/v5/trade/order'], ({ sim, q, acct }) => {
    const m = inst(q.get('instId') ?? undefined) as MarketSpec;
    const o = findOrder(acct, m, q.get('ordId') ?? undefined, q.get('clOrdId') ?? undefined);
    if (!o || notVisibleYet(acct, o.createdAt, sim.engine.clock.now())) err('51603', 'Order does not exist');
    return ok([orderJson(sim, o)]);
  }),
  route(
    ['POST /api/v5/trade/cancel-order', 'POST /api/v5/trade/cancel-batch-orders'],
    ({ sim, engine, acct, req }) => {
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
    },
  ),
  route(['GET /api/v5/trade/orders-pending'], ({ sim, engine, q, acct }) => {
    const id = q.get('instId');
    const list = engine
      .openOrders(acct)
      .filter((o) => !id || (findMarket(o.symbol) as MarketSpec).okxId === id);
    return ok(paginate(list, q).map((o) => orderJson(sim, o)));
  }),
  route(
    ['GET /api/v5/trade/orders-history', 'GET /api/v5/trade/orders-history-archive'],
    ({ sim, q, acct }) => {
      const id = q.get('instId');
      const list = acct.orders.filter(
        (o) =>
          o.status !== 'new' &&
          o.status !== 'partially_filled' &&
          (!id || (findMarket(o.symbol) as MarketSpec).okxId === id),
      );
      return ok(paginate(list, q).map((o) => orderJson(sim, o)));
    },
  ),
  route(['POST /api/v5/trade/order-algo'], ({ sim, acct, req }) => {
    const b = parseJsonBody(req.body) as Dict;
    return batchReply([placeAlgo(sim, acct, b, req.arrivalMs)], req.arrivalMs);
  }),
  route(['GET /api/v5/trade/order-algo'], ({ sim, q, acct }) => {
    const a = findAlgo(acct, q.get('algoId') ?? undefined, q.get('algoClOrdId') ?? undefined);
    if (!a || notVisibleYet(acct, a.createdAt, sim.engine.clock.now())) err('51603', 'Order does not exist');
    return ok([algoJson(sim, a)]);
  }),
  route(
    ['GET /api/v5/trade/orders-algo-pending', 'GET /api/v5/trade/orders-algo-history'],
    ({ sim, q, acct, path }) => {
      const ordType = q.get('ordType');
      if (!ordType) err('51000', 'Parameter ordType error');
      const types = algoTypesOf(ordType);
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
    },
  ),
  route(['POST /api/v5/trade/cancel-algos'], ({ engine, acct, req }) => {
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
          err('51400', 'Order cancellation failed as the order has been filled, canceled or does not exist.');
        return {
          ok: true,
          data: { ...base, algoId: String(a.id), algoClOrdId: a.clientId, sCode: '0', sMsg: '' },
        };
      } catch (e) {
        return itemError(e, base);
      }
    });
    return batchReply(outcomes, req.arrivalMs);
  }),
];
