/**
 * OKX v5 trailing stop: "Place algo order" with ordType `move_order_stop` (POST /api/v5/trade/order-algo).
 * Its parameters (OKX docs, "Place algo order" → "Trailing Stop Order"): `callbackRatio` (a fraction, "0.01"
 * = 1 %) or `callbackSpread` (a price distance) — exactly one; optional `activePx` (tracking starts once the
 * last price reaches it, else at once); `sz` or, with `reduceOnly`, a reducing amount. ccxt 4.5.84 okx.ts
 * createOrderRequest sends it from `trailingPercent` (÷ 100 → callbackRatio) or `trailingPrice`
 * (→ callbackSpread); its request fixtures (ts/src/test/static/request/okx.json, "Swap trailingPercent order",
 * "Swap fetch open trailing orders", "Swap cancel trailing order") show the body, the pending query
 * (ordType=move_order_stop on its own) and cancel-algos by algoId. It is listed by orders-algo-pending /
 * -history with ordType=move_order_stop only (the docs allow comma-separated types for conditional and oco
 * alone) and pushed on the `algo-advance`
 * WebSocket channel ("Advance algo orders channel": iceberg, TWAP, trailing), not on `orders-algo`.
 */
import { type Account, type AlgoOrder, type Trailing, trailingTrigger } from '../engine.ts';
import type { Sim } from '../http.ts';
import type { MarketSpec } from '../markets.ts';
import { str } from '../num.ts';
import { type Dict, err, parsePx, px, s } from './common.ts';

/**
 * callbackRatio bounds. The docs name the refusal (51257, ccxt okx.ts exceptions: "Trail order callback rate
 * error") but the bounds are not in the text we could check; the stricter reading is Binance's documented
 * range, 0.1 %–10 % (packages/contracts TRAILING_CALLBACK_PCT keeps the worker on the same numbers).
 */
export const OKX_CALLBACK_RATIO = { min: 0.001, max: 0.1 } as const;

export interface MoveOrderStop {
  trailing: Trailing;
}

/** Validates the trailing parameters of a move_order_stop request; throws the OKX error otherwise. */
export function moveOrderStopOf(sim: Sim, m: MarketSpec, side: 'buy' | 'sell', o: Dict): MoveOrderStop {
  const ratioRaw = s(o['callbackRatio']);
  const spreadRaw = s(o['callbackSpread']);
  // OKX general codes: 50015 "Either parameter {0} or {1} is required", 50024 "… cannot exist at the same time".
  if (ratioRaw === undefined && spreadRaw === undefined)
    err('50015', 'Either parameter callbackRatio or callbackSpread is required');
  if (ratioRaw !== undefined && spreadRaw !== undefined)
    err('50024', 'Parameter callbackRatio and callbackSpread cannot exist at the same time');
  let rate = 0;
  let spread: number | undefined;
  if (ratioRaw !== undefined) {
    rate = Number(ratioRaw);
    if (!Number.isFinite(rate) || rate < OKX_CALLBACK_RATIO.min || rate > OKX_CALLBACK_RATIO.max)
      err('51257', 'Trailing stop order callback rate error');
  } else {
    spread = parsePx(m, spreadRaw, 'callbackSpread');
  }
  const last = sim.engine.price(m.id);
  const activeRaw = s(o['activePx']);
  const activation = activeRaw === undefined ? undefined : parsePx(m, activeRaw, 'activePx');
  // ccxt okx.ts exceptions 51258 / 51259: a sell's active price must be above, a buy's below the last price.
  if (activation !== undefined && side === 'sell' && activation <= last)
    err(
      '51258',
      'Trailing stop order placement failed. The trigger price of a sell order must be higher than the last transaction price.',
    );
  if (activation !== undefined && side === 'buy' && activation >= last)
    err(
      '51259',
      'Trailing stop order placement failed. The trigger price of a buy order must be lower than the last transaction price.',
    );
  return {
    trailing: { rate, spread, activation, activated: activation === undefined, extreme: activation ?? last },
  };
}

export function placeMoveOrderStop(
  sim: Sim,
  acct: Account,
  m: MarketSpec,
  fields: {
    side: 'buy' | 'sell';
    posSide: AlgoOrder['posSide'];
    qty: number | undefined;
    reduceOnly: boolean;
    clientId: string;
    marginMode: AlgoOrder['marginMode'];
    arrivalMs: number;
    tag: string;
    clOrdId: string;
  },
  o: Dict,
): AlgoOrder {
  const { trailing } = moveOrderStopOf(sim, m, fields.side, o);
  return sim.engine.placeAlgo(acct, {
    symbol: m.id,
    side: fields.side,
    posSide: fields.posSide,
    qty: fields.qty,
    closePosition: false,
    reduceOnly: fields.reduceOnly,
    clientId: fields.clientId,
    marginMode: fields.marginMode,
    arrivalMs: fields.arrivalMs,
    meta: { ordType: 'move_order_stop', tag: fields.tag, clOrdId: fields.clOrdId, trailing },
  });
}

/** The trailing fields of an algo row (empty strings for other algo orders, as OKX answers them). */
export function trailingFields(a: AlgoOrder, m: MarketSpec): Dict {
  const t = a.meta['trailing'] as Trailing | undefined;
  if (!t || a.meta['ordType'] !== 'move_order_stop')
    return { callbackRatio: '', callbackSpread: '', activePx: '', moveTriggerPx: '' };
  return {
    callbackRatio: t.spread === undefined ? str(t.rate) : '',
    callbackSpread: t.spread === undefined ? '' : px(m, t.spread),
    activePx: t.activation === undefined ? '' : px(m, t.activation),
    // "moveTriggerPx: Trigger price" — where the activated order would fire now.
    moveTriggerPx: t.activated && a.status === 'new' ? px(m, trailingTrigger(t, a.side)) : '',
  };
}

/** orders-algo-pending / -history ordType: several types only as a combination of conditional and oco. */
export function algoTypesOf(ordType: string): string[] {
  const types = ordType.split(',');
  if (types.length > 1 && types.some((t) => t !== 'conditional' && t !== 'oco'))
    err('51000', 'Parameter ordType error');
  return types;
}
