import {
  issueSummary,
  webhookPayloadSchema,
  type Action,
  type Exchange,
  type WebhookPayload,
} from '@tradehook/contracts';

/**
 * Alert messages are built from typed objects and validated against `webhookPayloadSchema` (the one source of
 * the payload shape) — never written as JSON by hand. A field may hold a {@link Slot}: a value filled in only
 * when the alert fires (Pine code such as `str.tostring(stopLoss)`, or a TradingView placeholder such as
 * `{{close}}`), with a sample that stands in for it during validation.
 */
export interface Slot {
  /** Pine expression (script alerts) or TradingView placeholder text (alert dialog). */
  code: string;
  /** A value the slot could take, used to validate the message. */
  sample: string;
}

export const slot = (code: string, sample: string): Slot => ({ code, sample });

/** Literal text and slots, concatenated into one JSON string value. */
export type DynamicText = readonly (string | Slot)[];

export interface AlertMessageSpec {
  account_id: string;
  exchange: Exchange;
  /** Dynamic only in dialog templates that take the action from the user's own strategy. */
  action: Action | DynamicText;
  symbol: string | DynamicText;
  price?: DynamicText;
  quantity?: number;
  contracts?: number;
  notional?: number;
  balance_pct?: number;
  risk_pct?: number;
  leverage?: number;
  stop_loss?: DynamicText;
  take_profit?: DynamicText;
  trailing_pct?: number;
  break_even_pct?: number;
  alert_id?: DynamicText;
  timestamp?: DynamicText;
  max_lag?: number;
  secret: string;
}

// Compile-time guard: a spec can only name fields the webhook payload defines.
type UnknownSpecFields = Exclude<keyof AlertMessageSpec, keyof WebhookPayload>;
const _noUnknownFields: [UnknownSpecFields] extends [never] ? true : never = true;

export class AlertMessageError extends Error {}

/** The guide's field order, extras after, the secret last (as in the guide's examples). */
const FIELD_ORDER = [
  'account_id',
  'exchange',
  'action',
  'symbol',
  'price',
  'quantity',
  'contracts',
  'notional',
  'balance_pct',
  'risk_pct',
  'leverage',
  'stop_loss',
  'take_profit',
  'trailing_pct',
  'break_even_pct',
  'alert_id',
  'timestamp',
  'max_lag',
  'secret',
] as const satisfies readonly (keyof AlertMessageSpec)[];
// Every spec field must be listed above, or it would be silently dropped.
type UnorderedFields = Exclude<keyof AlertMessageSpec, (typeof FIELD_ORDER)[number]>;
const _allFieldsOrdered: [UnorderedFields] extends [never] ? true : never = true;

const TOKEN = (i: number) => `@@SLOT${i}@@`;
const TOKEN_RE = /@@SLOT(\d+)@@/g;

/** JSON text with a token where each slot goes, and the slots in order of their tokens. */
function jsonWithTokens(spec: AlertMessageSpec): { json: string; slots: Slot[] } {
  const slots: Slot[] = [];
  const plain: Record<string, string | number> = {};
  for (const key of FIELD_ORDER) {
    const value = spec[key];
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number') {
      if (typeof value === 'string' && value.includes('@@SLOT'))
        throw new AlertMessageError(`${key} is invalid`);
      plain[key] = value;
      continue;
    }
    plain[key] = value
      .map((part) => {
        if (typeof part === 'string') {
          if (part.includes('@@SLOT')) throw new AlertMessageError(`${key} is invalid`);
          return part;
        }
        slots.push(part);
        return TOKEN(slots.length - 1);
      })
      .join('');
  }
  return { json: JSON.stringify(plain), slots };
}

function fill(json: string, slots: Slot[], pick: (s: Slot) => string): string {
  return json.replace(TOKEN_RE, (_, i: string) => pick(slots[Number(i)]!));
}

/** Throws unless the message, with every slot at its sample value, is accepted by the webhook schema. */
function validate(example: string): void {
  const result = webhookPayloadSchema.safeParse(JSON.parse(example));
  if (!result.success) {
    throw new AlertMessageError(
      `alert message would be rejected by the webhook: ${issueSummary(result.error)}`,
    );
  }
}

/** A Pine string literal (single-quoted, so the JSON's double quotes need no escaping). */
export function pineStringLiteral(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface RenderedPineMessage {
  /** Pine expression of type string, e.g. `'{"action":"long",…"stop_loss":"' + str.tostring(stopLoss) + '"}'`. */
  pine: string;
  /** The JSON the alert sends when every slot has its sample value. */
  example: string;
}

/** Renders a message for `alert(...)` in the script: slots become Pine expressions joined with `+`. */
export function renderPineMessage(spec: AlertMessageSpec): RenderedPineMessage {
  const { json, slots } = jsonWithTokens(spec);
  const example = fill(json, slots, (s) => s.sample);
  validate(example);
  const pieces: string[] = [];
  let last = 0;
  for (const match of json.matchAll(TOKEN_RE)) {
    if (match.index > last) pieces.push(pineStringLiteral(json.slice(last, match.index)));
    pieces.push(slots[Number(match[1])]!.code);
    last = match.index + match[0].length;
  }
  if (last < json.length) pieces.push(pineStringLiteral(json.slice(last)));
  return { pine: pieces.join(' + '), example };
}

export interface RenderedDialogMessage {
  /** Text for TradingView's alert "Message" field (placeholders such as `{{close}}` left in). */
  message: string;
  example: string;
}

/** Renders a message for TradingView's alert dialog: slots are TradingView placeholders, written inline. */
export function renderDialogMessage(spec: AlertMessageSpec): RenderedDialogMessage {
  const { json, slots } = jsonWithTokens(spec);
  const example = fill(json, slots, (s) => s.sample);
  validate(example);
  return { message: fill(json, slots, (s) => s.code), example };
}
