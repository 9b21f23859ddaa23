import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { clientOrderId } from '../packages/contracts/src/index.ts';
import { benchAccounts, createBenchEnvironment, seedAccounts, type BenchAccount } from './lib/environment.ts';
import {
  logRoot,
  startIngress,
  startRisk,
  startSimulatorProcess,
  startWorkerProcess,
  waitForQueueWorkers,
  type Ingress,
  type Simulator,
} from './lib/pipeline.ts';
import { cpuMeter, startProcess, type ManagedProcess } from './lib/processes.ts';
import { REPO_ROOT, waitUntil } from '../scripts/lib/supervisor.ts';
import { round, summarise, type Summary } from './lib/stats.ts';

/**
 * `pnpm bench:wire`: what a trader waits for, as a new user runs it — production defaults (ccxt throttle on,
 * account pre-warm on), the simulator answering every exchange request after WIRE_RTT_MS (default 25 ms, a
 * good host's round trip), one alert at a time. Measures alert → entry / SL and TP / close at the exchange
 * (the simulator's arrival time of each order, by client id), the first alert of a fresh account, and in the
 * same run a synchronous baseline (bench/load/sync-baseline.ts) against the same simulator; then the CPU
 * every service spends per alert (from /proc, idle subtracted) and a burst of one alert each for WIRE_BURST
 * accounts within one second, with the 429/418 answers the simulator (real rate limits on) served meanwhile.
 * Env: WIRE_ROUNDS (default 20), WIRE_RTT_MS (25), WIRE_BURST (100), WIRE_FRESH (3 fresh accounts per venue), WIRE_GAP_MS (2000), WIRE_WALK_MS (250: the simulator's price walk),
 * WIRE_VENUES (binance,okx), WIRE_OUT (bench/wire-results.json), WIRE_MD (bench/wire.md).
 */
const RTT = Number(process.env.WIRE_RTT_MS ?? 25);
const ROUNDS = Number(process.env.WIRE_ROUNDS ?? 20);
const BURST = Number(process.env.WIRE_BURST ?? 100);
const FRESH = Number(process.env.WIRE_FRESH ?? 3);
/**
 * Pause before each alert of the rounds. An account's decision reads REST (one round trip more) while one of
 * its own orders was answered within LIVE_STATE_OWN_ORDER_GRACE_MS (1500 ms): alerts a bar apart meet the
 * stream path, alerts back to back (WIRE_GAP_MS=0) the REST one; the stage table says which each one met.
 */
