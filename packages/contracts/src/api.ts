import { z } from 'zod';
import { accountIdSchema } from './webhook.ts';

/** Error codes of `{success:false, error:{code, message}}` answers, with their HTTP status. */
export const API_ERRORS = {
  malformed: 400,
  unauthorized: 401,
  invalid_secret: 401,
  forbidden: 403,
  not_found: 404,
  account_not_found: 404,
  group_not_found: 404,
  duplicate: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  stale_signal: 422,
  /** `?wait` answers: risk refused the signal / the exchange refused or failed the order. */
  signal_rejected: 422,
  order_failed: 422,
  /** A worker refused an exchange key at registration (withdrawal permission, authentication failure). */
  key_rejected: 422,
  rate_limited: 429,
  internal: 500,
  queue_unavailable: 503,
  unavailable: 503,
  /** A worker answered a request/reply job with an error (exchange unreachable, …). */
  exchange_error: 502,
  timeout: 504,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ApiErrorBody {
  success: false;
  error: { code: ApiErrorCode; message: string; details?: unknown };
}

/** Signal lifecycle; terminal ones end the per-key ordering wait (docs/decisions/0003-order-per-account-symbol.md). */
export const SIGNAL_STATUSES = [
  'received',
  'queued',
  'approved',
  'rejected',
  'executing',
  'executed',
  'ignored',
  'failed',
] as const;
export type SignalStatus = (typeof SIGNAL_STATUSES)[number];
export const TERMINAL_SIGNAL_STATUSES: readonly SignalStatus[] = [
  'rejected',
  'executed',
  'ignored',
  'failed',
];

/** Account registration (guide: API 키 등록). */
export const registerAccountSchema = z.object({
  account_id: accountIdSchema,
  api_key: z.string().trim().min(8, 'api_key looks too short').max(256),
  api_secret: z.string().trim().min(8, 'api_secret looks too short').max(512),
  passphrase: z.string().min(1).max(128).optional(),
  testnet: z.boolean().default(false),
  /** Optional per-account webhook secret; when set, alerts for this account must carry it. */
  webhook_secret: z.string().min(16, 'webhook_secret must be at least 16 characters').max(256).optional(),
  margin_mode: z.enum(['cross', 'isolated']).default('cross'),
  default_leverage: z.number().int().min(1).max(125).optional(),
  allow_add: z.boolean().default(false),
  auto_sl_tp: z.boolean().default(true),
  /** An entry whose stop-loss the exchange refuses: `flatten` it or `keep` it; absent = UNPROTECTED_POLICY. */
  unprotected_policy: z.enum(['flatten', 'keep']).optional(),
});
export type RegisterAccountRequest = z.infer<typeof registerAccountSchema>;

export const okxRegisterAccountSchema = registerAccountSchema.extend({
  passphrase: z
    .string({ error: 'passphrase is required for OKX' })
    .min(1, 'passphrase is required for OKX')
    .max(128),
});
