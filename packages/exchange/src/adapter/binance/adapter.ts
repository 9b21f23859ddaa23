import type * as ccxt from 'ccxt';
import type { Exchange } from '@tradehook/contracts';
import { binanceFundingAfter, type FundingBatch, type FundingCursor } from '../../funding-history.ts';
import { binanceTradesAfter, type TradeCursor } from '../../trade-history.ts';
import type {
  LimitOrderRequest,
  MarketOrderRequest,
  PositionInfo,
  PositionMode,
  TradeInfo,
  TrailingStopRequest,
} from '../../types.ts';
import { CcxtExchangeAdapter, type KeyPermissions } from '../base.ts';
import { num, type Dict } from '../util.ts';

/**
 * Binance USDⓈ-M futures: margin mode per symbol, POSITION SIDE in capitals, conditional orders on the Algo
 * Service (ccxt `trigger: true`), trades paged by fromId / 7-day windows, no protection attached to entries.
 */
export class BinanceAdapter extends CcxtExchangeAdapter {
  readonly exchange: Exchange = 'binance';
  readonly supportsAttachedProtection = false;
  // GET /fapi/v1/openOrders and /fapi/v1/openAlgoOrders weigh 1 with a symbol, 40 without (Binance USDⓈ-M
  // "Current All Open Orders"; ccxt binance.ts fapiPrivate costs `{ cost: 1, noSymbol: 40 }`): 2 per symbol
  // against 80, cheaper below 40 symbols.
  readonly openOrdersPerSymbolUpTo = 39;
  // A reconcile reads positions (5) and balance (5) — Binance USDⓈ-M "Position Information V3", "Futures Account
  // Balance V3" — and open orders per symbol (1 + 1): about 12 of the IP's 2400 weight per minute. Spaced 1.5 s
  // per account, all reconciles together take at most 480 a minute (a fifth), whatever the account count.
  readonly reconcileSpacingMs = 1_500;
  protected readonly recentTradesLimit = 1000;

  /**
   * From "Futures Account Configuration" (GET /fapi/v1/accountConfig, weight 5 in the USDⓈ-M docs), which
   * carries `dualSidePosition` too: ccxt's fetchPositionMode reads GET /fapi/v1/positionSide/dual, weight 30 —
   * read for every account at every worker start, that was most of the IP's minute with a hundred accounts.
   */
  override async fetchPositionMode(): Promise<PositionMode> {
    const client = this.client as unknown as { fapiPrivateGetAccountConfig(p: Dict): Promise<Dict> };
    const res = await client.fapiPrivateGetAccountConfig({});
    return res['dualSidePosition'] === true ? 'hedge' : 'oneway';
  }

  /**
   * ORDER_TRADE_UPDATE (USDⓈ-M "Event: Order Update"), as ccxt pro leaves it in `info`: trade id `t` (the REST
   * userTrades `id`), client id `c`, realized profit `rp` (REST: `realizedPnl`), commission `n` in `N`,
   * positive = paid, as in REST.
   */
  override fromPushedTrade(t: ccxt.Trade): TradeInfo {
    const base = super.fromPushedTrade(t);
    const info = (t.info ?? {}) as Dict;
    return {
      ...base,
      clientOrderId: base.clientOrderId ?? ((info['c'] as string | undefined) || null),
      realizedPnl: num(info['rp']) ?? base.realizedPnl,
    };
  }

  /**
   * exchangeInfo's `{"filterType":"MAX_NUM_ALGO_ORDERS","limit":10}` (USDⓈ-M "Filters": open STOP,
   * STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET and TRAILING_STOP_MARKET orders per symbol; beyond it -4045).
   */
  protected override conditionalOrderCap(m: ccxt.MarketInterface): number | undefined {
    const filters = ((m.info as Dict | undefined)?.['filters'] ?? []) as Dict[];
    const cap = filters.find((f) => f['filterType'] === 'MAX_NUM_ALGO_ORDERS');
    return num(cap?.['limit']) ?? undefined;
  }

  override async prepareAccount(): Promise<void> {
    await this.loadMarkets();
    await (this.client as ccxt.binanceusdm).loadLeverageBrackets();
  }

  protected venueOrderParams(req: MarketOrderRequest, params: Dict, hedge: boolean): void {
    if (hedge) params['positionSide'] = req.positionSide!.toUpperCase();
  }

  protected limitOrderParams(req: LimitOrderRequest, params: Dict): void {
    // GTX ("good till crossing") is USDⓈ-M's post-only.
    params['timeInForce'] = req.postOnly ? 'GTX' : (req.timeInForce ?? 'GTC');
  }

  /**
   * ccxt sends `trailingPercent` as callbackRate of a TRAILING_STOP_MARKET algo order (clientAlgoId). The
   * activation goes as the algo endpoint's own `activatePrice` (USDⓈ-M "New Algo Order"): ccxt's
   * trailingTriggerPrice would send the old endpoint's `activationPrice`, which the algo endpoint does not read.
   */
  protected trailingStopParams(req: TrailingStopRequest, params: Dict): void {
    if (req.activationPrice !== undefined)
      params['activatePrice'] = String(this.priceToPrecision(req.symbol, req.activationPrice));
  }

  override async withLeverage(positions: PositionInfo[]): Promise<PositionInfo[]> {
    const missing = [...new Set(positions.filter((p) => p.leverage === null).map((p) => p.symbol))];
    if (missing.length === 0) return positions;
    // Binance's v3 positionRisk has no leverage; ccxt's fetchLeverages reads GET /fapi/v1/symbolConfig.
    const leverages = await this.client.fetchLeverages(missing);
    return positions.map((p) => {
      if (p.leverage !== null) return p;
      const l = leverages[p.symbol];
      return { ...p, leverage: num(p.side === 'long' ? l?.longLeverage : l?.shortLeverage) };
    });
  }

  protected readTradesAfter(symbol: string, cursor: TradeCursor | null, startMs: number) {
    return binanceTradesAfter(this.client, symbol, cursor, startMs);
  }

  fetchFundingAfter(cursor: FundingCursor | null, startMs: number): Promise<FundingBatch> {
    return binanceFundingAfter(this.client, cursor, startMs);
  }

  protected async keyPermissions(balanceInfo: Dict): Promise<KeyPermissions> {
    let canTrade: boolean | null = null;
    let canWithdraw: boolean | null = null;
    if (this.client.options['enableDemoTrading'] === true) {
      // Binance demo trading has no /sapi (ccxt: NotSupported "does not have a testnet/sandbox URL for
      // sapi"): the futures account's own canTrade is all there is, and a demo key moves no real money.
      if (typeof balanceInfo['canTrade'] === 'boolean') canTrade = balanceInfo['canTrade'];
    } else {
      // Binance "Get API Key Permission" (GET /sapi/v1/account/apiRestrictions, weight 1).
      const r = (await (
        this.client as unknown as { sapiGetAccountApiRestrictions(p: Dict): Promise<Dict> }
      ).sapiGetAccountApiRestrictions({})) as { enableWithdrawals?: boolean; enableFutures?: boolean };
      if (typeof r.enableWithdrawals === 'boolean') canWithdraw = r.enableWithdrawals;
      if (typeof r.enableFutures === 'boolean') canTrade = r.enableFutures;
      else if (typeof balanceInfo['canTrade'] === 'boolean') canTrade = balanceInfo['canTrade'];
    }
    return { canTrade, canWithdraw, problems: [] };
  }
}
