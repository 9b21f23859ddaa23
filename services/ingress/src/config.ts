import { baseEnvSchema, intFromEnv, parseEnv, z } from '@tradehook/config';

/** TradingView's published webhook source addresses (IP_ALLOWLIST=tradingview). */
export const TRADINGVIEW_IPS = ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'] as const;

/** `false` | `true` | hop count | comma list of addresses/subnets/presets (Express "trust proxy"). */
function parseTrustProxy(value: string): boolean | number | string {
  const v = value.trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

/** '' = no allow-list; otherwise addresses, with `tradingview` expanding to TradingView's addresses. */
function parseAllowList(value: string): string[] {
  const out = new Set<string>();
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    if (part.toLowerCase() === 'tradingview') TRADINGVIEW_IPS.forEach((ip) => out.add(ip));
    else out.add(part);
  }
  return [...out];
}

export const ingressEnvSchema = baseEnvSchema.extend({
  PORT: intFromEnv(1, 65535).default(8001),
  // Loopback unless asked: the admin API shares this listener (compose sets 0.0.0.0 explicitly).
  HOST: z.string().default('127.0.0.1'),
  /** Bearer token of the admin API (accounts, signals, limits). */
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters'),
  /** Global webhook secret; an account with its own webhook_secret accepts only that one. */
  WEBHOOK_SECRET: z.string().min(1, 'WEBHOOK_SECRET is required'),
  /** X25519 public key (base64): ingress seals credentials but can never open them. */
  CREDENTIALS_PUBLIC_KEY: z.string().min(1, 'CREDENTIALS_PUBLIC_KEY (base64 X25519 public key) is required'),
  TRUST_PROXY: z.string().default('false').transform(parseTrustProxy),
  /**
   * Per-IP webhook requests per window, shared across replicas through Redis; 0 = off. TradingView sends every
   * user's alerts from four addresses, so keep room for a bar-close burst over many symbols.
   */
  RATE_LIMIT_WINDOW_MS: intFromEnv(1000, 3_600_000).default(60_000),
  RATE_LIMIT_WEBHOOK_MAX: intFromEnv(0, 1_000_000).default(300),
  /** Per-IP admin API requests per window; 0 = off. */
  RATE_LIMIT_ADMIN_MAX: intFromEnv(0, 1_000_000).default(300),
  IP_ALLOWLIST: z.string().default('').transform(parseAllowList),
  DEDUP_WINDOW_SECONDS: intFromEnv(1, 86_400).default(30),
  WEBHOOK_WAIT_MAX_MS: intFromEnv(0, 60_000).default(10_000),
  ACCOUNT_REQUEST_TIMEOUT_MS: intFromEnv(100, 120_000).default(8_000),
  /** How long the hot path trusts its in-memory account cache. */
  ACCOUNT_CACHE_TTL_MS: intFromEnv(0, 600_000).default(5_000),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'e.g. 16kb')
    .default('16kb'),
  /** Lifetime of a dashboard login (/app), seconds; the session ends earlier on logout. */
  DASHBOARD_SESSION_TTL_SECONDS: intFromEnv(1, 7 * 24 * 3600).default(8 * 3600),
  SHUTDOWN_DEADLINE_MS: intFromEnv(1000, 120_000).default(10_000),
});
export type IngressConfig = z.infer<typeof ingressEnvSchema>;

export function loadIngressConfig(env: Record<string, string | undefined> = process.env): IngressConfig {
  return parseEnv(ingressEnvSchema, env);
}
