/**
 * Corpus of hostile webhook bodies against the real ingress (Postgres, Redis): every one is answered
 * 4xx, none is stored or enqueued, and the service stays healthy.
 */
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminHeaders,
  startIngressHarness,
  WEBHOOK_SECRET,
  type IngressHarness,
} from '../../test/support.ts';

const URL = '/api/v1/webhook/tradingview';
let h: IngressHarness;

const base = {
  account_id: 'hostile_acct',
  exchange: 'binance',
  action: 'long',
  symbol: 'BTCUSDT',
  quantity: 0.01,
  secret: WEBHOOK_SECRET,
};

interface Case {
  name: string;
  /** A raw string is sent as-is; an object is JSON-encoded. */
  body: string | Buffer | Record<string, unknown>;
  headers?: Record<string, string>;
}

const with_ = (field: string, value: unknown): Record<string, unknown> => ({ ...base, [field]: value });
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : String(v));

const BAD_NUMBERS: unknown[] = [
  true,
  false,
  [],
  {},
  [1],
  { $gt: 0 },
  'abc',
  -1,
  0,
  -0,
  'NaN',
  'Infinity',
  '-Infinity',
  1e308,
  -1e308,
  5e-324,
  1e-300,
  1e-11,
  1e11,
  '1e308',
  '1e-300',
  '5e-324',
  '0x10',
  '1,5',
  '١٢',
  '1 2',
  '1e',
  '--1',
  Number.MAX_VALUE,
  '9'.repeat(400),
];
const NUMERIC_FIELDS = ['price', 'quantity', 'stop_loss', 'take_profit'];
const BAD_LEVERAGE: unknown[] = [0, -1, 126, 1.5, 1e308, '1e308', true, 'ten', [], {}, '1e-300', 2 ** 53];
const BAD_MAX_LAG: unknown[] = [0, -1, 1.5, 1e308, '1e308', 86_401, true, 'x', [], {}];
const BAD_TIMESTAMP: unknown[] = [
  1e308,
  -1,
  0,
  '1e308',
  '9'.repeat(20),
  'not a date',
  true,
  [],
  {},
  '',
  1e14,
];
const BAD_IDS: unknown[] = [1.5, -1, 1e308, true, [], {}, '', ' ', 'x'.repeat(129), 2 ** 60, NaN];
const CONTROL = ['\r\n', '\n', '\u0000', '\t', '\u001b', '\u007f', '\u0085', '\u2028', '\u202e', '\ufeff'];
const BAD_ACCOUNT_IDS: unknown[] = [
  '\r\nh1',
  ...CONTROL.map((c) => `hostile_acct${c}`),
  ...CONTROL.map((c) => `${c}hostile_acct`),
  '',
  ' ',
  'x'.repeat(65),
  'ü',
  'a/b',
  '../x',
  'a b',
  1,
  true,
  [],
  {},
  null,
];
const BAD_EXCHANGE: unknown[] = ['bybit', '', 1, null, [], {}, 'binance\u0000', 'bin ance', true];
const BAD_ACTION: unknown[] = ['buy', '', 1, null, [], {}, 'long\u0000', 'lo\nng', true, 'close'];
const BAD_SYMBOL: unknown[] = [
  '',
  'BTC',
  'BTC\u0000USDT',
  1,
  null,
  [],
  {},
  'x'.repeat(1000),
  '../../etc',
  true,
];
const BAD_SECRET: unknown[] = [
  'wrong',
  '',
  1,
  [],
  {},
  null,
  true,
  'x'.repeat(257),
  `${WEBHOOK_SECRET}\u0000`,
];

