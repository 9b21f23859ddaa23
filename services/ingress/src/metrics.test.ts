import type { AddressInfo } from 'node:net';
import { startMetricsServer } from '@tradehook/metrics';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngressHarness, WEBHOOK_SECRET, type IngressHarness } from '../test/support.ts';

let h: IngressHarness;
let metricsUrl: string;
let closeMetrics: () => void;

beforeAll(async () => {
  h = await startIngressHarness();
  const server = await startMetricsServer(h.deps.metrics.registry, { port: 0, host: '127.0.0.1' });
  metricsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  closeMetrics = () => server.close();
});
afterAll(async () => {
  closeMetrics();
  await h.close();
});

const scrape = async () => {
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
};

describe('ingress /metrics', () => {
  it('counts webhook answers by status, refusals of malformed bodies included, with their latency', async () => {
    const webhook = '/api/v1/webhook/tradingview';
    await request(h.app).post(webhook).set('Content-Type', 'application/json').send('{"broken":').expect(400);
    const body = { account_id: 'nobody', exchange: 'binance', action: 'long', symbol: 'BTCUSDT' };
    await request(h.app)
      .post(webhook)
      .send({ ...body, secret: 'wrong-secret' })
      .expect(401);
    await request(h.app)
      .post(webhook)
      .send({ ...body, secret: 'wrong-secret' })
      .expect(401);
    await request(h.app)
      .post(webhook)
      .send({ ...body, secret: WEBHOOK_SECRET })
      .expect(404);

    const text = await scrape();
    expect(text).toMatch(/^tradehook_webhooks_total\{status="400",service="ingress"\} 1$/m);
    expect(text).toMatch(/^tradehook_webhooks_total\{status="401",service="ingress"\} 2$/m);
    expect(text).toMatch(/^tradehook_webhooks_total\{status="404",service="ingress"\} 1$/m);
    expect(text).toMatch(/^tradehook_webhook_duration_seconds_count\{service="ingress",status="401"\} 2$/m);
    // Process metrics come along (CPU, memory, event-loop lag).
    expect(text).toMatch(/^tradehook_process_cpu_user_seconds_total\{service="ingress"\} /m);
    expect(text).toMatch(/^tradehook_nodejs_eventloop_lag_seconds\{service="ingress"\} /m);
    // The answer never leaks the secret it was sent.
    expect(text).not.toContain(WEBHOOK_SECRET);
  });

  it('reports queue depths and the age of the oldest waiting job, read from BullMQ', async () => {
    await h.deps.queues.signals.add('probe', { signalId: 'x' } as never, { timestamp: Date.now() - 5_000 });
    const text = await scrape();
    expect(text).toMatch(/^tradehook_queue_jobs\{queue="signals",state="waiting",service="ingress"\} 1$/m);
    expect(text).toMatch(
      /^tradehook_queue_jobs\{queue="orders-binance",state="waiting",service="ingress"\} 0$/m,
    );
    const age =
      /^tradehook_queue_oldest_waiting_seconds\{queue="signals",service="ingress"\} ([\d.]+)$/m.exec(text);
    expect(Number(age?.[1])).toBeGreaterThanOrEqual(4);
  });

  it('is not served on the public webhook port', async () => {
    const res = await request(h.app).get('/metrics');
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('tradehook_webhooks_total');
  });
});
