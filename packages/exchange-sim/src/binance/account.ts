/** Binance USDⓈ-M account endpoints: balances, positions, per-symbol settings, key permissions, history. */
import { feeBurn, income, userTrades } from '../binance-history.ts';
import { type Account } from '../engine.ts';
import { reply, type Sim } from '../http.ts';
import { MARKETS, type MarketSpec, marketById } from '../markets.ts';
import { fmt, str } from '../num.ts';
import { P_SIDE } from '../binance-codes.ts';
import { brackets } from './market-data.ts';
import { err, market, need, type Params } from './params.ts';
import { route, type Route } from '../route-table.ts';

/**
 * `GET /fapi/v2/account` and `/fapi/v3/account`. v2 carries the key's flags and fee tier on top (ccxt's
 * recorded "Linear swap balance", test-fixtures/ccxt-recorded-responses.json); v3 dropped them.
 */
function accountJson(sim: Sim, acct: Account, version: 'v2' | 'v3'): Record<string, unknown> {
  const g = sim.engine.margins(acct);
  const positions = sim.engine.openPositions(acct).map((pos) => {
    const px = sim.engine.price(pos.symbol);
    const lev = sim.engine.settings(acct, pos.symbol).leverage;
    const notional = pos.qty * px;
    return {
      symbol: pos.symbol,
      positionSide: P_SIDE[pos.posSide],
      positionAmt: fmt(pos.qty, (marketById(pos.symbol) as MarketSpec).quantityPrecision),
      unrealizedProfit: fmt(sim.engine.unrealized(pos), 8),
      isolatedMargin: '0',
      notional: fmt(notional, 8),
      isolatedWallet: '0',
      initialMargin: fmt(Math.abs(notional) / lev, 8),
      maintMargin: fmt(Math.abs(notional) * 0.004, 8),
      updateTime: pos.updatedAt,
    };
  });
  const v2 =
    version === 'v2'
      ? {
          feeTier: 0,
          canTrade: acct.permissions.includes('futures'),
          canDeposit: true,
          canWithdraw: acct.permissions.includes('withdrawals'),
          tradeGroupId: -1,
          updateTime: 0,
          multiAssetsMargin: false,
        }
      : {};
  return {
    ...v2,
    totalInitialMargin: fmt(g.positionIM + g.orderIM, 8),
    totalMaintMargin: fmt(g.maint, 8),
    totalWalletBalance: fmt(g.wallet, 8),
    totalUnrealizedProfit: fmt(g.upl, 8),
    totalMarginBalance: fmt(g.marginBalance, 8),
    totalPositionInitialMargin: fmt(g.positionIM, 8),
    totalOpenOrderInitialMargin: fmt(g.orderIM, 8),
    totalCrossWalletBalance: fmt(g.wallet, 8),
    totalCrossUnPnl: fmt(g.upl, 8),
    availableBalance: fmt(g.available, 8),
    maxWithdrawAmount: fmt(Math.min(g.available, g.wallet), 8),
    assets: [
      {
        asset: 'USDT',
        walletBalance: fmt(g.wallet, 8),
        unrealizedProfit: fmt(g.upl, 8),
        marginBalance: fmt(g.marginBalance, 8),
        maintMargin: fmt(g.maint, 8),
        initialMargin: fmt(g.positionIM + g.orderIM, 8),
        positionInitialMargin: fmt(g.positionIM, 8),
        openOrderInitialMargin: fmt(g.orderIM, 8),
        crossWalletBalance: fmt(g.wallet, 8),
        crossUnPnl: fmt(g.upl, 8),
        availableBalance: fmt(g.available, 8),
        maxWithdrawAmount: fmt(Math.min(g.available, g.wallet), 8),
        marginAvailable: true,
        updateTime: acct.updatedAt,
      },
    ],
    positions,
  };
}

