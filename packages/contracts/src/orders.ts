import { z } from 'zod';

/**
 * `flatten`: the reduce-only close of an entry whose stop-loss could not be placed (protected or flat).
 * `trailing_stop`: the reduce-only trailing stop of an entry (Binance TRAILING_STOP_MARKET, OKX move_order_stop).
 */
export const ORDER_LEGS = ['entry', 'exit', 'stop_loss', 'take_profit', 'flatten', 'trailing_stop'] as const;
/** The legs that protect a filled entry at the exchange (its siblings are cancelled when one of them fires). */
export const PROTECTIVE_LEGS = ['stop_loss', 'take_profit', 'trailing_stop'] as const;
export const orderLegSchema = z.enum(ORDER_LEGS);
export type OrderLeg = z.infer<typeof orderLegSchema>;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 128-bit UUID → 22 base-62 characters. */
function uuidToBase62(uuid: string): string {
  let n = BigInt(`0x${uuid.replace(/-/g, '')}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(22, '0');
}

/**
 * Deterministic client order id for one order leg of one signal (docs/decisions/0001-exactly-once-orders.md): `th` + base-62
 * signal id + leg tag (+ index), at most 32 characters of `[A-Za-z0-9]`, valid on Binance and OKX.
 * `part` distinguishes several orders of the same leg kind (e.g. flip close + entry, close_all per symbol).
 */
export function clientOrderId(signalId: string, leg: OrderLeg | 'flip', part = 0): string {
  const tag = LEG_TAGS[leg];
  if (!Number.isInteger(part) || part < 0 || part > 9999) throw new Error('order part must be 0–9999');
  const id = `th${uuidToBase62(signalId)}${tag}${part === 0 ? '' : String(part)}`;
  return id;
}

/** The leg letter of a client order id (`R`: tRailing; `T` is taken by the take-profit). */
export const LEG_TAGS = {
  entry: 'E',
  exit: 'X',
  stop_loss: 'S',
  take_profit: 'T',
  flatten: 'U',
  flip: 'F',
  trailing_stop: 'R',
} as const satisfies Record<OrderLeg | 'flip', string>;
/** Leg letters of the protective legs (stream and reconciler: which of our orders are SL/TP/trailing). */
export const PROTECTIVE_TAGS: readonly string[] = PROTECTIVE_LEGS.map((l) => LEG_TAGS[l]);

export const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9]{1,32}$/;