function fieldCases(): Case[] {
  const cases: Case[] = [];
  const add = (field: string, values: unknown[]) => {
    for (const v of values) cases.push({ name: `${field}=${show(v)}`, body: with_(field, v) });
  };
  for (const f of NUMERIC_FIELDS) add(f, BAD_NUMBERS);
  add('leverage', BAD_LEVERAGE);
  add('max_lag', BAD_MAX_LAG);
  add('timestamp', BAD_TIMESTAMP);
  add('id', BAD_IDS);
  add('alert_id', BAD_IDS);
  add('account_id', BAD_ACCOUNT_IDS);
  add('exchange', BAD_EXCHANGE);
  add('action', BAD_ACTION);
  add('symbol', BAD_SYMBOL);
  add('secret', BAD_SECRET);
  // quantity is optional (the account's default size applies).
  for (const f of Object.keys(base).filter((k) => k !== 'quantity')) {
    const rest: Record<string, unknown> = { ...base };
    delete rest[f];
    cases.push({ name: `missing ${f}`, body: rest });
  }
  return cases;
}

const json = JSON.stringify(base);
const RAW_JSON: string[] = [
  '',
  ' ',
  '{',
  '}',
  '[',
  '{"a":',
  json.slice(0, -1),
  `${json}}`,
  `${json},`,
  `[${json}]`,
  'null',
  'true',
  '0',
  '"x"',
  '[]',
  '{}',
  "{'account_id':'x'}",
  json.replace(/"/g, "'"),
  `${json.slice(0, -1)},}`,
  '{"account_id":"hostile_acct",}',
  'NaN',
  '{"quantity":NaN}',
  '\u0000',
  '\ufeff{',
  '<xml/>',
  'a=b&c=d',
  json.replace('0.01', '1e999999'),
  json.replace('0.01', '0.01e-999999'),
  json.replace('0.01', '-'),
  json.replace('0.01', '0x1'),
  json.replace('0.01', '.5e'),
  `/*c*/${json}`,
  `${json}//c`,
];
const PROTO: string[] = [
  `{"__proto__":{"secret":"${WEBHOOK_SECRET}"},"account_id":"hostile_acct","exchange":"binance","action":"long","symbol":"BTCUSDT"}`,
  `{"constructor":{"prototype":{"secret":"${WEBHOOK_SECRET}"}},"account_id":"hostile_acct","exchange":"binance","action":"long","symbol":"BTCUSDT"}`,
  json.replace('"quantity":0.01', '"quantity":{"__proto__":{"valueOf":1}}'),
  json.replace('"quantity":0.01', '"__proto__":{"quantity":0.01},"leverage":{"__proto__":[]}'),
  json.replace('"symbol":"BTCUSDT"', '"__proto__":{"symbol":"BTCUSDT"}'),
  json.replace('"action":"long"', '"constructor":{"action":"long"}'),
  json.replace('"secret"', '"__proto__":null,"x"'),
  json.replace('"account_id":"hostile_acct"', '"account_id":{"toString":"hostile_acct"}'),
  json.replace('"exchange":"binance"', '"exchange":{"valueOf":"binance"}'),
  json.replace('"action":"long"', '"action":["long"]'),
];
const deep = (n: number, open: string, close: string, inner = '1') =>
  open.repeat(n) + inner + close.repeat(n);
const NESTING: string[] = [
  deep(100_000, '[', ']'),
  deep(50_000, '{"a":', '}'),
  json.replace('0.01', deep(10_000, '[', ']')),
  json.replace('0.01', deep(5_000, '{"a":', '}')),
  json.replace('"long"', deep(1000, '{"a":', '}', '"long"')),
  json.replace('"BTCUSDT"', deep(1000, '[', ']', '"BTCUSDT"')),
];

function rawCases(): Case[] {
  const cases: Case[] = [];
  for (const [i, body] of [...RAW_JSON, ...PROTO, ...NESTING].entries()) {
    cases.push({ name: `raw json #${i}`, body, headers: { 'Content-Type': 'application/json' } });
    cases.push({ name: `raw text #${i}`, body, headers: { 'Content-Type': 'text/plain' } });
  }
  return cases;
}

function encodingCases(): Case[] {
  const gz = gzipSync(json);
  const cases: Case[] = [];
  for (const enc of [
    'gzip',
    'deflate',
    'br',
    'x-gzip',
    'compress',
    'zstd',
    'GZIP',
    'gzip, identity',
    'bogus',
  ]) {
    cases.push({
      name: `fake ${enc}`,
      body: json,
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': enc },
    });
    cases.push({
      name: `fake ${enc} text`,
      body: json,
      headers: { 'Content-Type': 'text/plain', 'Content-Encoding': enc },
    });
  }
  cases.push({
    name: 'truncated gzip',
    body: gz.subarray(0, gz.length - 8),
    headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
  });
  cases.push({
    name: 'half gzip',
    body: gz.subarray(0, 10),
    headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
  });
  // Compressed bodies are refused even when valid: TradingView sends none.
  cases.push({
    name: 'valid gzip',
    body: gz,
    headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
  });
  for (const charset of [
    'utf-16',
    'utf-16le',
    'utf-7',
    'iso-8859-1',
    'UTF-32',
    'latin1',
    'ebcdic',
    'bogus',
  ]) {
    cases.push({
      name: `charset ${charset}`,
      body: json,
      headers: { 'Content-Type': `application/json; charset=${charset}` },
    });
  }
  const latin1 = Buffer.from(json.replace('hostile_acct', 'hostile_\u00e4cct'), 'latin1');
  cases.push({ name: 'invalid utf-8', body: latin1, headers: { 'Content-Type': 'application/json' } });
  cases.push({
    name: 'utf-16 bytes',
    body: Buffer.from(json, 'utf16le'),
    headers: { 'Content-Type': 'application/json' },
  });
  for (const type of [
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    'image/png',
  ]) {
    cases.push({ name: `type ${type}`, body: json, headers: { 'Content-Type': type } });
  }
  return cases;
}

function sizeCases(): Case[] {
  const cases: Case[] = [];
  for (const n of [200_000, 1_000_000, 5_000_000]) {
    cases.push({ name: `padding ${n}`, body: with_('pad', 'x'.repeat(n)) });
    cases.push({ name: `text ${n}`, body: 'x'.repeat(n), headers: { 'Content-Type': 'text/plain' } });
  }
  cases.push({
    name: 'many keys',
    body: { ...base, ...Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) },
  });
  return cases;
}

