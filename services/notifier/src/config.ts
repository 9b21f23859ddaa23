import { baseEnvSchema, intFromEnv, parseEnv, z } from '@tradehook/config';
import { LOCALES } from './templates.ts';

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/**
 * The notifier's settings. Channel credentials (bot token, Discord webhook URL, webhook signing key) are secrets:
 * only this service reads them, and they never appear in job data, logs or messages. No database: it reads only
 * the `notifications` queue.
 */
export const notifierEnvSchema = baseEnvSchema.omit({ DATABASE_URL: true }).extend({
  /** Language of the messages. */
  NOTIFY_LOCALE: z.enum(LOCALES).default('ko'),
  TELEGRAM_BOT_TOKEN: optional(
    z.string().regex(/^\d+:[\w-]{20,}$/, 'must look like 123456:ABC… (from @BotFather)'),
  ),
  /** Chat that gets every event unless NOTIFY_ROUTES says otherwise. */
  TELEGRAM_CHAT_ID: optional(
    z.string().regex(/^(-?\d+|@\w{4,})$/, 'must be a numeric chat id or @channelname'),
  ),
  /** Bot API server; a self-hosted one (or a local fake in tests). No trailing slash. */
  TELEGRAM_API_ROOT: optional(httpUrl.refine((u) => !u.endsWith('/'), 'no trailing slash')),
  DISCORD_WEBHOOK_URL: optional(httpUrl),
  /** Generic outgoing webhook, and the key its body is HMAC-signed with. */
  NOTIFY_WEBHOOK_URL: optional(httpUrl),
  NOTIFY_WEBHOOK_SECRET: optional(z.string().min(16, 'use at least 16 characters')),
  /**
   * Per-account routing, `selector=target,target;…`. Selector: `*`, `<exchange>:*` or `<exchange>:<account_id>`
   * (the most specific one wins). Target: `telegram` (TELEGRAM_CHAT_ID), `telegram:<chat_id>`, `discord`,
   * `webhook` or `none`. Empty: every configured channel gets every event.
   */
  NOTIFY_ROUTES: z.string().default(''),
  /** Events of one channel arriving within this window go out as one message. */
  NOTIFY_BATCH_WINDOW_MS: intFromEnv(100, 60_000).default(2_000),
  /** Most events in one message (the rest go in the next one). */
  NOTIFY_BATCH_MAX: intFromEnv(1, 500).default(100),
  /** Attempts per message after a 5xx/network error, with exponential backoff from NOTIFY_RETRY_BASE_MS. */
  NOTIFY_MAX_ATTEMPTS: intFromEnv(1, 50).default(8),
  NOTIFY_RETRY_BASE_MS: intFromEnv(10, 600_000).default(2_000),
  /** A worker or risk process gone this long is reported (and its return); 0 = off. */
  NOTIFY_DOWN_AFTER_S: intFromEnv(0, 86_400).default(60),
  NOTIFY_MONITOR_INTERVAL_MS: intFromEnv(100, 600_000).default(5_000),
  SHUTDOWN_DEADLINE_MS: intFromEnv(100, 600_000).default(10_000),
});
export type NotifierConfig = z.infer<typeof notifierEnvSchema>;

export function loadNotifierConfig(env: Record<string, string | undefined> = process.env): NotifierConfig {
  return parseEnv(notifierEnvSchema, env);
}
