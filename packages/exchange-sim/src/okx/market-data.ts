/** OKX v5 public endpoints: instruments, candles, tickers, mark price, funding rate. */
import { type Dict, ctStr, err, inst, ok, px } from './common.ts';
import { INTERVAL_MS, OKX_BARS, candles } from '../klines.ts';
import { MARKETS, type MarketSpec } from '../markets.ts';
import { type Route, route } from '../route-table.ts';
import { round, str } from '../num.ts';

export function instrumentJson(m: MarketSpec): Dict {
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

/** Public endpoints, keyed by path alone: the simulator answers them for any method. */
export const PUBLIC_ROUTES: Route[] = [
  route(['/api/v5/public/time'], ({ sim }) => ok([{ ts: String(sim.engine.clock.now()) }])),
  route(['/api/v5/public/instruments'], ({ q }) => {
    const t = q.get('instType');
    if (!t) err('51000', 'Parameter instType error');
    if (t !== 'SWAP') return ok([]);
    const id = q.get('instId');
    return ok(MARKETS.filter((m) => !id || m.okxId === id).map(instrumentJson));
  }),
  route(
    ['/api/v5/market/candles', '/api/v5/market/history-candles', '/api/v5/market/mark-price-candles'],
    ({ sim, engine, q, path }) => {
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
    },
  ),
  route(['/api/v5/market/ticker', '/api/v5/market/tickers'], ({ sim, engine, q, path }) => {
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
  }),
  route(['/api/v5/public/mark-price'], ({ sim, engine, q }) => {
    const id = q.get('instId');
    return ok(
      MARKETS.filter((m) => !id || m.okxId === id).map((m) => ({
        instType: 'SWAP',
        instId: m.okxId,
        markPx: px(m, engine.price(m.id)),
        ts: String(sim.engine.clock.now()),
      })),
    );
  }),
  route(['/api/v5/public/funding-rate'], ({ sim, q }) => {
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
  }),
];
