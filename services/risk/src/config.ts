import { baseEnvSchema, intFromEnv, parseEnv, type z } from '@tradehook/config';
import { orderRetryEnvSchema } from '@tradehook/queue';
import { riskDefaultsEnvSchema } from '@tradehook/risk';

export const riskEnvSchema = baseEnvSchema.extend({
  ...riskDefaultsEnvSchema.shape,
  /** Signals decided at once; ordering is the worker's gate, so concurrency here is safe. */
  RISK_CONCURRENCY: intFromEnv(1, 256).default(16),
  /**
   * Tries of one signal's risk check when it fails for a transient reason (database briefly unreachable),
   * with exponential backoff from RISK_RETRY_BASE_MS; then the signal is marked failed so it never blocks
   * the per-symbol order of the signals after it.
   */
  RISK_MAX_TRIES: intFromEnv(1, 50).default(8),
  RISK_RETRY_BASE_MS: intFromEnv(10, 60_000).default(500),
  /** A signal still `queued` this long after arrival with no queue job is failed (0 = never sweep). */
  RISK_ORPHAN_AFTER_MS: intFromEnv(5_000, 86_400_000).default(120_000),
  RISK_SWEEP_INTERVAL_MS: intFromEnv(0, 3_600_000).default(30_000),
  /** Attempts of an order job (packages/queue/src/queues.ts); the worker reads the same variable. */
  ...orderRetryEnvSchema.shape,
  /** Old name of ORDER_MAX_ATTEMPTS for risk, still honoured when set. */
  ORDER_JOB_ATTEMPTS: intFromEnv(1, 20).optional(),
  SHUTDOWN_DEADLINE_MS: intFromEnv(1000, 120_000).default(10_000),
});
export type RiskConfig = z.infer<typeof riskEnvSchema>;

export function loadRiskConfig(env: Record<string, string | undefined> = process.env): RiskConfig {
  return parseEnv(riskEnvSchema, env);
}
