/** Shared helpers for this package's tests: real ccxt clients pointed at a running simulator. */
import ccxt from 'ccxt';
import { pointCcxtAtSimulator } from '../src/ccxt-overrides.ts';
import type { Simulator } from '../src/server.ts';

export type Binance = InstanceType<typeof ccxt.binanceusdm>;
export type Okx = InstanceType<typeof ccxt.okx>;

let n = 0;
export function uniqueKey(prefix: string): string {
  n += 1;
  return `${prefix}${process.pid}x${n}x${Math.floor(Math.random() * 1e6)}`;
}

export async function control(
  sim: Simulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(sim.url + path, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return (await res.json()) as Record<string, unknown>;
}

export async function binanceAccount(
  sim: Simulator,
  opts: { balance?: number; positionMode?: 'oneway' | 'hedge'; secret?: string; timeout?: number } = {},
): Promise<{ ex: Binance; key: string; secret: string }> {
  const key = uniqueKey('bk');
  const secret = `${key}-secret`;
  await control(sim, 'POST', '/_sim/accounts', {
    exchange: 'binance',
    api_key: key,
    api_secret: secret,
    balance: opts.balance ?? 10_000,
    position_mode: opts.positionMode,
  });
  const ex = new ccxt.binanceusdm({
    apiKey: key,
    secret: opts.secret ?? secret,
    enableRateLimit: false,
    timeout: opts.timeout ?? 5000,
  });
  ex.enableDemoTrading(true);
  pointCcxtAtSimulator(ex as never, sim.url);
  return { ex, key, secret };
}

export async function okxAccount(
  sim: Simulator,
  opts: {
    balance?: number;
    positionMode?: 'oneway' | 'hedge';
    testnet?: boolean;
    sandbox?: boolean;
    password?: string;
    secret?: string;
    timeout?: number;
    permissions?: string[] | string;
  } = {},
): Promise<{ ex: Okx; key: string; secret: string }> {
  const key = uniqueKey('ok');
  const secret = `${key}-secret`;
  const testnet = opts.testnet ?? true;
  await control(sim, 'POST', '/_sim/accounts', {
    exchange: 'okx',
    api_key: key,
    api_secret: secret,
    passphrase: 'Pass-1',
    balance: opts.balance ?? 10_000,
    testnet,
    position_mode: opts.positionMode,
    permissions: opts.permissions,
  });
  const ex = new ccxt.okx({
    apiKey: key,
    secret: opts.secret ?? secret,
    password: opts.password ?? 'Pass-1',
    enableRateLimit: false,
    timeout: opts.timeout ?? 5000,
  });
  if (opts.sandbox ?? testnet) ex.setSandboxMode(true);
  pointCcxtAtSimulator(ex as never, sim.url);
  return { ex, key, secret };
}

/** Runs `fn` and returns the error it throws (fails if it does not throw). */
export async function rejects(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Sets a symbol's price at the simulator (crossed SL/TP trigger). */
export async function setPrice(sim: Simulator, symbol: string, price: number): Promise<void> {
  await control(sim, 'POST', '/_sim/price', { symbol, price });
}
