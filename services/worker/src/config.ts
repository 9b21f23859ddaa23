import { baseEnvSchema, intFromEnv, parseEnv, z } from '@tradehook/config';
import { exchangeSchema } from '@tradehook/contracts';
import { orderRetryEnvSchema } from '@tradehook/queue';
import { riskDefaultsEnvSchema } from '@tradehook/risk';

const optionalUrl = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
);

export const workerEnvSchema = baseEnvSchema.extend({
  /** The global risk defaults (same variables as risk): an entry is re-checked against them before it is sent. */
  ...riskDefaultsEnvSchema.shape,
  /** Which exchange's queue this process serves. */
  EXCHANGE: exchangeSchema,
  /** Private key that opens sealed credentials (base64 X25519). */
  CREDENTIALS_PRIVATE_KEY: z.string().min(1, 'CREDENTIALS_PRIVATE_KEY is required'),
  /** Base-URL overrides (simulator, regional host); applied after demo/sandbox switches. */
  BINANCE_API_URL: optionalUrl,
  OKX_API_URL: optionalUrl,
  /**
   * Jobs processed at once per process. Jobs wait on the exchange far longer than they use the CPU or a database
   * connection: a Binance entry holds its slot through the entry and its SL and TP (two more requests); with 8,
   * a burst of 100 alerts queued for slots (bench/wire.md).
   */
  WORKER_CONCURRENCY: intFromEnv(1, 256).default(16),
  /**
   * PostgreSQL connections of the worker's main pool (the deferred-commit pool has half as many): the cap per
   * process whatever WORKER_CONCURRENCY is. Every replica and ingress process counts against PostgreSQL's
   * max_connections (100 by default).
   */
  WORKER_PG_POOL_MAX: intFromEnv(2, 200).default(10),
  /** BullMQ lock and stalled check: how soon a crashed worker's job is picked up again. */
  WORKER_LOCK_DURATION_MS: intFromEnv(1_000, 600_000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: intFromEnv(1_000, 600_000).default(30_000),
  /**
   * Attempts for retryable exchange errors (network, 5xx, 429, clock skew), with exponential backoff; the
   * same variable gives risk's BullMQ attempts of the job (packages/queue/src/queues.ts).
   */
  ...orderRetryEnvSchema.shape,
  ORDER_RETRY_BASE_MS: intFromEnv(10, 60_000).default(500),
  /** A predecessor stuck non-terminal this long no longer blocks its successors (recorded in the reason). */
  ORDER_GATE_TIMEOUT_MS: intFromEnv(100, 3_600_000).default(300_000),
  /** Graceful shutdown: in-flight orders get this long to finish. */
  SHUTDOWN_DEADLINE_MS: intFromEnv(100, 600_000).default(20_000),
  /** ccxt request timeout. */
  EXCHANGE_TIMEOUT_MS: intFromEnv(500, 120_000).default(10_000),
  /**
   * Validity of a signed request (Binance recvWindow, OKX expTime). Also how long an unanswered order is looked
   * up before it may be resent (docs/decisions/0016-uncertain-sends.md): smaller is faster, too small fails
   * on clock skew (-1021).
   */
  EXCHANGE_RECV_WINDOW_MS: intFromEnv(1_000, 59_999).default(5_000),
  /** How long a market order the exchange does not yet show filled is polled before the job retries. */
  ORDER_SETTLE_MS: intFromEnv(100, 60_000).default(5_000),
  /** ccxt's client-side throttle (keep on for real exchanges). */
  EXCHANGE_RATE_LIMIT: z.stringbool().default(true),
  /** Share the per-IP request budget with the other replicas on this host through REDIS_URL. */
  EXCHANGE_BUDGET_REDIS: z.stringbool().default(true),
  /** Fraction of the budget one replica uses alone while Redis is unreachable (1 / replicas on the host). */
  EXCHANGE_BUDGET_FALLBACK_SHARE: z.coerce.number().positive().max(1).default(0.5),
  /** Multiplies the documented limits the budget is sized to (below 1 only for simulators shrunk alike). */
  EXCHANGE_BUDGET_SCALE: z.coerce.number().positive().max(1).default(1),
  /** This host's egress IP (or any name for it): replicas with the same value share one budget. */
  EXCHANGE_EGRESS_IP: z.string().min(1).default('default'),
  /** Default ATR-based SL/TP (when a signal gives none and the account allows it). */
  ATR_TIMEFRAME: z
    .string()
    .regex(/^\d+[mhdw]$/, 'e.g. 15m, 1h, 4h, 1d')
    .default('1h'),
  ATR_PERIOD: intFromEnv(2, 200).default(14),
  ATR_SL_MULTIPLIER: z.coerce.number().positive().default(1.5),
  /**
   * An entry whose stop-loss the exchange refuses: `flatten` closes it at once (protected or flat; the signal
   * fails with the reason), `keep` keeps the position and reports the refusal.
   */
  UNPROTECTED_POLICY: z.enum(['flatten', 'keep']).default('flatten'),
  ATR_TP_MULTIPLIER: z.coerce.number().positive().default(3),
  /** Share of available balance an entry without `quantity` uses (the guide: 10 %). */
  DEFAULT_SIZE_FRACTION: z.coerce.number().positive().max(1).default(0.1),
  /** Leverage when neither the signal, risk nor the account gives one. */
  DEFAULT_LEVERAGE: intFromEnv(1, 125).default(1),
  /** Fill sync per active account; 0 = off. */
  FILL_SYNC_INTERVAL_MS: intFromEnv(0, 86_400_000).default(30_000),
  /** Accounts with orders this recent are synced. */
  FILL_SYNC_LOOKBACK_DAYS: intFromEnv(1, 365).default(7),
  /**
   * After start, the contexts (ccxt client, position mode, leverage brackets) of all accounts are built in the
   * background this many at a time, so first jobs skip that work; 0 = off (built on an account's first job).
   */
  ACCOUNT_PREWARM_CONCURRENCY: intFromEnv(0, 64).default(4),
  /**
   * Follow each account's private streams and the venue's public prices, so an entry or a close decides with
   * no exchange round trip before its order (docs/decisions/0021-live-state-before-orders.md). Off: REST reads.
   */
  LIVE_STATE: z.stringbool().default(true),
  /** Stream state older than this (no event and no keep-alive answer since) is not used: REST instead. */
  LIVE_STATE_MAX_AGE_MS: intFromEnv(500, 120_000).default(10_000),
  /**
   * After an order of the account is answered, its stream state is not used for this long: the fill's
   * position and balance update may still be on its way (Binance and OKX push them separately).
   */
  LIVE_STATE_OWN_ORDER_GRACE_MS: intFromEnv(0, 60_000).default(1_500),
  /** ccxt pro keep-alive ping of the streams: how soon a silent connection is noticed. */
  LIVE_STATE_KEEPALIVE_MS: intFromEnv(500, 60_000).default(3_000),
  /** Slow REST reconcile of each account's live state while streaming. */
  LIVE_STATE_RECONCILE_MS: intFromEnv(5_000, 3_600_000).default(60_000),
  /**
   * OKX: send the SL/TP with the entry (attachAlgoOrds, one request) when their levels are known before the
   * fill. OKX books them as one OCO algo order: a level already passed refuses the entry (flat, reported), and
   * when one half fires the other goes with it (docs/decisions/0024-okx-protection-attached.md). Off: separate
   * SL/TP orders after the fill.
   */
  OKX_ATTACHED_PROTECTION: z.stringbool().default(true),
  /**
   * Break-even (`break_even: "tp1"`): the moved stop sits at the fill price plus (long) / minus (short) entry
   * and exit fees at this taker rate, in % (0.05: both venues' base-tier USDⓈ-M / USDT-swap taker fee).
   */
  BREAK_EVEN_FEE_PCT: z.coerce.number().min(0).max(1).default(0.05),
  /** `break_even_pct`: how often the open stops waiting for their move are checked against the price; 0 = off. */
  BREAK_EVEN_WATCH_MS: intFromEnv(0, 60_000).default(1_000),
  /** A streamed price older than this is not used for sizing: REST ticker instead. */
  PRICE_MAX_AGE_MS: intFromEnv(100, 60_000).default(5_000),
});
export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return parseEnv(workerEnvSchema, env);
}
