import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueue, createRedis } from '@tradehook/queue';
import { QUEUES } from '@tradehook/contracts';
import { deleteRedisPrefix, testQueuePrefix, TEST_REDIS_URL } from '../../../tests/support/index.ts';
import {
  createServiceMetrics,
  exchangeBudgetFallbacks,
  exchangeBudgetUsed,
  exchangeRequests,
  fillSyncLag,
  notificationDeliveries,
  notificationEvents,
  observeStage,
  registerQueueMetrics,
  serveProcessMetrics,
  streamConnected,
} from './index.ts';

const prefix = testQueuePrefix();
const redis = createRedis(TEST_REDIS_URL, 'producer');
afterAll(async () => {
  await deleteRedisPrefix(prefix);
  redis.disconnect();
});

describe('serveProcessMetrics (risk, workers)', () => {
  it('serves process metrics and queue depths on its own port, and nothing else', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const metrics = await serveProcessMetrics('worker-okx', {
      METRICS_PORT: port,
      METRICS_HOST: '127.0.0.1',
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
    });
    try {
      const orders = createQueue(QUEUES.orders('okx'), redis, prefix);
      await orders.add('o', { n: 1 }, { delay: 60_000 });
      await orders.close();
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(
        /^tradehook_queue_jobs\{queue="orders-okx",state="delayed",service="worker-okx"\} 1$/m,
      );
      expect(text).toMatch(/^tradehook_process_resident_memory_bytes\{service="worker-okx"\} \d+/m);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await metrics.close();
    }
  });
});

describe('the Grafana dashboard in deploy/monitoring', () => {
  it('only charts metrics the services export', async () => {
    const dashboard = JSON.parse(
      readFileSync(
        new URL('../../../deploy/monitoring/grafana/dashboards/tradehook.json', import.meta.url),
        'utf8',
      ),
    ) as { panels: { targets: { expr: string }[] }[] };
    const used = new Set(
      dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/tradehook_[a-z_]+/g) ?? [])),
    );
    expect(used.size).toBeGreaterThan(5);
    const metrics = createServiceMetrics('ingress');
    metrics.webhooks.inc({ status: '202' });
    metrics.webhookDuration.observe({ status: '202' }, 0.002);
    // Pipeline metrics observed elsewhere (exchange hook, fill sync, notifier): one sample of each.
    observeStage('decided', 0, 5);
    exchangeRequests.inc({ venue: 'binance', endpoint: 'fapiPrivate/order', status: 'ok' });
    exchangeBudgetUsed.set({ venue: 'binance' }, 0.1);
    exchangeBudgetFallbacks.inc({ venue: 'binance' });
    streamConnected.set({ venue: 'okx', account: 'a', stream: 'user' }, 1);
    fillSyncLag.observe({ venue: 'okx' }, 2);
    notificationDeliveries.inc({ channel: 'telegram', outcome: 'sent' });
    notificationEvents.inc({ kind: 'kill_switch', outcome: 'dropped' });
    const closeQueues = registerQueueMetrics(metrics.registry, redis, prefix);
    const text = await metrics.registry.metrics();
    await closeQueues();
    const exported = new Set([...text.matchAll(/^(tradehook_[a-z_]+)[{ ]/gm)].map((m) => m[1]));
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });
});
