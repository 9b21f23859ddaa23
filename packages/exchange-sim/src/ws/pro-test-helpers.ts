/** Test helpers: real ccxt pro clients (REST + WebSocket) pointed at a running simulator. */
import ccxt from 'ccxt';
import { pointCcxtAtSimulator } from '../ccxt-overrides.ts';
import type { Simulator } from '../server.ts';
import { control, uniqueKey } from '../../test/support.ts';

export type ProBinance = InstanceType<typeof ccxt.pro.binanceusdm>;
export type ProOkx = InstanceType<typeof ccxt.pro.okx>;

export async function proBinance(
  sim: Simulator,
  opts: { balance?: number; positionMode?: 'oneway' | 'hedge'; secret?: string } = {},
): Promise<{ ex: ProBinance; key: string; secret: string }> {
  const key = uniqueKey('bk');
  const secret = `${key}-secret`;
  await control(sim, 'POST', '/_sim/accounts', {
    exchange: 'binance',
    api_key: key,
    api_secret: secret,
    balance: opts.balance ?? 10_000,
    position_mode: opts.positionMode,
  });
  const ex = new ccxt.pro.binanceusdm({
    apiKey: key,
    secret: opts.secret ?? secret,
    enableRateLimit: false,
    timeout: 5000,
  });
  ex.enableDemoTrading(true);
  pointCcxtAtSimulator(ex as never, sim.url);
  return { ex, key, secret };
}

export async function proOkx(
  sim: Simulator,
  opts: {
    balance?: number;
    positionMode?: 'oneway' | 'hedge';
    secret?: string;
    password?: string;
    sandbox?: boolean;
  } = {},
): Promise<{ ex: ProOkx; key: string; secret: string }> {
  const key = uniqueKey('ok');
  const secret = `${key}-secret`;
  await control(sim, 'POST', '/_sim/accounts', {
    exchange: 'okx',
    api_key: key,
    api_secret: secret,
    passphrase: 'Pass-1',
    balance: opts.balance ?? 10_000,
    testnet: true,
    position_mode: opts.positionMode,
  });
  const ex = new ccxt.pro.okx({
    apiKey: key,
    secret: opts.secret ?? secret,
    password: opts.password ?? 'Pass-1',
    enableRateLimit: false,
    timeout: 5000,
  });
  if (opts.sandbox ?? true) ex.setSandboxMode(true);
  pointCcxtAtSimulator(ex as never, sim.url);
  return { ex, key, secret };
}

/**
 * Calls `watch()` until a value satisfies `ok`: each attempt may time out after `stepMs` (an event that
 * came before the subscription was live), the whole after `ms`.
 */
export async function until<T>(
  watch: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 5000,
  stepMs = 1000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('condition not met in time');
    const attempt = watch();
    attempt.catch(() => undefined); // an abandoned attempt may reject later (connection closed)
    const v = await Promise.race([
      attempt,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.min(left, stepMs)).unref()),
    ]);
    if (v !== undefined && ok(v)) return v;
  }
}

/** Polls `cond` every 10 ms until it holds, or rejects after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
