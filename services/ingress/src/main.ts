import type { Server } from 'node:http';
import { startMetricsServer } from '@tradehook/metrics';
import { createApp } from './app.ts';
import { loadIngressConfig } from './config.ts';
import { buildIngressDeps } from './deps.ts';

/** Composition root: config → deps → HTTP server; SIGTERM/SIGINT drain and close with a deadline. */
async function main(): Promise<void> {
  const config = loadIngressConfig();
  const deps = await buildIngressDeps(config);
  const app = createApp(deps);
  const server: Server = app.listen(config.PORT, config.HOST, () => {
    deps.logger.info('ingress listening', { port: config.PORT, host: config.HOST });
  });
  server.keepAliveTimeout = 65_000;
  const metricsServer =
    config.METRICS_PORT > 0
      ? await startMetricsServer(deps.metrics.registry, {
          port: config.METRICS_PORT,
          host: config.METRICS_HOST,
        })
      : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info('ingress shutting down', { signal });
    const hardExit = setTimeout(() => process.exit(1), config.SHUTDOWN_DEADLINE_MS + 2_000);
    hardExit.unref();
    // Stop accepting, let in-flight requests finish (bounded), then close queues, Redis and databases.
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    metricsServer?.close();
    const drainDeadline = new Promise<void>((resolve) =>
      setTimeout(resolve, config.SHUTDOWN_DEADLINE_MS / 2).unref(),
    );
    await Promise.race([drained, drainDeadline]);
    server.closeAllConnections();
    const clean = await deps.close(config.SHUTDOWN_DEADLINE_MS / 2);
    deps.logger.info('ingress stopped', { clean });
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  // Config errors list names only, never values.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
