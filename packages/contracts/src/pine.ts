import { z } from 'zod';
import { normaliseSymbol, SymbolFormatError, binanceSymbolId } from './symbols.ts';
import { accountIdSchema, exchangeSchema } from './webhook.ts';
import { entryFieldsShape, SIZING_FIELDS, type SizingField } from './entry-fields.ts';

/** What an exported script or template carries instead of the webhook secret unless asked to embed it. */
export const WEBHOOK_SECRET_PLACEHOLDER = 'YOUR_SECRET_KEY';

/**
 * `POST /api/v1/simple/export-pine` (guide: Pine Script 설정 → 전략 Export). Only `preset_id` is required;
 * the rest fill the alert messages the script sends.
 */
export const exportPineRequestSchema = z
  .object({
    preset_id: z.string({ error: 'preset_id is required' }).trim().min(1, 'preset_id is required').max(64),
    exchange: exchangeSchema.default('binance'),
    /** Defaults to the guide's `my_<exchange>_account`. */
    account_id: accountIdSchema.optional(),
    /** Any form the webhook accepts; the script sends the compact form (`BTCUSDT`), valid on both exchanges. */
    symbol: z
      .string()
      .default('BTCUSDT')
      .transform((value, ctx) => {
        try {
          return binanceSymbolId(normaliseSymbol(value).symbol);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            message: err instanceof SymbolFormatError ? err.message : 'invalid symbol',
          });
          return z.NEVER;
        }
      }),
    /** Leverage sent with entries; defaults to the preset's. */
    leverage: z.number().int().min(1).max(125).optional(),
    /** Fixed order quantity (base asset) sent with entries; absent = the account's sizing rule. */
    quantity: z.number().positive().optional(),
    /** Embed the global WEBHOOK_SECRET instead of the `YOUR_SECRET_KEY` placeholder. */
    embed_secret: z.boolean().default(false),
    /** Entries older than this many seconds when they reach the webhook are refused (not exits). */
    max_lag: z.number().int().min(5).max(3600).default(60),
    /** Send the script's ATR stop-loss and take-profit prices with each entry, so the exchange holds them. */
    include_stops: z.boolean().default(true),
    /** Sizing sent with entries instead of `quantity` (at most one; the webhook's fields and bounds). */
    contracts: entryFieldsShape.contracts,
    notional: entryFieldsShape.notional,
    balance_pct: entryFieldsShape.balance_pct,
    /** Size so the script's stop loses this % of equity: needs include_stops (the stop it is sized from). */
    risk_pct: entryFieldsShape.risk_pct,
    /** A trailing stop (callback %) placed with each entry besides its stop-loss and take-profit. */
    trailing_pct: entryFieldsShape.trailing_pct,
    /** Move each entry's stop to break-even once the price moved this % in favour: needs include_stops. */
    break_even_pct: entryFieldsShape.break_even_pct,
  })
  .check((ctx) => {
    const sizing = SIZING_FIELDS.filter((k) => ctx.value[k] !== undefined);
    if (sizing.length > 1)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: [sizing[1]!],
        message: `one sizing mode per export: ${sizing.join(', ')} were given`,
      });
    if (ctx.value.risk_pct !== undefined && !ctx.value.include_stops)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: ['risk_pct'],
        message: "risk_pct sizes each entry from the script's stop-loss: keep include_stops on",
      });
    if (ctx.value.break_even_pct !== undefined && !ctx.value.include_stops)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: ['break_even_pct'],
        message: "break_even_pct moves the script's stop-loss: keep include_stops on",
      });
  });
export type ExportPineRequest = z.infer<typeof exportPineRequestSchema>;

/** The entry sizing an export request names (undefined: the account's own rule). */
export function exportSizing(r: ExportPineRequest): { field: SizingField; value: number } | undefined {
  for (const field of SIZING_FIELDS) {
    const value = r[field];
    if (value !== undefined) return { field, value };
  }
  return undefined;
}

/** One documented strategy input of a preset (rendered as `input.int/float(..., title=...)`). */
export interface PineParameter {
  /** Pine variable name, e.g. `atrPeriod`. */
  name: string;
  title: string;
  type: 'int' | 'float';
  value: number;
  min: number;
  max?: number;
  step?: number;
  description: string;
}

export interface PinePresetSummary {
  preset_id: string;
  name: string;
  description: string;
  /** Leverage entries carry unless the export request overrides it. */
  default_leverage: number;
  parameters: PineParameter[];
}

/** An `alert(...)` call inside the exported script. */
export interface ScriptAlert {
  /** e.g. `long_entry`, `close_long_stop_loss` */
  id: string;
  action: 'long' | 'short' | 'close_long' | 'close_short';
  /** The Pine boolean that fires it (declared in the script). */
  condition: string;
  /** The message with sample values where the script fills in prices and times. */
  example: string;
}

/** A message to paste into TradingView's alert dialog ("Message" field). */
export interface AlertDialogTemplate {
  id: string;
  description: string;
  message: string;
}

export interface ExportPineResponse extends PinePresetSummary {
  success: true;
  options: {
    exchange: string;
    account_id: string;
    symbol: string;
    leverage: number;
    quantity?: number;
    contracts?: number;
    notional?: number;
    balance_pct?: number;
    risk_pct?: number;
    trailing_pct?: number;
    break_even_pct?: number;
    max_lag: number;
    include_stops: boolean;
    secret_embedded: boolean;
  };
  /** The complete Pine Script (v6) strategy, webhook alerts at the bottom. */
  script: string;
  alerts: {
    /** Create ONE TradingView alert on the strategy with condition "alert() function calls only". */
    in_script: ScriptAlert[];
    /** For your own strategies/indicators: one TradingView alert per template. */
    dialog_templates: AlertDialogTemplate[];
  };
  /** Where TradingView must send the alerts (derived from this request's host; put your public URL). */
  webhook_url_hint: string;
  notes: string[];
}
