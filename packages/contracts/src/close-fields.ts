import { z } from 'zod';
import { numericInput } from './entry-fields.ts';

/**
 * Partial close (issue "trade like the field expects", item 4). On `close_long` / `close_short`:
 * - `quantity`: the BASE amount to close (as an entry's `quantity` is the base amount to open);
 * - `close_pct`: the share of the position to close, in percent (`40` = 40 %; `100` = all of it).
 * Neither: the whole position, as before. Larger than the position, or leaving less than the market's
 * minimum amount: the whole position, and the answer says so. `close_all` always closes everything.
 */
export const CLOSE_FIELD_BOUNDS = { closePct: { max: 100 } } as const;

export const closeFieldsShape = {
  close_pct: numericInput(
    z
      .number({ error: 'close_pct must be a number (percent of the position, 0–100)' })
      .finite({ error: 'close_pct must be a number (percent of the position, 0–100)' })
      .refine((n) => n > 0, { error: 'close_pct must be greater than 0', abort: true })
      .max(CLOSE_FIELD_BOUNDS.closePct.max, 'close_pct must be at most 100 (the whole position)')
      .optional(),
  ),
} as const;

/** Sizing fields of an entry that a close does not take (it takes `quantity` or `close_pct`). */
const ENTRY_ONLY_SIZING = ['contracts', 'notional', 'balance_pct', 'risk_pct'] as const;

type Issue = { path: (string | number)[]; message: string };

export interface CloseFieldValues {
  action: string;
  quantity?: number | undefined;
  close_pct?: number | undefined;
  contracts?: number | undefined;
  notional?: number | undefined;
  balance_pct?: number | undefined;
  risk_pct?: number | undefined;
}

/** The rules of the close fields; empty when valid. */
export function closeFieldIssues(v: CloseFieldValues): Issue[] {
  const out: Issue[] = [];
  const sideClose = v.action === 'close_long' || v.action === 'close_short';
  if (v.close_pct !== undefined && !sideClose) {
    out.push({
      path: ['close_pct'],
      message:
        v.action === 'close_all'
          ? 'close_pct does not apply to close_all, which closes every position in full; use close_long or close_short to close part of one'
          : `close_pct applies to close_long and close_short only (${v.action} opens a position: size it with quantity, contracts, notional, balance_pct or risk_pct)`,
    });
  }
  if (!sideClose) return out;
  if (v.quantity !== undefined && v.close_pct !== undefined) {
    out.push({
      path: ['close_pct'],
      message:
        'a close takes quantity (base amount to close) or close_pct (percent of the position), not both',
    });
  }
  for (const k of ENTRY_ONLY_SIZING) {
    if (v[k] !== undefined) {
      // Refused rather than ignored: ignoring it would close the whole position the alert meant to trim.
      out.push({
        path: [k],
        message: `${k} sizes entries; a close takes quantity (base amount to close) or close_pct (percent of the position)`,
      });
    }
  }
  return out;
}

/** What part of the position a close_long / close_short asks to close. */
export type ClosePart = { kind: 'all' } | { kind: 'quantity'; amount: number } | { kind: 'pct'; pct: number };

export function closePartOf(signal: {
  quantity?: number | undefined;
  close_pct?: number | undefined;
}): ClosePart {
  if (signal.quantity !== undefined) return { kind: 'quantity', amount: signal.quantity };
  if (signal.close_pct !== undefined && signal.close_pct < CLOSE_FIELD_BOUNDS.closePct.max)
    return { kind: 'pct', pct: signal.close_pct };
  return { kind: 'all' };
}
