import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
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
import { startProcess, type ManagedProcess } from './lib/processes.ts';
import { REPO_ROOT, waitUntil } from '../scripts/lib/supervisor.ts';
import { round, summarise, type Summary } from './lib/stats.ts';

/**
 * `pnpm bench:wire`: what a trader waits for, as a new user runs it — production defaults (ccxt throttle on,
 * account pre-warm on), the simulator answering every exchange request after WIRE_RTT_MS (default 25 ms, a
 * good host's round trip), one alert at a time. Measures alert → entry / SL and TP / close at the exchange
 * (the simulator's arrival time of each order, by client id), the first alert of a fresh account, and in the
 * same run a synchronous baseline (bench/load/sync-baseline.ts) against the same simulator.
 * Env: WIRE_ROUNDS (default 20), WIRE_RTT_MS (25), WIRE_OUT (bench/wire-results.json).
 */
const RTT = Number(process.env.WIRE_RTT_MS ?? 25);
const ROUNDS = Number(process.env.WIRE_ROUNDS ?? 20);
const OUT = path.resolve(REPO_ROOT, process.env.WIRE_OUT ?? 'bench/wire-results.json');
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

/** client id → arrival at the simulator (epoch ms). */
async function arrivals(ctx: Ctx, exchange: Venue, apiKey: string): Promise<Map<string, number>> {
  const { orders } = await ctx.sim.control<{
    orders: Array<{ client_id: string | null; arrival_ms: number | null }>;
  }>('GET', `/_sim/orders?exchange=${exchange}&api_key=${encodeURIComponent(apiKey)}`);
  return new Map(orders.flatMap((o) => (o.client_id && o.arrival_ms ? [[o.client_id, o.arrival_ms]] : [])));
}

async function finalStatus(ctx: Ctx, signalId: string): Promise<string> {
  for (const end = Date.now() + 20_000; Date.now() < end; await sleep(5)) {
    const { rows } = await ctx.db.query<{ status: string }>('SELECT status FROM signals WHERE id = $1', [
      signalId,
    ]);
    const s = rows[0]?.status;
    if (s && ['executed', 'failed', 'rejected', 'ignored'].includes(s)) return s;
  }
  throw new Error(`signal ${signalId} not final after 20 s`);
}

interface Sent {
  t0: number;
  signalId: string;
  status: string;
  arrival: Map<string, number>;
}

async function alert(
  ctx: Ctx,
  exchange: Venue,
  a: BenchAccount,
  fields: Record<string, unknown>,
): Promise<Sent> {
  const body = {
    account_id: a.accountId,
    exchange,
    symbol: 'BTCUSDT',
    secret: ctx.secret,
    alert_id: `wire-${randomBytes(6).toString('hex')}`,
    ...fields,
  };
  const t0 = Date.now();
  const res = await fetch(ctx.ingress.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { signal_id?: string; error?: string };
  if (!json.signal_id) throw new Error(`webhook ${res.status}: ${JSON.stringify(json)}`);
  const status = await finalStatus(ctx, json.signal_id);
  return { t0, signalId: json.signal_id, status, arrival: await arrivals(ctx, exchange, a.apiKey) };
}

const at = (s: Sent, leg: 'entry' | 'exit' | 'stop_loss' | 'take_profit') =>
  (s.arrival.get(clientOrderId(s.signalId, leg)) ?? Number.NaN) - s.t0;

interface Series {
  name: string;
  ms: Summary;
}

async function venueRounds(ctx: Ctx, exchange: Venue): Promise<Series[]> {
  const [given, sized] = await simAccounts(ctx, exchange, 'w', 2);
  await seedAccounts(ctxEnv, exchange, [given!, sized!]);
  await sleep(1_500); // the workers' pre-warm of new accounts (registration → ready) is not what is measured here
  const entryGiven: number[] = [];
  const protGiven: number[] = [];
  const entrySized: number[] = [];
  const protSized: number[] = [];
  const close: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const price = (await ctx.sim.control<{ prices: Record<string, number> }>('GET', '/_sim/prices')).prices[
      'BTCUSDT'
    ]!;
    const g = await alert(ctx, exchange, given!, {
      action: 'long',
      quantity: 0.01,
      price,
      stop_loss: Math.round(price * 0.97),
      take_profit: Math.round(price * 1.03),
    });
    entryGiven.push(at(g, 'entry'));
    protGiven.push(Math.max(at(g, 'stop_loss'), at(g, 'take_profit')));
    close.push(at(await alert(ctx, exchange, given!, { action: 'close_long' }), 'exit'));
    const s = await alert(ctx, exchange, sized!, { action: 'long' }); // 10 % sizing, ATR SL/TP
    entrySized.push(at(s, 'entry'));
    protSized.push(Math.max(at(s, 'stop_loss'), at(s, 'take_profit')));
    await alert(ctx, exchange, sized!, { action: 'close_long' });
  }
  const fresh: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [a] = await simAccounts(ctx, exchange, `f${i}`, 1);
    await seedAccounts(ctxEnv, exchange, [a!]);
    fresh.push(at(await alert(ctx, exchange, a!, { action: 'long', quantity: 0.01 }), 'entry'));
    await alert(ctx, exchange, a!, { action: 'close_long' });
  }
  return [
    { name: `${exchange}: long, 10 % sizing, ATR SL/TP → entry`, ms: summarise(entrySized) },
    { name: `${exchange}: long, 10 % sizing, ATR SL/TP → SL and TP both`, ms: summarise(protSized) },
    { name: `${exchange}: long, given quantity and SL/TP → entry`, ms: summarise(entryGiven) },
    { name: `${exchange}: long, given quantity and SL/TP → SL and TP both`, ms: summarise(protGiven) },
    { name: `${exchange}: close_long → close order`, ms: summarise(close) },
    { name: `${exchange}: first alert of a fresh account → entry`, ms: summarise(fresh) },
  ];
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