function positionRisk(sim: Sim, acct: Account, p: Params): unknown[] {
  const m = market(p, false);
  return sim.engine
    .openPositions(acct)
    .filter((pos) => !m || pos.symbol === m.id)
    .map((pos) => {
      const mk = marketById(pos.symbol) as MarketSpec;
      const px = sim.engine.price(pos.symbol);
      const s = sim.engine.settings(acct, pos.symbol);
      const notional = pos.qty * px;
      const isolated = s.marginMode === 'isolated';
      const im = Math.abs(notional) / s.leverage;
      const liq =
        pos.qty > 0
          ? pos.entryPrice * (1 - 1 / s.leverage + 0.004)
          : pos.entryPrice * (1 + 1 / s.leverage - 0.004);
      return {
        symbol: pos.symbol,
        positionSide: P_SIDE[pos.posSide],
        positionAmt: fmt(pos.qty, mk.quantityPrecision),
        entryPrice: str(pos.entryPrice),
        breakEvenPrice: str(pos.entryPrice * (1 + Math.sign(pos.qty) * acct.takerFee)),
        markPrice: fmt(px, 8),
        unRealizedProfit: fmt(sim.engine.unrealized(pos), 8),
        liquidationPrice: isolated ? fmt(Math.max(0, liq), 8) : '0',
        isolatedMargin: isolated ? fmt(Math.abs(pos.qty * pos.entryPrice) / s.leverage, 8) : '0',
        notional: fmt(notional, 8),
        marginAsset: 'USDT',
        isolatedWallet: isolated ? fmt(Math.abs(pos.qty * pos.entryPrice) / s.leverage, 8) : '0',
        initialMargin: fmt(im, 8),
        maintMargin: fmt(Math.abs(notional) * 0.004, 8),
        positionInitialMargin: fmt(im, 8),
        openOrderInitialMargin: '0',
        adl: 1,
        bidNotional: '0',
        askNotional: '0',
        updateTime: pos.updatedAt,
      };
    });
}

