import { ConfigError } from '@tradehook/config';
import { createLogger } from '@tradehook/logger';
import { serveProcessMetrics } from '@tradehook/metrics';
import { loadRiskConfig } from './config.ts';
import { createRiskService } from './service.ts';

let config;
try {
  config = loadRiskConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`risk: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger({ service: 'risk', level: config.LOG_LEVEL, logDir: config.LOG_DIR });
const service = createRiskService(config, { logger });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  const clean = await service.stop();
  await metrics?.close();
  process.exit(clean ? 0 : 1);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

let metrics: Awaited<ReturnType<typeof serveProcessMetrics>> | undefined;
try {
  await service.start();
  if (config.METRICS_PORT > 0) metrics = await serveProcessMetrics('risk', config);
} catch (err) {
  logger.error('risk service failed to start', { err: (err as Error).message });
  await service.stop().catch(() => undefined);
  process.exit(1);
}