const GAP_MS = Number(process.env.WIRE_GAP_MS ?? 2000);
const WALK_MS = Number(process.env.WIRE_WALK_MS ?? 250);
const OUT = path.resolve(REPO_ROOT, process.env.WIRE_OUT ?? 'bench/wire-results.json');
const MD = path.resolve(REPO_ROOT, process.env.WIRE_MD ?? 'bench/wire.md');
const VENUES = (process.env.WIRE_VENUES ?? 'binance,okx').split(',').map((v) => {
  if (v !== 'binance' && v !== 'okx') throw new Error(`WIRE_VENUES: unknown venue "${v}"`);
  return v as Venue;
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.log(`[wire] ${msg}`);

type Venue = 'binance' | 'okx';
interface Ctx {
  sim: Simulator;
  ingress: Ingress;
  db: pg.Client;
  secret: string;
}

async function simAccounts(ctx: Ctx, exchange: Venue, tag: string, n: number): Promise<BenchAccount[]> {
  const accounts = benchAccounts(n, `${exchange}${tag}`).map((a) =>
    exchange === 'okx' ? { ...a, passphrase: `Pp${randomBytes(4).toString('hex')}` } : a,
  );
  for (const a of accounts) {
    await ctx.sim.control('POST', '/_sim/accounts', {
      exchange,
      api_key: a.apiKey,
      api_secret: a.apiSecret,
      passphrase: a.passphrase,
      balance: 10_000,
    });
  }
  return accounts;
}

/**
 * POST /api/v1/accounts/:exchange/register, as the README's first steps do. Returns the key check's status:
 * "pending" (no worker answered within ACCOUNT_REQUEST_TIMEOUT_MS) is reported, not thrown.
 */
async function register(ctx: Ctx, exchange: Venue, a: BenchAccount): Promise<string> {
  const res = await fetch(`${ctx.ingress.url}/api/v1/accounts/${exchange}/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctxEnv.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      account_id: a.accountId,
      api_key: a.apiKey,
      api_secret: a.apiSecret,
      ...(a.passphrase ? { passphrase: a.passphrase } : {}),
      testnet: false,
    }),
  });
  const body = (await res.json()) as { key_check?: { status?: string } };
  if (res.status >= 300)
    throw new Error(`register ${exchange} ${a.accountId}: ${res.status} ${JSON.stringify(body)}`);
  return body.key_check?.status ?? 'unknown';
}

/** client id → arrival at the simulator (epoch ms). */
async function arrivals(ctx: Ctx, exchange: Venue, apiKey: string): Promise<Map<string, number>> {
  const { orders } = await ctx.sim.control<{
    orders: Array<{ client_id: string | null; arrival_ms: number | null }>;
  }>('GET', `/_sim/orders?exchange=${exchange}&api_key=${encodeURIComponent(apiKey)}`);
  return new Map(orders.flatMap((o) => (o.client_id && o.arrival_ms ? [[o.client_id, o.arrival_ms]] : [])));
}

const FINAL = ['executed', 'failed', 'rejected', 'ignored'];

async function finalStatus(ctx: Ctx, signalId: string): Promise<string> {
  for (const end = Date.now() + 20_000; Date.now() < end; await sleep(5)) {
    const { rows } = await ctx.db.query<{ status: string }>('SELECT status FROM signals WHERE id = $1', [
      signalId,
    ]);
    const s = rows[0]?.status;
    if (s && FINAL.includes(s)) return s;
  }
  const { rows } = await ctx.db.query<{ status: string; reason: string | null }>(
    'SELECT status, reason FROM signals WHERE id = $1',
    [signalId],
  );
  const legs = await ctx.db.query<{ leg: string; status: string; sent_at: Date | null }>(
    'SELECT leg, status, sent_at FROM orders WHERE signal_id = $1 ORDER BY created_at',
    [signalId],
  );
  throw new Error(
    `signal ${signalId} not final after 20 s: ${JSON.stringify({ signal: rows[0], orders: legs.rows })}`,
  );
}

interface Sent {
  t0: number;
  signalId: string;
  status: string;
  arrival: Map<string, number>;
}

/** Where an entry's time went (ms), from the pipeline's own timestamps (one host, one clock). */
interface EntryStages {
  'alert → ingress recorded': number;
  'ingress → risk decided': number;
  'risk → worker started': number;
  'worker started → entry sent': number;
  'entry sent → at the exchange': number;
  /** Where the decision read the positions: the stream (no round trip) or REST. */
  positions: string;
}
const STAGE_NAMES = [
  'alert → ingress recorded',
  'ingress → risk decided',
  'risk → worker started',
  'worker started → entry sent',
  'entry sent → at the exchange',
] as const;

async function entryStages(ctx: Ctx, s: Sent): Promise<EntryStages> {
  const ms = (c: string) => `(extract(epoch from ${c}) * 1000)::float8`;
  const { rows } = await ctx.db.query<{
    received: number;
    risk: number | null;
    started: number | null;
    sent: number | null;
    positions: string | null;
  }>(
    `SELECT ${ms('s.received_at')} AS received, ${ms('s.risk_decided_at')} AS risk,
            ${ms('s.exec_started_at')} AS started, ${ms('o.sent_at')} AS sent,
            concat_ws(' — ', 'positions ' || (s.result->'results'->'state'->>'positions'), 'price ' || (s.result->'results'->'state'->>'price'), s.result->'results'->'state'->>'rest_because') AS positions
       FROM signals s LEFT JOIN orders o ON o.signal_id = s.id AND o.client_order_id = $2
      WHERE s.id = $1`,
    [s.signalId, clientOrderId(s.signalId, 'entry')],
  );
  const r = rows[0]!;
  const nan = (v: number | null) => v ?? Number.NaN;
  return {
    'alert → ingress recorded': r.received - s.t0,
    'ingress → risk decided': nan(r.risk) - r.received,
    'risk → worker started': nan(r.started) - nan(r.risk),
    'worker started → entry sent': nan(r.sent) - nan(r.started),
    'entry sent → at the exchange': at(s, 'entry') + s.t0 - nan(r.sent),
    positions: r.positions ?? 'unknown',
  };
}

async function alert(
  ctx: Ctx,
  exchange: Venue,
  a: BenchAccount,
  fields: Record<string, unknown>,
  gapMs = 0,
): Promise<Sent> {
  const body = {
    account_id: a.accountId,
    exchange,
    symbol: 'BTCUSDT',
    secret: ctx.secret,
    alert_id: `wire-${randomBytes(6).toString('hex')}`,
    ...fields,
  };
  if (gapMs > 0) await sleep(gapMs);
  const t0 = Date.now();
  const res = await fetch(ctx.ingress.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { signal_id?: string; error?: string };
  if (!json.signal_id) throw new Error(`webhook ${res.status}: ${JSON.stringify(json)}`);
  const status = await finalStatus(ctx, json.signal_id);
  const arrival = await arrivals(ctx, exchange, a.apiKey);
  for (const id of await attachedToEntry(ctx, [json.signal_id])) attachedArrival(arrival, id);
  return { t0, signalId: json.signal_id, status, arrival };
}

/** Signals whose SL/TP rode on the entry request (OKX attachAlgoOrds): no request of their own. */
async function attachedToEntry(ctx: Ctx, ids: string[]): Promise<string[]> {
  const { rows } = await ctx.db.query<{ id: string }>(
    `SELECT id FROM signals WHERE id = ANY($1)
        AND (result->'results'->'stop_loss'->>'attached_to_entry' = 'true'
             OR result->'results'->'take_profit'->>'attached_to_entry' = 'true')`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** An attached SL/TP reached the exchange with its entry: its arrival is the entry's. */
function attachedArrival(arrival: Map<string, number>, signalId: string): void {
  const entry = arrival.get(clientOrderId(signalId, 'entry'));
  if (entry === undefined) return;
  for (const leg of ['stop_loss', 'take_profit'] as const) {
    const id = clientOrderId(signalId, leg);
    if (!arrival.has(id)) arrival.set(id, entry);
  }
}

const at = (s: Sent, leg: 'entry' | 'exit' | 'stop_loss' | 'take_profit') =>
  (s.arrival.get(clientOrderId(s.signalId, leg)) ?? Number.NaN) - s.t0;

interface Series {
  name: string;
  ms: Summary;
}

interface StageSeries {
  name: string;
  stages: Array<{ stage: string; ms: Summary }>;
  /** How many decisions read positions from the stream / from REST. */
  positions: Record<string, number>;
}

function stageRow(st: StageSeries): string {
  const cells = st.stages.map((x) => `${round(x.ms.p50)} (${round(x.ms.p99)})`).join(' | ');
  const reads = Object.entries(st.positions)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `| ${st.name} | ${cells} | ${reads} |`;
}

function stageSeries(name: string, list: EntryStages[]): StageSeries {
  const positions: Record<string, number> = {};
  for (const e of list) positions[e.positions] = (positions[e.positions] ?? 0) + 1;
  return {
    name,
    stages: STAGE_NAMES.map((stage) => ({ stage, ms: summarise(list.map((e) => e[stage])) })),
    positions,
  };
}

/** The two accounts of the one-at-a-time rounds: registered before the workers start, as a user's are. */
async function roundAccounts(ctx: Ctx, exchange: Venue): Promise<[BenchAccount, BenchAccount]> {
  const [given, sized] = await simAccounts(ctx, exchange, 'w', 2);
  await seedAccounts(ctxEnv, exchange, [given!, sized!]);
  return [given!, sized!];
}

async function venueRounds(
  ctx: Ctx,
  exchange: Venue,
  [given, sized]: [BenchAccount, BenchAccount],
): Promise<{ series: Series[]; stages: StageSeries[]; keyChecks: Record<string, number> }> {
  const entryGiven: number[] = [];
  const protGiven: number[] = [];
  const entrySized: number[] = [];
  const protSized: number[] = [];
  const close: number[] = [];
  const stagesGiven: EntryStages[] = [];
  const stagesSized: EntryStages[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const price = (await ctx.sim.control<{ prices: Record<string, number> }>('GET', '/_sim/prices')).prices[
      'BTCUSDT'
    ]!;
    const g = await alert(
      ctx,
      exchange,
      given,
      {
        action: 'long',
        quantity: 0.01,
        price,
        stop_loss: Math.round(price * 0.97),
        take_profit: Math.round(price * 1.03),
      },
      GAP_MS,
    );
    entryGiven.push(at(g, 'entry'));
    stagesGiven.push(await entryStages(ctx, g));
    protGiven.push(Math.max(at(g, 'stop_loss'), at(g, 'take_profit')));
    close.push(at(await alert(ctx, exchange, given, { action: 'close_long' }, GAP_MS), 'exit'));
    const s = await alert(ctx, exchange, sized, { action: 'long' }, GAP_MS); // 10 % sizing, ATR SL/TP
    entrySized.push(at(s, 'entry'));
    stagesSized.push(await entryStages(ctx, s));
    protSized.push(Math.max(at(s, 'stop_loss'), at(s, 'take_profit')));
    await alert(ctx, exchange, sized, { action: 'close_long' }, GAP_MS);
  }
  const fresh: number[] = [];
  const keyChecks: Record<string, number> = {};
  for (let i = 0; i < FRESH; i++) {
    const [a] = await simAccounts(ctx, exchange, `f${i}`, 1);
    // Registered as a user does (admin API: the key check runs on a worker, which prepares the account).
    const check = await register(ctx, exchange, a!);
    keyChecks[check] = (keyChecks[check] ?? 0) + 1;
    // Its first alert WIRE_GAP_MS after the registration answered (the background prepare's time).
    fresh.push(at(await alert(ctx, exchange, a!, { action: 'long', quantity: 0.01 }, GAP_MS), 'entry'));
    await alert(ctx, exchange, a!, { action: 'close_long' });
  }
  const series = [
    { name: `${exchange}: long, 10 % sizing, ATR SL/TP → entry`, ms: summarise(entrySized) },
    { name: `${exchange}: long, 10 % sizing, ATR SL/TP → SL and TP both`, ms: summarise(protSized) },
    { name: `${exchange}: long, given quantity and SL/TP → entry`, ms: summarise(entryGiven) },
    { name: `${exchange}: long, given quantity and SL/TP → SL and TP both`, ms: summarise(protGiven) },
    { name: `${exchange}: close_long → close order`, ms: summarise(close) },
    { name: `${exchange}: first alert of a just registered account → entry`, ms: summarise(fresh) },
  ];
  return {
    series,
    keyChecks,
    stages: [
      stageSeries(`${exchange}: long, 10 % sizing, ATR SL/TP`, stagesSized),
      stageSeries(`${exchange}: long, given quantity and SL/TP`, stagesGiven),
    ],
  };
}

async function baselineRounds(ctx: Ctx): Promise<Series> {
  const [a] = await simAccounts(ctx, 'binance', 'base', 1);
  const proc: ManagedProcess = startProcess({
    name: 'sync-baseline',
    entry: 'bench/load/sync-baseline.ts',
    logDir: logRoot,
    env: { PORT: '0', SIM_URL: ctx.sim.url, API_KEY: a!.apiKey, API_SECRET: a!.apiSecret },
  });
  try {
    await waitUntil('baseline to listen', () => /listening \d+/.test(proc.output()), {
      timeoutMs: 30_000,
      process: proc,
    });
    const url = `http://127.0.0.1:${/listening (\d+)/.exec(proc.output())![1]}/api/v1/webhook/tradingview`;
    const ms: number[] = [];
    for (let i = 0; i < ROUNDS * 2; i++) {
      const id = `base${i}${randomBytes(4).toString('hex')}`;
      const t0 = Date.now();
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          symbol: 'BTCUSDT',
          action: i % 2 ? 'close_long' : 'long',
          quantity: 0.01,
          alert_id: id,
        }),
      });
      ms.push((await arrivals(ctx, 'binance', a!.apiKey)).get(id)! - t0);
    }
    return {
      name: 'synchronous baseline (Express + ccxt, one market order per alert) → order',
      ms: summarise(ms),
    };
  } finally {
    await proc.stop();
  }
}

