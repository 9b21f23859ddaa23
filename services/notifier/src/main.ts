import { ConfigError } from '@tradehook/config';
import { createLogger } from '@tradehook/logger';
import { serveProcessMetrics } from '@tradehook/metrics';
import { loadNotifierConfig } from './config.ts';
import { createNotifierService, type NotifierService } from './service.ts';

/** `tsx services/notifier/src/main.ts` — one replica (its outage monitor keeps state in memory). */
let config;
let service: NotifierService;
try {
  config = loadNotifierConfig();
  service = createNotifierService(config, {
    logger: createLogger({
      service: 'notifier',
      level: config.LOG_LEVEL,
      logDir: config.LOG_DIR || undefined,
    }),
  });
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`notifier: ${err.message}`);
    process.exit(2);
  }
  throw err;
}

let metrics: Awaited<ReturnType<typeof serveProcessMetrics>> | undefined;
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`notifier: ${signal} received, finishing deliveries in flight`);
  await Promise.all([service.stop(), metrics?.close()]).catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await service.start();
  if (config.METRICS_PORT > 0) metrics = await serveProcessMetrics('notifier', config);
} catch (err) {
  console.error('notifier failed to start:', err instanceof Error ? err.message : err);
  await service.stop().catch(() => undefined);
  process.exit(1);
}
