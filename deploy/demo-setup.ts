// Keyless demo setup, shared by the compose `demo` service and `pnpm demo` (scripts/demo.ts):
// creates exchange accounts in the simulator (its /_sim/accounts control API), registers them with the
// ingress's admin API under the guide's account ids, checks their status, and prints the guide's curl.
// Refuses to run unless the workers' exchange URLs point at the simulator, so demo keys can never be
// registered against a real exchange.
import { pathToFileURL } from 'node:url';

export const DEMO_ACCOUNTS = [
  {
    exchange: 'binance',
    account_id: 'my_binance_account',
    api_key: 'demo-binance-api-key-0001',
    api_secret: 'demo-binance-api-secret-0001',
  },
  {
    exchange: 'okx',
    account_id: 'my_okx_account',
    api_key: 'demo-okx-api-key-0001',
    api_secret: 'demo-okx-api-secret-0001',
    passphrase: 'demo-okx-passphrase',
  },
] as const;

export interface DemoSetupOptions {
  ingressUrl: string;
  simUrl: string;
  adminToken: string;
  /** The workers' BINANCE_API_URL / OKX_API_URL: both must be the simulator. */
  binanceApiUrl: string | undefined;
  okxApiUrl: string | undefined;
  balance?: number;
  log?: (line: string) => void;
}

export class DemoSetupError extends Error {}

async function call(
  url: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const { json, ...rest } = init;
  const res = await fetch(url, {
    ...rest,
    headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...rest.headers },
    body: json === undefined ? rest.body : JSON.stringify(json),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

async function waitFor(url: string, what: string, attempts = 120): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new DemoSetupError(`${what} did not become healthy at ${url}`);
}

function sameOrigin(a: string | undefined, b: string): boolean {
  if (!a) return false;
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

export async function setupDemo(options: DemoSetupOptions): Promise<void> {
  const log = options.log ?? console.log;
  const { ingressUrl, simUrl } = options;
  if (!sameOrigin(options.binanceApiUrl, simUrl) || !sameOrigin(options.okxApiUrl, simUrl)) {
    throw new DemoSetupError(
      `BINANCE_API_URL and OKX_API_URL must both be the simulator (${simUrl}); refusing to register demo ` +
        'accounts that real exchanges would receive. Compose: docker compose --env-file deploy/demo.env up',
    );
  }
  if (!options.adminToken) throw new DemoSetupError('ADMIN_TOKEN is not set');
  await waitFor(`${simUrl}/_sim/health`, 'the exchange simulator');
  await waitFor(`${ingressUrl}/api/v1/webhook/health`, 'the ingress');
  const auth = { authorization: `Bearer ${options.adminToken}` };

  for (const account of DEMO_ACCOUNTS) {
    const { account_id, exchange, ...keys } = account;
    const existing = await call(`${simUrl}/_sim/accounts/${exchange}/${encodeURIComponent(keys.api_key)}`);
    if (existing.status !== 200) {
      const created = await call(`${simUrl}/_sim/accounts`, {
        method: 'POST',
        // Demo accounts, and they say so: `"testnet": true` (no real money), in the simulator and tradehook.
        json: { exchange, ...keys, testnet: true, balance: options.balance ?? 10_000 },
      });
      if (created.status >= 300) {
        throw new DemoSetupError(
          `simulator refused the ${exchange} demo account: ${JSON.stringify(created.body)}`,
        );
      }
    }
    // PUT: registers, or re-registers after a restart of the demo (idempotent).
    const registered = await call(`${ingressUrl}/api/v1/accounts/${exchange}/register`, {
      method: 'PUT',
      headers: auth,
      json: { account_id, ...keys, testnet: true },
    });
    if (registered.status >= 300) {
      throw new DemoSetupError(
        `registering ${account_id} failed (${registered.status}): ${JSON.stringify(registered.body)}`,
      );
    }
    const status = await call(`${ingressUrl}/api/v1/accounts/status/${account_id}?exchange=${exchange}`, {
      headers: auth,
    });
    const balance = (status.body as { balance?: { available_balance?: number } }).balance;
    log(
      `demo: ${exchange} account "${account_id}" registered` +
        (status.status === 200
          ? ` — available balance ${balance?.available_balance ?? '?'} USDT`
          : ` (status ${status.status})`),
    );
  }
}

/** What to type next; `secretHint` says how to fill $WEBHOOK_SECRET / $ADMIN_TOKEN (values are never printed). */
export function demoInstructions(hostUrl: string, secretHint: string): string {
  return [
    '',
    'Demo ready: no exchange keys, orders go to the built-in exchange simulator.',
    // Plain shell variables for the curl lines, never exported (README: an exported one would override the
    // generated secrets of every later start from that shell).
    `1) Load the secrets into your shell (not exported):\n   ${secretHint}`,
    "2) Send the guide's alert (add ?wait to get the outcome in the answer):",
    `   curl -s -X POST "${hostUrl}/api/v1/webhook/tradingview?wait" -H "Content-Type: application/json" \\`,
    '     -d "{\\"account_id\\":\\"my_binance_account\\",\\"exchange\\":\\"binance\\",\\"action\\":\\"long\\",\\"symbol\\":\\"BTCUSDT\\",\\"leverage\\":10,\\"secret\\":\\"$WEBHOOK_SECRET\\"}"',
    '3) Look at the position it opened, then close it (action close_long):',
    `   curl -s "${hostUrl}/api/v1/accounts/status/my_binance_account?exchange=binance" -H "Authorization: Bearer $ADMIN_TOKEN"`,
    `   OKX works the same with account_id my_okx_account and exchange okx.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const env = process.env;
  await setupDemo({
    ingressUrl: env.INGRESS_URL ?? 'http://ingress:8001',
    simUrl: env.SIM_URL ?? 'http://sim:8099',
    adminToken: env.ADMIN_TOKEN ?? '',
    binanceApiUrl: env.BINANCE_API_URL,
    okxApiUrl: env.OKX_API_URL,
  });
  const compose = 'docker compose --env-file deploy/demo.env';
  console.log(
    demoInstructions(
      `http://127.0.0.1:${env.INGRESS_PORT ?? '8001'}`,
      `eval "$(${compose} exec -T ingress cat /secrets/ingress/ingress.env | grep -E '^(WEBHOOK_SECRET|ADMIN_TOKEN)=')"`,
    ),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`demo setup failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
