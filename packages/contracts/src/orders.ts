import { z } from 'zod';

/** `flatten`: the reduce-only close of an entry whose stop-loss could not be placed (protected or flat). */
export const ORDER_LEGS = ['entry', 'exit', 'stop_loss', 'take_profit', 'flatten'] as const;
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
  const tag = { entry: 'E', exit: 'X', stop_loss: 'S', take_profit: 'T', flatten: 'U', flip: 'F' }[leg];
  if (!Number.isInteger(part) || part < 0 || part > 9999) throw new Error('order part must be 0–9999');
  const id = `th${uuidToBase62(signalId)}${tag}${part === 0 ? '' : String(part)}`;
  return id;
}

export const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9]{1,32}$/;