interface Served {
  binance_429: number;
  binance_418: number;
  binance_order_429: number;
  okx_429: number;
}

async function served(ctx: Ctx): Promise<Served> {
  return (await ctx.sim.control<{ served: Served }>('GET', '/_sim/rate-limits')).served;
}

const limited = (s: Served, exchange: Venue) =>
  exchange === 'okx' ? s.okx_429 : s.binance_429 + s.binance_418 + s.binance_order_429;

interface Burst {
  exchange: Venue;
  alerts: number;
  executed: number;
  /** Wall time from the first to the last alert leaving the client. */
  sendSpanMs: number;
  /** Last alert sent → last entry at the simulator. */
  lastAlertToLastEntryMs: number;
  /** Last alert sent → last stop-loss / take-profit at the simulator. */
  lastAlertToLastProtectionMs: number;
  entry: Summary;
  protection: Summary;
  /** 429 + 418 answers the simulator served during the burst (Binance: weight, orders and bans; OKX: 50011). */
  rateLimited: number;
  statuses: Record<string, number>;
  /** Where each entry's time went (as for the rounds): what limits the burst. */
  stages: StageSeries;
}

/**
 * One `long` (10 % sizing, ATR SL/TP) for each of the accounts, spread evenly over one second; the accounts
 * were registered before the workers started, so the workers' pre-warm prepared them (the state after a
 * restart, or after an account's first alert).
 */
