import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';
import { binanceAccount, okxAccount, type Binance, type Okx } from '../test/support.ts';

/**
 * The simulator's answers against what ccxt recorded from the real exchanges
 * (test-fixtures/ccxt-recorded-responses.json, with its source): every field the exchange sent is there, with
 * the same kind. ccxt's recorder writes numbers as strings, so a number and a string are one kind ("scalar");
 * values may differ. Extra fields of ours are allowed (the exchanges add fields over time) but listed.
 */
interface Entry {
  exchange: 'binance' | 'okx';
  fixture: string;
  endpoint: string;
  httpResponse: unknown;
}
const recorded = JSON.parse(
  readFileSync(new URL('../test-fixtures/ccxt-recorded-responses.json', import.meta.url), 'utf8'),
) as { entries: Entry[] };

type Kind = 'null' | 'boolean' | 'scalar' | 'array' | 'object';
function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'boolean';
  return 'scalar';
}

/** Differences of `actual` from `expected` in names and kinds, as readable paths. */
export function shapeDifferences(expected: unknown, actual: unknown, path = '$'): string[] {
  const ek = kindOf(expected);
  const ak = kindOf(actual);
  if (ek !== ak) return [`${path}: ${ek} recorded, ${ak} simulated`];
  if (ek === 'array') {
    const [e] = expected as unknown[];
    const [a] = actual as unknown[];
    return e === undefined || a === undefined ? [] : shapeDifferences(e, a, `${path}[0]`);
  }
  if (ek !== 'object') return [];
  const exp = expected as Record<string, unknown>;
  const act = actual as Record<string, unknown>;
  return Object.keys(exp).flatMap((k) =>
    k in act ? shapeDifferences(exp[k], act[k], `${path}.${k}`) : [`${path}.${k}: missing`],
  );
}

const BTC = 'BTC/USDT:USDT';
let sim: Simulator;
let binance: Binance;
let okx: Okx;
/** The raw JSON of the simulator's answer per endpoint, from real ccxt calls. */
const answers = new Map<string, unknown>();

async function capture(endpoint: string, ex: Binance | Okx, call: () => Promise<unknown>): Promise<void> {
  await call();
  answers.set(endpoint, ex.last_json_response);
}

beforeAll(async () => {
  sim = await startSimulator();
  binance = (await binanceAccount(sim)).ex;
  okx = (await okxAccount(sim)).ex;
  binance.enableLastJsonResponse = true;
  okx.enableLastJsonResponse = true;
  const order = await binance.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'fx1' });
  answers.set('POST /fapi/v1/order', binance.last_json_response);
  await capture('GET /fapi/v1/order', binance, () => binance.fetchOrder(String(order.id), BTC));
  await capture('GET /fapi/v3/positionRisk', binance, () => binance.fetchPositions([BTC]));
  await capture('GET /fapi/v2/account', binance, () => binance.fapiPrivateV2GetAccount());
  await capture('GET /fapi/v1/userTrades', binance, () => binance.fetchMyTrades(BTC));
  await capture('POST /api/v5/trade/batch-orders', okx, () =>
    okx.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'fx2' }),
  );
  await capture('POST /api/v5/trade/order-algo', okx, () =>
    okx.createOrder(BTC, 'market', 'sell', 1, undefined, { stopLossPrice: 1000, reduceOnly: true }),
  );
});

afterAll(async () => {
  await sim?.close();
});

describe('simulator answers have the fields the real exchanges send (ccxt recorded fixtures)', () => {
  it.each(recorded.entries.map((e) => [`${e.exchange} ${e.endpoint}`, e] as const))('%s', (_name, entry) => {
    const answer = answers.get(entry.endpoint);
    expect(answer, `no simulator answer captured for ${entry.endpoint}`).toBeDefined();
    const subject = Array.isArray(answer) && !Array.isArray(entry.httpResponse) ? answer[0] : answer;
    expect(shapeDifferences(entry.httpResponse, subject), entry.fixture).toEqual([]);
  });

  it('the comparison catches a missing field and a changed kind', () => {
    expect(shapeDifferences({ a: '1', b: { c: true } }, { a: 1, b: { c: 'x' } })).toEqual([
      '$.b.c: boolean recorded, scalar simulated',
    ]);
    expect(shapeDifferences({ a: [{ x: '1' }] }, { a: [{}] })).toEqual(['$.a[0].x: missing']);
  });
});
