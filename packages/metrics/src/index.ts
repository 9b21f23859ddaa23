import { createServer, type Server } from 'node:http';
import { EXCHANGES, QUEUES } from '@tradehook/contracts';
import { createRedis, Queue, type Redis } from '@tradehook/queue';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PIPELINE_METRICS } from './pipeline.ts';

export * from './pipeline.ts';

/**
 * Prometheus metrics of one service process. Served by {@link startMetricsServer} on a port of its own, never on
 * the public webhook port, so a scrape target is never reachable from TradingView's side of the edge.
 */
export interface ServiceMetrics {
  registry: Registry;
  /** Webhook answers by HTTP status (ingress). */
  webhooks: Counter<'status'>;
  /** Time from the webhook request's arrival to its answer, seconds (ingress). */
  webhookDuration: Histogram<'status'>;
}

export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'tradehook_' });
  const webhooks = new Counter({
    name: 'tradehook_webhooks_total',
    help: 'Webhook requests answered, by HTTP status',
    labelNames: ['status'],
    registers: [registry],
  });
  const webhookDuration = new Histogram({
    name: 'tradehook_webhook_duration_seconds',
    help: 'Webhook request arrival to answer',
    labelNames: ['status'],
    // The answer path is meant to take milliseconds; TradingView gives up after 3 s.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
    registers: [registry],
  });
  for (const metric of PIPELINE_METRICS) registry.registerMetric(metric);
  return { registry, webhooks, webhookDuration };
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children'] as const;

/**
 * Job counts of every queue the system declares, read from BullMQ at scrape time (not on any hot path), plus
 * the age of each queue's oldest waiting job: a growing age is a stuck consumer even when the depth is small.
 */
export function registerQueueMetrics(registry: Registry, redis: Redis, prefix: string): () => Promise<void> {
  const names = [
    QUEUES.signals,
    ...EXCHANGES.flatMap((exchange) => [QUEUES.orders(exchange), QUEUES.accountRequests(exchange)]),
    QUEUES.notifications,
  ];
  const queues = names.map((name) => new Queue(name, { connection: redis, prefix }));
  new Gauge({
    name: 'tradehook_queue_jobs',
    help: 'Jobs per queue and state (BullMQ getJobCounts)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        const counts = await queue.getJobCounts(...QUEUE_STATES).catch(() => undefined);
        if (!counts) continue;
        for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'tradehook_queue_oldest_waiting_seconds',
    help: 'Age of the oldest waiting job per queue (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        const [oldest] = await queue.getJobs(['waiting'], -1, -1, true).catch(() => []);
        this.set({ queue: queue.name }, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
      }
    },
  });
  return async () => {
    await Promise.all(queues.map((q) => q.close()));
  };
}

export interface MetricsServerOptions {
  port: number;
  host: string;
}

/** GET /metrics in the Prometheus text format; anything else 404. */
export async function startMetricsServer(registry: Registry, options: MetricsServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) =>
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics failed: ${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}

/**
 * The metrics port of a service without an HTTP app of its own (risk, workers): process metrics and queue
 * depths, on its own Redis connection so a scrape never waits behind the service's blocking commands.
 */
export async function serveProcessMetrics(
  service: string,
  config: { METRICS_PORT: number; METRICS_HOST: string; REDIS_URL: string; QUEUE_PREFIX: string },
): Promise<{ registry: Registry; close(): Promise<void> }> {
  const { registry } = createServiceMetrics(service);
  const redis = createRedis(config.REDIS_URL, 'producer');
  redis.on('error', () => undefined); // a scrape during a Redis outage reports no queue figures, nothing else
  const closeQueues = registerQueueMetrics(registry, redis, config.QUEUE_PREFIX);
  const server = await startMetricsServer(registry, { port: config.METRICS_PORT, host: config.METRICS_HOST });
  return {
    registry,
    async close() {
      server.close();
      await closeQueues();
      redis.disconnect();
    },
  };
}