async function burst(ctx: Ctx, exchange: Venue, accounts: BenchAccount[]): Promise<Burst> {
  const before = await served(ctx);
  const spacing = 1000 / accounts.length;
  const start = Date.now() + 20;
  const sent = await Promise.all(
    accounts.map(async (a, i) => {
      await sleep(Math.max(0, start + i * spacing - Date.now()));
      const t0 = Date.now();
      const res = await fetch(ctx.ingress.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          account_id: a.accountId,
          exchange,
          symbol: 'BTCUSDT',
          secret: ctx.secret,
          alert_id: `burst-${randomBytes(6).toString('hex')}`,
          action: 'long',
        }),
      });
      const json = (await res.json()) as { signal_id?: string };
      // An alert the ingress refused (TradingView does not retry) stays in the figures as a missing order.
      return { t0, signalId: json.signal_id ?? '', answer: res.status };
    }),
  );
  const ids = sent.map((s) => s.signalId).filter(Boolean);
  let rows: Array<{ id: string; status: string }> = [];
  for (const end = Date.now() + 300_000; Date.now() < end; await sleep(50)) {
    rows = (
      await ctx.db.query<{ id: string; status: string }>(
        'SELECT id, status FROM signals WHERE id = ANY($1)',
        [ids],
      )
    ).rows;
    if (rows.length === ids.length && rows.every((r) => FINAL.includes(r.status))) break;
  }
  const after = await served(ctx);
  const { orders } = await ctx.sim.control<{
    orders: Array<{ client_id: string | null; arrival_ms: number | null }>;
  }>('GET', `/_sim/orders?exchange=${exchange}`);
  const arrival = new Map(
    orders.flatMap((o) => (o.client_id && o.arrival_ms ? [[o.client_id, o.arrival_ms]] : [])),
  );
  const entryAt = sent.map((s) => arrival.get(clientOrderId(s.signalId, 'entry')) ?? Number.NaN);
  for (const id of await attachedToEntry(ctx, ids)) attachedArrival(arrival, id);
  const protAt = sent.map((s) =>
    Math.max(
      arrival.get(clientOrderId(s.signalId, 'stop_loss')) ?? Number.NaN,
      arrival.get(clientOrderId(s.signalId, 'take_profit')) ?? Number.NaN,
    ),
  );
  const lastAlert = Math.max(...sent.map((s) => s.t0));
  const statuses: Record<string, number> = {};
  for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  for (const s of sent)
    if (!s.signalId) statuses[`refused ${s.answer}`] = (statuses[`refused ${s.answer}`] ?? 0) + 1;
  const stageList: EntryStages[] = [];
  for (const x of sent) {
    if (!x.signalId) continue;
    stageList.push(await entryStages(ctx, { t0: x.t0, signalId: x.signalId, status: '', arrival }));
  }
  // A missing order makes its figure NaN: the burst then reads "missed", never a flattering maximum.
  return {
    stages: stageSeries(`${exchange}: burst of ${accounts.length}`, stageList),
    exchange,
    alerts: sent.length,
    executed: statuses['executed'] ?? 0,
    sendSpanMs: lastAlert - Math.min(...sent.map((s) => s.t0)),
    lastAlertToLastEntryMs: Math.max(...entryAt) - lastAlert,
    lastAlertToLastProtectionMs: Math.max(...protAt) - lastAlert,
    entry: summarise(entryAt.map((t, i) => t - sent[i]!.t0)),
    protection: summarise(protAt.map((t, i) => t - sent[i]!.t0)),
    rateLimited: limited(after, exchange) - limited(before, exchange),
    statuses,
  };
}

