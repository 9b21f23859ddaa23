import { issueLines } from '@tradehook/contracts';
import { z } from 'zod';

/**
 * Environment parsing: one zod schema per service, parsed once at start-up. A bad value stops the process
 * with a readable list of what is wrong (never echoing a value, which may be a secret).
 */
export class ConfigError extends Error {}

export function parseEnv<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined> = process.env,
): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = issueLines(result.error, { root: '(env)' }).map((line) => `  - ${line}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

const logLevel = z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']);

/** Settings every service shares. */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  /** BullMQ prefix; keep the {hash tag} for Redis Cluster. */
  QUEUE_PREFIX: z.string().min(1).default('{tradehook}'),
  LOG_LEVEL: logLevel.default('info'),
  /** Directory for app.log (the guide's logs/app.log); empty = stdout only. */
  LOG_DIR: z.string().default('logs'),
  /** Prometheus /metrics on a port of its own (never the webhook port); 0 = off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Interface of the metrics port; loopback unless a scraper on another host needs it. */
  METRICS_HOST: z.string().default('127.0.0.1'),
});
export type BaseEnv = z.infer<typeof baseEnvSchema>;

export const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export { z };
