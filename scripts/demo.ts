// `pnpm demo`: the keyless local demo. Starts the exchange simulator, then every service (as `pnpm start`
// does) with the workers pointed at the simulator, registers the guide's demo accounts through the admin
// API, and prints the guide's curl. Uses its own database (tradehook_demo), queue prefix and secrets file,
// and ports (ingress 8011, simulator 8099; checked free before anything starts), so it never touches a real
// local installation and runs beside one. Ctrl-C stops everything.
import { join, relative } from 'node:path';
import { startSimulator } from '../packages/exchange-sim/src/index.ts';
import { demoInstructions, setupDemo } from '../deploy/demo-setup.ts';
import { readEnvFile } from '../deploy/secrets.ts';
import { assertPortsFree } from './ports.ts';
import { REPO_ROOT, startAll } from './start-all.ts';

const DEMO_BTC_START_PRICE = 50_000;

/** Not a real installation's 8001: the demo and a real local install run side by side. */
const DEMO_INGRESS_PORT = 8011;
const DEMO_SIM_PORT = 8099;

async function main(): Promise<void> {
  const env = process.env;
  const ingressPort = Number(env.DEMO_PORT || DEMO_INGRESS_PORT);
  const simPort = Number(env.SIM_PORT || DEMO_SIM_PORT);
  await assertPortsFree([
    { purpose: 'the demo exchange simulator (SIM_PORT)', host: '127.0.0.1', port: simPort },
    { purpose: 'the demo ingress (DEMO_PORT)', host: '127.0.0.1', port: ingressPort },
  ]);
  const sim = await startSimulator({
    port: simPort,
    host: '127.0.0.1',
    walkIntervalMs: Number(env.SIM_WALK_MS ?? 2_000),
  });
  // Start where the guide's example alert makes sense (stop_loss 48000 / take_profit 52000); the walk goes on.
  sim.engine.setPrice('BTCUSDT', DEMO_BTC_START_PRICE);
  console.log(`[demo] exchange simulator at ${sim.url}`);
  let simClosed: Promise<void> | undefined;
  const closeSim = () => (simClosed ??= sim.close());

  const secretsFile = join(REPO_ROOT, '.data/demo-secrets.env');
  let stack: Awaited<ReturnType<typeof startAll>>;
  try {
    stack = await startAll({
      secretsFile,
      env: {
        ...env,
        DATABASE_URL: env.DEMO_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tradehook_demo',
        QUEUE_PREFIX: env.DEMO_QUEUE_PREFIX || '{tradehook-demo}',
        // A real installation's PORT/HOST/METRICS_PORT in the shell would collide with it: the demo has its own.
        PORT: String(ingressPort),
        HOST: '127.0.0.1',
        METRICS_PORT: undefined,
        BINANCE_API_URL: sim.url,
        OKX_API_URL: sim.url,
        // The demo's own secrets file decides; a real installation's values in the shell do not leak in.
        WEBHOOK_SECRET: undefined,
        ADMIN_TOKEN: undefined,
        CREDENTIALS_PUBLIC_KEY: undefined,
        CREDENTIALS_PRIVATE_KEY: undefined,
      },
    });
  } catch (err) {
    await closeSim();
    throw err;
  }
  const shutdown = async (reason: string) => {
    const code = await stack.stop(reason);
    await closeSim();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  void stack.exited.then(async (code) => {
    await closeSim();
    process.exit(code);
  });

  try {
    await stack.ready;
    await setupDemo({
      ingressUrl: stack.ingressUrl,
      simUrl: sim.url,
      adminToken: readEnvFile(secretsFile).ADMIN_TOKEN ?? '',
      binanceApiUrl: sim.url,
      okxApiUrl: sim.url,
      log: (line) => console.log(`[demo] ${line}`),
    });
  } catch (err) {
    console.error(`[demo] setup failed: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown('demo setup failed');
    return;
  }
  const shown = relative(process.cwd(), secretsFile) || secretsFile;
  console.log(
    demoInstructions(stack.ingressUrl, `eval "$(grep -E '^(WEBHOOK_SECRET|ADMIN_TOKEN)=' ${shown})"`),
  );
}

main().catch((err: unknown) => {
  console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
