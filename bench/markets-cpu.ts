/**
 * CPU of bringing up many accounts of one venue in one process (issue 12.4): construct N adapters per venue
 * and load their markets against the in-process simulator; prints process.cpuUsage (user+system, ms) per phase.
 * `tsx bench/markets-cpu.ts [N]`; ADAPTER_MODULE picks another adapter module (to compare with an old one).
 */
import { startSimulator } from '../packages/exchange-sim/src/index.ts';

const N = Number(process.argv[2] ?? 50);
const mod = (await import(
  process.env.ADAPTER_MODULE ?? '../packages/exchange/src/adapter.ts'
)) as typeof import('../packages/exchange/src/adapter.ts');

const sim = await startSimulator();
const cpuMs = (u: NodeJS.CpuUsage) => Math.round((u.user + u.system) / 1000);
const out: Record<string, number> = {};
for (const exchange of ['binance', 'okx'] as const) {
  const create = (i: number) =>
    mod.createExchangeAdapter({
      exchange,
      credentials: { apiKey: `k${i}`, apiSecret: `s${i}`, passphrase: 'p' },
      testnet: false,
      apiUrl: sim.url,
      enableRateLimit: false,
    });
  let t = process.cpuUsage();
  const adapters = [create(0)];
  out[`${exchange} first construct`] = cpuMs(process.cpuUsage(t));
  t = process.cpuUsage();
  for (let i = 1; i < N; i++) adapters.push(create(i));
  out[`${exchange} other ${N - 1} construct`] = cpuMs(process.cpuUsage(t));
  t = process.cpuUsage();
  await adapters[0]!.loadMarkets();
  out[`${exchange} first loadMarkets`] = cpuMs(process.cpuUsage(t));
  t = process.cpuUsage();
  for (const a of adapters.slice(1)) await a.loadMarkets();
  out[`${exchange} other ${N - 1} loadMarkets`] = cpuMs(process.cpuUsage(t));
}
await sim.close();
console.log(JSON.stringify(out));