interface Cpu {
  exchange: Venue;
  alerts: number;
  /** Wall time the alerts were measured over (and the idle reference with them). */
  wallMs: number;
  /** CPU ms per alert, idle subtracted, per service. */
  perAlertMs: Record<string, number>;
  /** ingress + risk + workers (the simulator not counted). */
  servicesPerAlertMs: number;
  simulatorPerAlertMs: number;
  idleMsPerSecond: Record<string, number>;
}

/**
 * CPU per alert for `long` with 10 % sizing and ATR SL/TP: /proc utime+stime of every process, read around
 * each alert (until its SL and TP are at the simulator, plus SETTLE_MS for what the services do after), minus
 * what the same processes use with no alerts in a window of the same length after each alert's close has
 * settled (IDLE_GAP_MS). The close of each position is outside the measured windows.
 */
const SETTLE_MS = 150;
const IDLE_GAP_MS = 500;
async function cpuRounds(
  ctx: Ctx,
  exchange: Venue,
  services: Array<{ name: string; pid: number }>,
  n: number,
): Promise<Cpu> {
  const [a] = await simAccounts(ctx, exchange, 'cpu', 1);
  await seedAccounts(ctxEnv, exchange, [a!]);
  // Its first alert (building the account's client) is not what is measured.
  await alert(ctx, exchange, a!, { action: 'long' });
  await alert(ctx, exchange, a!, { action: 'close_long' });
  const used: Record<string, number> = {};
  const idle: Record<string, number> = {};
  let wallMs = 0;
  for (let i = 0; i < n; i++) {
    await sleep(SETTLE_MS);
    const t = Date.now();
    const meter = cpuMeter(services);
    await alert(ctx, exchange, a!, { action: 'long' });
    await sleep(SETTLE_MS);
    for (const [k, v] of Object.entries(meter())) used[k] = (used[k] ?? 0) + v;
    const w = Date.now() - t;
    wallMs += w;
    await alert(ctx, exchange, a!, { action: 'close_long' });
    // The idle reference right after, as long as this alert's window, once the close has settled.
    await sleep(IDLE_GAP_MS);
    const idleMeter = cpuMeter(services);
    await sleep(w);
    for (const [k, v] of Object.entries(idleMeter())) idle[k] = (idle[k] ?? 0) + v;
  }
  const perAlertMs: Record<string, number> = {};
  const idleMsPerSecond: Record<string, number> = {};
  for (const k of Object.keys(used)) {
    // Not clamped at zero: tick rounding (10 ms) is unbiased only if negative remainders are kept.
    perAlertMs[k] = round((used[k]! - (idle[k] ?? 0)) / n, 2);
    idleMsPerSecond[k] = round(((idle[k] ?? 0) * 1000) / wallMs, 1);
  }
  const servicesPerAlertMs = round(
    Object.entries(perAlertMs)
      .filter(([k]) => k !== 'exchange-sim')
      .reduce((t, [, v]) => t + v, 0),
    2,
  );
  return {
    exchange,
    alerts: n,
    wallMs,
    perAlertMs,
    servicesPerAlertMs,
    simulatorPerAlertMs: perAlertMs['exchange-sim'] ?? Number.NaN,
    idleMsPerSecond,
  };
}

interface Target {
  target: string;
  measured: string;
  met: boolean;
}

