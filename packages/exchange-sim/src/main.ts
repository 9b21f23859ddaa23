/**
 * Standalone simulator: `pnpm sim`.
 * Env: SIM_PORT (default 8099), SIM_HOST (default 127.0.0.1), SIM_LATENCY_MS, SIM_WALK_MS (random-walk interval),
 * SIM_DEMO_ACCOUNTS=1 to pre-create demo accounts (keys below, overridable with SIM_BINANCE_KEY/SECRET,
 * SIM_OKX_KEY/SECRET/PASSPHRASE, SIM_BALANCE, SIM_OKX_TESTNET=1). SIM_RATE_LIMITS=off turns request accounting
 * off (default: the exchanges' real limits); SIM_TRUST_FORWARDED_FOR=1 takes the client IP from X-Forwarded-For.
 */
import { startSimulator } from './server.ts';

const env = process.env;
const accounts: Array<Record<string, unknown>> = [];
if (env['SIM_DEMO_ACCOUNTS'] === '1' || env['SIM_DEMO_ACCOUNTS'] === 'true') {
  const balance = Number(env['SIM_BALANCE'] ?? 10_000);
  accounts.push({
    exchange: 'binance',
    api_key: env['SIM_BINANCE_KEY'] ?? 'demo-binance-key',
    api_secret: env['SIM_BINANCE_SECRET'] ?? 'demo-binance-secret',
    balance,
  });
  accounts.push({
    exchange: 'okx',
    api_key: env['SIM_OKX_KEY'] ?? 'demo-okx-key',
    api_secret: env['SIM_OKX_SECRET'] ?? 'demo-okx-secret',
    passphrase: env['SIM_OKX_PASSPHRASE'] ?? 'demo-okx-passphrase',
    testnet: env['SIM_OKX_TESTNET'] === '1',
    balance,
  });
}

const sim = await startSimulator({
  port: Number(env['SIM_PORT'] ?? 8099),
  host: env['SIM_HOST'] ?? '127.0.0.1',
  latencyMs: Number(env['SIM_LATENCY_MS'] ?? 0),
  walkIntervalMs: env['SIM_WALK_MS'] ? Number(env['SIM_WALK_MS']) : undefined,
  accounts,
  log: env['SIM_LOG'] === '1',
  rateLimits: { enabled: env['SIM_RATE_LIMITS'] !== 'off' },
  trustForwardedFor: env['SIM_TRUST_FORWARDED_FOR'] === '1',
});
console.log(`[exchange-sim] listening on ${sim.url} (Binance /fapi, OKX /api/v5, control /_sim)`);
for (const a of accounts)
  console.log(`[exchange-sim] account ${String(a['exchange'])} key=${String(a['api_key'])}`);

const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