const CORPUS: Case[] = [...fieldCases(), ...rawCases(), ...encodingCases(), ...sizeCases()];

beforeAll(async () => {
  h = await startIngressHarness({ ACCOUNT_REQUEST_TIMEOUT_MS: '150', RATE_LIMIT_WEBHOOK_MAX: '0' });
  const res = await request(h.app).post('/api/v1/accounts/binance/register').set(adminHeaders).send({
    account_id: 'hostile_acct',
    api_key: 'key-hostile-0123456789',
    api_secret: 'secret-hostile-0123456789',
    testnet: true,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function signalRows(): Promise<number> {
  const { rows } = await h.deps.pgPool.query<{ n: string }>('SELECT count(*) AS n FROM signals');
  return Number(rows[0]!.n);
}

describe('webhook: hostile bodies', () => {
  it('has a corpus of at least 300 bodies', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(300);
  });

  it('answers every hostile body 4xx, stores and enqueues none, and stays healthy', async () => {
    const wrong: string[] = [];
    for (const c of CORPUS) {
      const req = request(h.app)
        .post(URL)
        .set(c.headers ?? {});
      const res = await (typeof c.body === 'object' && !Buffer.isBuffer(c.body)
        ? req.send(c.body)
        : req.send(c.body));
      if (res.status < 400 || res.status >= 500)
        wrong.push(`${c.name}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(wrong).toEqual([]);
    expect(await signalRows()).toBe(0);
    expect(await h.deps.queues.signals.count()).toBe(0);
    const health = await request(h.app).get('/api/v1/webhook/health');
    expect(health.status).toBe(200);
    // The corpus was refused for its content, not because the account could never trade.
    const ok = await request(h.app).post(URL).send(base);
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    expect(await signalRows()).toBe(1);
  }, 120_000);
});