function targets(series: Series[], bursts: Burst[], cpus: Cpu[]): Target[] {
  const find = (name: string) => series.find((s) => s.name === name)!;
  const rt = (ms: number) => `${round(ms)} ms = ${round(ms / RTT, 1)} RT`;
  const out: Target[] = [];
  for (const v of VENUES) {
    const entries = [
      find(`${v}: long, 10 % sizing, ATR SL/TP → entry`),
      find(`${v}: long, given quantity and SL/TP → entry`),
    ];
    const prots = [
      find(`${v}: long, 10 % sizing, ATR SL/TP → SL and TP both`),
      find(`${v}: long, given quantity and SL/TP → SL and TP both`),
    ];
    const worst = (list: Series[], k: 'p50' | 'p99') => Math.max(...list.map((s) => s.ms[k]));
    out.push(
      {
        target: `${v}: entry p50 ≤ 1 RT (worst of the two entry rows)`,
        measured: rt(worst(entries, 'p50')),
        met: worst(entries, 'p50') <= RTT,
      },
      {
        target: `${v}: entry p99 ≤ 2 RT`,
        measured: rt(worst(entries, 'p99')),
        met: worst(entries, 'p99') <= 2 * RTT,
      },
      {
        target: `${v}: SL and TP p50 ≤ 3 RT`,
        measured: rt(worst(prots, 'p50')),
        met: worst(prots, 'p50') <= 3 * RTT,
      },
    );
    const close = find(`${v}: close_long → close order`).ms.p50;
    out.push({ target: `${v}: close p50 ≤ 1 RT`, measured: rt(close), met: close <= RTT });
  }
  const base = series.find((s) => s.name.startsWith('synchronous baseline'))!.ms.p50;
  for (const v of VENUES) {
    const entry = find(`${v}: long, given quantity and SL/TP → entry`).ms.p50;
    out.push({
      target: `${v}: entry ≥ 10× faster than the synchronous baseline (p50)`,
      measured: `${round(base / entry, 2)}× (${round(entry)} vs ${round(base)} ms)`,
      met: base / entry >= 10,
    });
  }
  for (const b of bursts) {
    out.push({
      target: `${b.exchange}: burst of ${b.alerts} — every entry within 1 s of the last alert`,
      measured: `${round(b.lastAlertToLastEntryMs)} ms (${b.executed}/${b.alerts} executed)`,
      met: b.lastAlertToLastEntryMs <= 1000 && b.executed === b.alerts,
    });
    out.push({
      target: `${b.exchange}: burst — no 429/418 from the exchange`,
      measured: String(b.rateLimited),
      met: b.rateLimited === 0,
    });
  }
  for (const c of cpus) {
    out.push({
      target: `${c.exchange}: ≤ 6 ms CPU per alert, all services (ATR SL/TP entry)`,
      measured: `${c.servicesPerAlertMs} ms`,
      met: c.servicesPerAlertMs <= 6,
    });
  }
  return out;
}

let ctxEnv: Awaited<ReturnType<typeof createBenchEnvironment>>;

