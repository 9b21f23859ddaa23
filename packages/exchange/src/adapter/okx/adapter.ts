import * as ccxt from 'ccxt';
import type { Exchange } from '@tradehook/contracts';
import { okxFundingAfter, type FundingBatch, type FundingCursor } from '../../funding-history.ts';
import { okxTradesAfter, type TradeCursor } from '../../trade-history.ts';
import type {
  ConditionalOrderRequest,
  LimitOrderRequest,
  MarginMode,
  MarketOrderRequest,
  OrderInfo,
  PositionSide,
  TradeInfo,
  TrailingStopRequest,
} from '../../types.ts';
import { CcxtExchangeAdapter, type KeyPermissions } from '../base.ts';
import { num, type Dict } from '../util.ts';
import { attachAlgoOrds, attachedLegs } from './attached.ts';

/**
 * OKX swaps: margin mode (tdMode) with every order, isolated leverage per leg, conditional orders are algo
 * orders identified by algoClOrdId, fills paged 100 at a time by billId, SL/TP attachable to entries.
 */
export class OkxAdapter extends CcxtExchangeAdapter {
  readonly exchange: Exchange = 'okx';
  readonly supportsAttachedProtection = true;
  // OKX limits orders-pending by request count (60 / 2 s), not weight: one request for all symbols is cheapest.
  readonly openOrdersPerSymbolUpTo = 0;
  // Its account reads are limited per account (okx-rate-rules.ts), not per IP: no spacing across accounts.
  readonly reconcileSpacingMs = 0;
  protected readonly recentTradesLimit = 100;

  // OKX lists every instrument type without instType (futures, margin, options too); we trade only swaps.
  protected override positionsParams(): Dict {
    return { instType: 'SWAP' };
  }

  // `oco`: SL+TP attached to an entry are booked as one OCO algo order. OKX takes these two types together
  // (orders-algo-pending: "conditional and oco both can be used and separated with comma"); any other type,
  // such as the trailing stop (move_order_stop), is a request of its own.
  protected override openTriggerParams(): Dict[] {
    return [
      { trigger: true, ordType: 'conditional,oco' },
      { trigger: true, ordType: 'move_order_stop' },
    ];
  }

  protected override leverageParams(marginMode: MarginMode, positionSide: PositionSide | null): Dict {
    const params: Dict = { marginMode };
    if (marginMode === 'isolated') params['posSide'] = positionSide ?? 'net';
    return params;
  }

  override async setMarginMode(): Promise<void> {
    // tdMode travels with every order
  }

  protected venueOrderParams(req: MarketOrderRequest, params: Dict, hedge: boolean): void {
    params['marginMode'] = req.marginMode;
    if (hedge) params['positionSide'] = req.positionSide;
  }

  protected override conditionalOrderParams(req: ConditionalOrderRequest, params: Dict): void {
    // ccxt sends clientOrderId as `clOrdId`, which does not identify an algo order on OKX; its lookups (and
    // ours) go by `algoClOrdId`, so that is the one to send.
    delete params['clientOrderId'];
    params['algoClOrdId'] = req.clientOrderId;
  }

  protected limitOrderParams(req: LimitOrderRequest, params: Dict): void {
    // ccxt: postOnly → ordType post_only; timeInForce IOC/FOK → ordType ioc/fok; otherwise limit (GTC).
    if (req.postOnly) params['postOnly'] = true;
    else if (req.timeInForce && req.timeInForce !== 'GTC') params['timeInForce'] = req.timeInForce;
  }

  /** ccxt sends `trailingPercent` as callbackRatio (÷100) of a move_order_stop algo order. */
  protected trailingStopParams(req: TrailingStopRequest, params: Dict): void {
    delete params['clientOrderId'];
    params['algoClOrdId'] = req.clientOrderId;
    if (req.activationPrice !== undefined)
      params['activePx'] = String(this.client.priceToPrecision(req.symbol, req.activationPrice));
  }

  protected override attachProtection(req: MarketOrderRequest, params: Dict): void {
    if (!req.attached) return;
    params['attachAlgoOrds'] = attachAlgoOrds(req.attached, (p) =>
      String(this.client.priceToPrecision(req.symbol, p)),
    );
  }

  /**
   * The algo order OKX booked from an entry's attachAlgoOrds (GET /trade/order-algo?algoClOrdId=), split into
   * its stop-loss and take-profit legs; empty while the entry has not filled (OKX books it only then).
   */
  /**
   * The order channel's fill (docs-v5 "Order channel": `tradeId`, `clOrdId`, `fillPnl`, `fillFee` negative =
   * charged). ccxt pro's orderToTrade copies `fillFee` as the fee's cost unchanged, while its REST parseTrade of
   * fills-history negates it (ccxt ts/src/pro/okx.ts, ts/src/okx.ts): the sign is taken from `fillFee` here.
   */
  override fromPushedTrade(t: ccxt.Trade): TradeInfo {
    const base = super.fromPushedTrade(t);
    const fillFee = num(((t.info ?? {}) as Dict)['fillFee']);
    return fillFee === null ? base : { ...base, fee: -fillFee };
  }

  override attachedLegsOf(o: ccxt.Order, symbol: string): OrderInfo[] {
    return attachedLegs(this.toOrderInfo(o, true), (o.info ?? {}) as Dict, (v) =>
      this.readablePrice(symbol, v),
    );
  }

  override async findAttachedProtection(symbol: string, clientOrderId: string): Promise<OrderInfo[]> {
    try {
      const o = await this.client.fetchOrder(undefined as unknown as string, symbol, {
        clientOrderId,
        trigger: true,
      });
      if (!o || o.id === undefined || o.id === null) return [];
      return this.attachedLegsOf(o, symbol);
    } catch (err) {
      if (err instanceof ccxt.OrderNotFound) return [];
      throw err;
    }
  }

  protected readTradesAfter(symbol: string, cursor: TradeCursor | null, startMs: number) {
    return okxTradesAfter(this.client, symbol, cursor, startMs);
  }

  fetchFundingAfter(cursor: FundingCursor | null, startMs: number): Promise<FundingBatch> {
    return okxFundingAfter(this.client, cursor, startMs);
  }

  protected async keyPermissions(): Promise<KeyPermissions> {
    let canTrade: boolean | null = null;
    let canWithdraw: boolean | null = null;
    const problems: string[] = [];
    const cfg = (await (
      this.client as unknown as { privateGetAccountConfig(p: Dict): Promise<Dict> }
    ).privateGetAccountConfig({})) as { data?: Array<{ perm?: string; acctLv?: string }> };
    const perm = cfg.data?.[0]?.perm;
    if (typeof perm === 'string' && perm.length > 0) {
      const perms = perm.split(',').map((s) => s.trim());
      canTrade = perms.includes('trade');
      canWithdraw = perms.includes('withdraw');
    }
    // Account mode 1 ("simple", spot only) cannot trade swaps: every order would fail with 51010.
    if (cfg.data?.[0]?.acctLv === '1')
      problems.push(
        'the OKX account is in simple mode (acctLv 1), which cannot trade swaps: switch the account mode to ' +
          'single-currency margin or higher (Trade → Settings → Account mode)',
      );
    return { canTrade, canWithdraw, problems };
  }
}
