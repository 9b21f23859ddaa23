import { ConfigError } from '@tradehook/config';
import { serveProcessMetrics } from '@tradehook/metrics';
import { loadWorkerConfig } from './config.ts';
import { createWorkerService } from './service.ts';

/** `EXCHANGE=binance|okx tsx services/worker/src/main.ts` — one process per exchange, any number of replicas. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const service = createWorkerService({ config });
  let metrics: Awaited<ReturnType<typeof serveProcessMetrics>> | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`worker: ${signal} received, finishing in-flight orders`);
    Promise.all([service.stop(), metrics?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await service.start();
  if (config.METRICS_PORT > 0) metrics = await serveProcessMetrics(`worker-${config.EXCHANGE}`, config);
}

main().catch((err: unknown) => {
  console.error('worker failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