/** Account and user-data endpoints (Binance USDⓈ-M "Account Endpoints", sapi key permissions). */
export const ACCOUNT_ROUTES: Route[] = [
  route(['GET /sapi/v1/account/apiRestrictions'], ({ acct }) => {
    // Binance "Get API Key Permission" (USER_DATA, weight 1): the key's restrictions as enable* flags.
    const has = (perm: string) => acct.permissions.includes(perm);
    return reply({
      ipRestrict: false,
      createTime: acct.createdAt,
      enableReading: has('reading'),
      enableWithdrawals: has('withdrawals'),
      enableInternalTransfer: has('internal_transfer'),
      enableMargin: has('margin'),
      enableFutures: has('futures'),
      permitsUniversalTransfer: has('universal_transfer'),
      enableVanillaOptions: has('vanilla_options'),
      enableFixApiTrade: false,
      enableFixReadOnly: false,
      enableSpotAndMarginTrading: has('spot_and_margin_trading'),
      enablePortfolioMarginTrading: false,
    });
  }),
  route(
    [
      'GET /sapi/v1/capital/config/getall',
      'GET /sapi/v1/margin/allPairs',
      'GET /sapi/v1/margin/isolated/allPairs',
    ],
    () => reply([]),
  ),
  route(['GET /fapi/v3/account'], ({ sim, acct }) => reply(accountJson(sim, acct, 'v3'))),
  route(['GET /fapi/v2/account'], ({ sim, acct }) => reply(accountJson(sim, acct, 'v2'))),
  route(['GET /fapi/v2/balance', 'GET /fapi/v3/balance'], ({ engine, acct }) => {
    const g = engine.margins(acct);
    return reply([
      {
        accountAlias: 'SgsR',
        asset: 'USDT',
        balance: fmt(g.wallet, 8),
        crossWalletBalance: fmt(g.wallet, 8),
        crossUnPnl: fmt(g.upl, 8),
        availableBalance: fmt(g.available, 8),
        maxWithdrawAmount: fmt(Math.min(g.available, g.wallet), 8),
        marginAvailable: true,
        updateTime: acct.updatedAt,
      },
    ]);
  }),
  route(['GET /fapi/v3/positionRisk', 'GET /fapi/v2/positionRisk'], ({ sim, p, acct }) =>
    reply(positionRisk(sim, acct, p)),
  ),
  route(['GET /fapi/v1/symbolConfig'], ({ engine, p, acct }) => {
    // Binance "Symbol Configuration (USER_DATA)": leverage and margin type per symbol — v3 positionRisk no
    // longer carries leverage; ccxt's fetchLeverages reads it here (binance.js, fapiPrivateGetSymbolConfig).
    const m = market(p, false);
    return reply(
      (m ? [m] : MARKETS).map((mk) => {
        const s = engine.settings(acct, mk.id);
        return {
          symbol: mk.id,
          marginType: s.marginMode === 'isolated' ? 'ISOLATED' : 'CROSSED',
          isAutoAddMargin: 'false',
          leverage: s.leverage,
          maxNotionalValue: s.leverage > 50 ? '50000' : s.leverage > 20 ? '500000' : '5000000',
        };
      }),
    );
  }),
  route(['GET /fapi/v1/leverageBracket'], ({ p }) => {
    const m = market(p, false);
    return reply(m ? [brackets(m)] : MARKETS.map(brackets));
  }),
  route(['GET /fapi/v1/commissionRate'], ({ p, acct }) => {
    const m = market(p) as MarketSpec;
    return reply({
      symbol: m.id,
      makerCommissionRate: str(acct.makerFee),
      takerCommissionRate: str(acct.takerFee),
      rpiCommissionRate: '0',
    });
  }),
  route(['POST /fapi/v1/leverage'], ({ engine, p, acct }) => {
    const m = market(p) as MarketSpec;
    const raw = need(p, 'leverage');
    const lev = Number(raw);
    if (!Number.isInteger(lev) || lev < 1 || lev > m.maxLeverage) err(-4028, `Leverage ${raw} is not valid`);
    engine.setLeverage(acct, m.id, lev);
    return reply({
      leverage: lev,
      maxNotionalValue: lev > 50 ? '50000' : lev > 20 ? '500000' : '5000000',
      symbol: m.id,
    });
  }),
  route(['POST /fapi/v1/marginType'], ({ engine, p, acct }) => {
    const m = market(p) as MarketSpec;
    const t = need(p, 'marginType').toUpperCase();
    if (t !== 'ISOLATED' && t !== 'CROSSED') err(-4002, 'Invalid margin type.');
    const mode = t === 'ISOLATED' ? 'isolated' : 'cross';
    const s = engine.settings(acct, m.id);
    if (s.marginMode === mode) err(-4046, 'No need to change margin type.');
    if (engine.openPositions(acct).some((x) => x.symbol === m.id))
      err(-4048, 'Margin type cannot be changed if there exists position.');
    if (engine.openOrders(acct, m.id).length > 0)
      err(-4047, 'Margin type cannot be changed if there exists open orders.');
    s.marginMode = mode;
    return reply({ code: 200, msg: 'success' });
  }),
  route(['GET /fapi/v1/positionSide/dual'], ({ acct }) =>
    reply({ dualSidePosition: acct.positionMode === 'hedge' }),
  ),
  // "Futures Account Configuration (USER_DATA)", GET /fapi/v1/accountConfig (developers.binance.com,
  // derivatives/usds-margined-futures/account/rest-api/Account-Config): the response example's fields.
  route(['GET /fapi/v1/accountConfig'], ({ acct }) =>
    reply({
      feeTier: 0,
      canTrade: acct.permissions.includes('futures'),
      canDeposit: true,
      canWithdraw: acct.permissions.includes('withdrawals'),
      dualSidePosition: acct.positionMode === 'hedge',
      updateTime: 0,
      multiAssetsMargin: false,
      tradeGroupId: -1,
    }),
  ),
  route(['POST /fapi/v1/positionSide/dual'], ({ engine, p, acct }) => {
    const want = need(p, 'dualSidePosition').toLowerCase() === 'true' ? 'hedge' : 'oneway';
    if (acct.positionMode === want) err(-4059, 'No need to change position side.');
    if (engine.openPositions(acct).length > 0)
      err(-4068, 'Position side cannot be changed if there exists position.');
    if (engine.openOrders(acct).length > 0)
      err(-4067, 'Position side cannot be changed if there exists open orders.');
    acct.positionMode = want;
    return reply({ code: 200, msg: 'success' });
  }),
  route(['GET /fapi/v1/userTrades'], ({ engine, p, acct }) => userTrades(engine, acct, p)),
  route(['GET /fapi/v1/income'], ({ engine, p, acct }) => income(engine, acct, p)),
  route(['GET /fapi/v1/feeBurn', 'POST /fapi/v1/feeBurn'], ({ p, acct, method }) => feeBurn(acct, method, p)),
];