let ctxEnv: Awaited<ReturnType<typeof createBenchEnvironment>>;

async function main(): Promise<void> {
  ctxEnv = await createBenchEnvironment();
  const sim = await startSimulatorProcess();
  const services: ManagedProcess[] = [];
  const db = new pg.Client({ connectionString: ctxEnv.databaseUrl });
  await db.connect();
  try {
    const ingress = await startIngress(ctxEnv);
    services.push(ingress.process, await startRisk(ctxEnv));
    for (const exchange of ['binance', 'okx'] as const) {
      const w = startWorkerProcess(ctxEnv, { exchange, simulatorUrl: sim.url, name: `worker-${exchange}` });
      services.push(w);
      await waitForQueueWorkers(ctxEnv, `orders-${exchange}`, 1, w);
    }
    await sim.control('POST', '/_sim/latency', { ms: RTT });
    const ctx: Ctx = { sim, ingress, db, secret: ctxEnv.webhookSecret };
    log(`rounds ${ROUNDS}, simulator round trip ${RTT} ms, ccxt throttle on (production default)`);
    const series: Series[] = [];
    for (const exchange of ['binance', 'okx'] as const) series.push(...(await venueRounds(ctx, exchange)));
    const baseline = await baselineRounds(ctx);
    series.push(baseline);
    const lines = [
      `Settings: production defaults (EXCHANGE_RATE_LIMIT on, pre-warm on), simulator round trip ${RTT} ms, one alert at a time, ${ROUNDS} rounds. Command: \`WIRE_ROUNDS=${ROUNDS} WIRE_RTT_MS=${RTT} pnpm bench:wire\`.`,
      '',
      '| alert → at the exchange | n | p50 ms | p99 ms | p50 in round trips |',
      '|---|---|---|---|---|',
      ...series.map(
        (s) =>
          `| ${s.name} | ${s.ms.n} | ${round(s.ms.p50)} | ${round(s.ms.p99)} | ${round(s.ms.p50 / RTT, 1)} |`,
      ),
      '',
      `Binance entry with given quantity vs the synchronous baseline, p50: ${round(baseline.ms.p50 / series[2]!.ms.p50, 2)}× (above 1 = tradehook faster).`,
    ];
    console.log(lines.join('\n'));
    const report = [
      '# Wire latency as the user runs it',
      '',
      `Generated by \`pnpm bench:wire\` (bench/wire.ts) on ${new Date().toISOString()}; raw figures in \`${path.relative(REPO_ROOT, OUT)}\`. Each figure is from the alert leaving the client to the order's arrival at the simulator (its own clock, same host).`,
      '',
      ...lines,
      '',
    ];
    writeFileSync(path.resolve(REPO_ROOT, 'bench/wire.md'), report.join('\n'));
    writeFileSync(OUT, `${JSON.stringify({ rttMs: RTT, rounds: ROUNDS, series }, null, 2)}\n`);
  } finally {
    await sim.control('POST', '/_sim/latency', { ms: 0 }).catch(() => undefined);
    await Promise.all(services.map((s) => s.stop()));
    await sim.process.stop();
    await db.end();
    await ctxEnv.dispose();
  }
}

await main();