async function main(): Promise<void> {
  const loadAtStart = os.loadavg()[0]!;
  ctxEnv = await createBenchEnvironment();
  // A moving market, as BTC's is: OKX pushes a ticker only when it changes (at most every 100 ms, per its
  // WebSocket docs), so with fixed prices the worker's price feed would go stale and read REST instead.
  const sim = await startSimulatorProcess({ walkMs: WALK_MS });
  const services: ManagedProcess[] = [];
  const db = new pg.Client({ connectionString: ctxEnv.databaseUrl });
  await db.connect();
  try {
    // The exchanges' real request limits (429/418 counted by the simulator), as a user meets them.
    await sim.control('POST', '/_sim/rate-limits', { real: true });
    const ingress = await startIngress(ctxEnv);
    services.push(ingress.process, await startRisk(ctxEnv));
    const ctx: Ctx = { sim, ingress, db, secret: ctxEnv.webhookSecret };
    // The rounds' and the burst's accounts exist before the workers start, so their pre-warm prepares them
    // (steady state); the first alert of a just registered account is measured on its own.
    const accountsOfRounds = new Map<Venue, [BenchAccount, BenchAccount]>();
    const burstAccounts = new Map<Venue, BenchAccount[]>();
    for (const exchange of VENUES) {
      const accounts = await simAccounts(ctx, exchange, 'b', BURST);
      await seedAccounts(ctxEnv, exchange, accounts);
      burstAccounts.set(exchange, accounts);
      accountsOfRounds.set(exchange, await roundAccounts(ctx, exchange));
    }
    for (const exchange of VENUES) {
      const w = startWorkerProcess(ctxEnv, { exchange, simulatorUrl: sim.url, name: `worker-${exchange}` });
      services.push(w);
      await waitForQueueWorkers(ctxEnv, `orders-${exchange}`, 1, w);
    }
    // Steady state: every account prepared and its streams started (Binance: the pre-warm's position-mode reads
    // weigh 30 each, so with a hundred accounts this takes about two minutes of the IP's budget; printed below).
    const steadyAfter: Record<string, number> = {};
    const t0 = Date.now();
    await Promise.all(
      services.slice(2).map(async (w) => {
        await waitUntil(`${w.name} streams`, () => /account streams started/.test(w.output()), {
          timeoutMs: 300_000,
          process: w,
        });
        steadyAfter[w.name] = Date.now() - t0;
      }),
    );
    await sim.control('POST', '/_sim/latency', { ms: RTT });
    log(
      `rounds ${ROUNDS}, burst ${BURST}, simulator round trip ${RTT} ms, ccxt throttle on (production default), real rate limits`,
    );
    const series: Series[] = [];
    const stages: StageSeries[] = [];
    const keyChecks: Record<string, Record<string, number>> = {};
    for (const exchange of VENUES) {
      const r = await venueRounds(ctx, exchange, accountsOfRounds.get(exchange)!);
      series.push(...r.series);
      stages.push(...r.stages);
      keyChecks[exchange] = r.keyChecks;
    }
    const meterTargets = [...services, sim.process].map((p) => ({ name: p.name, pid: p.pid }));
    const cpus: Cpu[] = [];
    for (const exchange of VENUES) {
      log(`${exchange}: CPU per alert over ${ROUNDS} alerts`);
      cpus.push(await cpuRounds(ctx, exchange, meterTargets, ROUNDS));
    }
    const bursts: Burst[] = [];
    for (const exchange of VENUES) {
      log(`${exchange}: burst of ${BURST}`);
      bursts.push(await burst(ctx, exchange, burstAccounts.get(exchange)!));
      await sleep(1_000);
    }
    const baseline = await baselineRounds(ctx);
    series.push(baseline);
    const totalServed = await served(ctx);
    const goals = targets(series, bursts, cpus);
    const serviceNames = Object.keys(cpus[0]!.perAlertMs);
    const lines = [
      `Settings: production defaults (EXCHANGE_RATE_LIMIT on — the ccxt throttle and the request budget —, pre-warm on), the simulator enforcing the exchanges' real rate limits, simulator round trip (RT) ${RTT} ms, prices walking every ${WALK_MS} ms, one alert at a time ${GAP_MS} ms after the previous one finished (WIRE_GAP_MS), ${ROUNDS} rounds; burst of ${BURST} accounts per venue. Reproduce: \`WIRE_ROUNDS=${ROUNDS} WIRE_RTT_MS=${RTT} WIRE_BURST=${BURST} WIRE_GAP_MS=${GAP_MS} pnpm bench:wire\`.`,
      '',
      `Steady state before the first measured alert: from the workers' start to every account prepared and its streams started (${BURST + 2} accounts per venue, registered before): ${Object.entries(
        steadyAfter,
      )
        .map(([name, ms]) => `${name} ${round(ms / 1000, 1)} s`)
        .join(', ')}. A just registered account does not wait for this (last row of the first table).`,
      '',
      `Machine: ${os.cpus().length} cores; 1-minute load average ${round(loadAtStart, 2)} at start, ${round(os.loadavg()[0]!, 2)} at the end — the services, simulator, PostgreSQL, Redis and this client share the cores, and a load above the core count means other work ran too (latency figures then pessimistic; CPU time is less affected).`,
      '',
      '## Targets',
      '',
      '| target | measured | met |',
      '|---|---|---|',
      ...goals.map((g) => `| ${g.target} | ${g.measured} | ${g.met ? 'met' : '**missed**'} |`),
      '',
      `${goals.filter((g) => g.met).length} of ${goals.length} met.`,
      '',
      '## One alert at a time',
      '',
      'The two accounts of each venue (one with a given quantity, one sized at 10 %) were registered before the workers started, so the pre-warm prepared them and started their streams, as for a user whose workers restart; a just registered account is the separate last row.',
      '',
      '| alert → at the exchange | n | p50 ms | p99 ms | p50 in round trips |',
      '|---|---|---|---|---|',
      ...series.map(
        (s) =>
          `| ${s.name} | ${s.ms.n} | ${round(s.ms.p50)} | ${round(s.ms.p99)} | ${round(s.ms.p50 / RTT, 1)} |`,
      ),
      '',
      `Just registered accounts: registered through the admin API (the key check runs on a worker, which then prepares the account and starts its streams in the background); the first alert ${GAP_MS} ms after the answer. Key checks answered: ${Object.entries(
        keyChecks,
      )
        .map(
          ([v, c]) =>
            `${v} ${Object.entries(c)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')}`,
        )
        .join('; ')} ("pending": no worker answered within ACCOUNT_REQUEST_TIMEOUT_MS).`,
      '',
      `${VENUES[0]} entry with given quantity vs the synchronous baseline, p50: ${round(baseline.ms.p50 / series[2]!.ms.p50, 2)}× (above 1 = tradehook faster).`,
      '',
      'OKX entries carry their SL and TP (attachAlgoOrds, OKX_ATTACHED_PROTECTION on by default): the protection reaches the exchange with the entry request, and is counted so.',
      '',
      '## Where the entry time goes',
      '',
      `From the pipeline's own timestamps (signals.received_at, risk_decided_at, exec_started_at, orders.sent_at; millisecond resolution) and the simulator's arrival time; p50 (p99) in ms per stage. The simulator's round trip delays its answers, so the last stage is the one-way trip of the request, not a round trip. "state" says where each decision read the positions and the price.`,
      '',
      `| entry | ${STAGE_NAMES.join(' | ')} | state read from |`,
      `|---|${STAGE_NAMES.map(() => '---|').join('')}---|`,
      ...stages.map(stageRow),
      '',
      `## Burst: one alert each for ${BURST} accounts within one second`,
      '',
      'Each alert a `long` with 10 % sizing and ATR SL/TP for its own account, sent evenly over one second without waiting for the previous answer; the accounts were registered before the workers started (pre-warmed). Latency per alert is from that alert leaving the client to its entry (or its later protective order) at the simulator.',
      '',
      '| venue | alerts | sent over ms | last alert → last entry ms | last alert → last SL/TP ms | entry p50 ms | entry p99 ms | SL/TP p50 ms | SL/TP p99 ms | 429/418 served | statuses |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...bursts.map(
        (b) =>
          `| ${b.exchange} | ${b.alerts} | ${round(b.sendSpanMs)} | ${round(b.lastAlertToLastEntryMs)} | ${round(b.lastAlertToLastProtectionMs)} | ${round(b.entry.p50)} | ${round(b.entry.p99)} | ${round(b.protection.p50)} | ${round(b.protection.p99)} | ${b.rateLimited} | ${Object.entries(
            b.statuses,
          )
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')} |`,
      ),
      '',
      "Where the burst entries' time went, p50 (p99) ms per stage, as in the table above:",
      '',
      `| burst | ${STAGE_NAMES.join(' | ')} | state read from |`,
      `|---|${STAGE_NAMES.map(() => '---|').join('')}---|`,
      ...bursts.map((b) => stageRow(b.stages)),
      '',
      `429/418 answers over the whole run (pre-warm, rounds, bursts, baseline): Binance 429 ${totalServed.binance_429}, 418 ${totalServed.binance_418}, order-count 429 ${totalServed.binance_order_429}; OKX 429 ${totalServed.okx_429}.`,
      '',
      '## CPU per alert',
      '',
      `\`long\` with 10 % sizing and ATR SL/TP, ${ROUNDS} alerts per venue one at a time: utime + stime from /proc/<pid>/stat of each process, read around each alert (until its SL and TP are at the simulator, plus ${SETTLE_MS} ms), minus the same processes' CPU with no alerts in a window of the same length after each alert (once its close has settled, ${IDLE_GAP_MS} ms); the close of each position is outside the windows. /proc counts in 10 ms ticks (remainders kept, so a service may show a small negative figure). "services" = ingress + risk + both workers; the simulator is shown but not counted.`,
      '',
      `| venue | alerts | wall ms | ${serviceNames.join(' ms | ')} ms | services ms per alert |`,
      `|---|---|---|${serviceNames.map(() => '---|').join('')}---|`,
      ...cpus.map(
        (c) =>
          `| ${c.exchange} | ${c.alerts} | ${c.wallMs} | ${serviceNames.map((k) => c.perAlertMs[k]).join(' | ')} | **${c.servicesPerAlertMs}** |`,
      ),
      '',
      `Idle CPU subtracted (ms per second of wall time): ${cpus
        .map(
          (c) =>
            `${c.exchange} run — ${Object.entries(c.idleMsPerSecond)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`,
        )
        .join('; ')}.`,
    ];
    console.log(lines.join('\n'));
    const report = [
      '# Wire latency as the user runs it',
      '',
      `Generated by \`pnpm bench:wire\` (bench/wire.ts) on ${new Date().toISOString()}; raw figures in \`${path.relative(REPO_ROOT, OUT)}\`. Each latency is from the alert leaving the client to the order's arrival at the simulator (its own clock, same host). \`pnpm bench\` (BENCHMARKS.md) points here; \`BENCH_WIRE=1 pnpm bench\` runs this too.`,
      '',
      ...lines,
      '',
    ];
    writeFileSync(MD, report.join('\n'));
    writeFileSync(
      OUT,
      `${JSON.stringify({ rttMs: RTT, rounds: ROUNDS, burstSize: BURST, steadyAfterMs: steadyAfter, targets: goals, series, stages, keyChecks, bursts, cpu: cpus, served: totalServed }, null, 2)}\n`,
    );
  } catch (err) {
    // What each service said last: a failed run must say why, not only that it failed.
    for (const s of services) console.error(`--- ${s.name}, last output:\n${s.output().slice(-6000)}`);
    throw err;
  } finally {
    await sim.control('POST', '/_sim/latency', { ms: 0 }).catch(() => undefined);
    await Promise.all(services.map((s) => s.stop()));
    await sim.process.stop();
    await db.end();
    await ctxEnv.dispose();
  }
}

await main();
