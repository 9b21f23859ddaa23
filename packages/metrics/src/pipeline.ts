import { Counter, Gauge, Histogram, type Metric } from 'prom-client';

/**
 * Process-wide metrics of the order pipeline, observed deep inside packages (the exchange client's request hook,
 * the fill sync, the notifier) that have no service registry at hand. Each is defined once here, in no registry;
 * createServiceMetrics adds them all to the registry a service serves (its default `service` label applies).
 * Kept free of Redis/BullMQ imports so low-level packages can depend on it (`@tradehook/metrics/pipeline`).
 */

/** Stages of a signal, each timed from the previous one (received → decided → executing → order sent → filled). */
export const STAGES = ['decided', 'executing', 'order_sent', 'filled', 'completed'] as const;
export type Stage = (typeof STAGES)[number];

export const stageSeconds = new Histogram<'stage'>({
  name: 'tradehook_stage_seconds',
  help: 'Time of each pipeline stage from the previous one (completed: received to terminal status)',
  labelNames: ['stage'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [],
});

export const exchangeRequests = new Counter<'venue' | 'endpoint' | 'status'>({
  name: 'tradehook_exchange_requests_total',
  help: 'REST requests to an exchange by venue, endpoint path and outcome (ok or the ccxt error class)',
  labelNames: ['venue', 'endpoint', 'status'],
  registers: [],
});

export const exchangeBudgetUsed = new Gauge<'venue'>({
  name: 'tradehook_exchange_budget_used_ratio',
  help: "Share of the venue's shared request-weight budget used in its current window (1 = exhausted)",
  labelNames: ['venue'],
  registers: [],
});

export const exchangeBudgetFallbacks = new Counter<'venue'>({
  name: 'tradehook_exchange_budget_fallbacks_total',
  help: 'Times the shared (Redis) request budget failed to answer and this process fell back to its own share',
  labelNames: ['venue'],
  registers: [],
});

/** Set by whatever keeps a user-data or market stream open (1 connected, 0 not). */
export const streamConnected = new Gauge<'venue' | 'account' | 'stream'>({
  name: 'tradehook_stream_connected',
  help: 'Exchange stream connection state (1 connected, 0 disconnected)',
  labelNames: ['venue', 'account', 'stream'],
  registers: [],
});

export const fillSyncLag = new Histogram<'venue'>({
  name: 'tradehook_fill_sync_lag_seconds',
  help: 'Time from a trade on the exchange to its row in fills',
  labelNames: ['venue'],
  buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600],
  registers: [],
});

export const notificationDeliveries = new Counter<'channel' | 'outcome'>({
  name: 'tradehook_notification_deliveries_total',
  help: 'Notification messages by channel type and outcome (sent, retry, failed)',
  labelNames: ['channel', 'outcome'],
  registers: [],
});

export const notificationEvents = new Counter<'kind' | 'outcome'>({
  name: 'tradehook_notification_events_total',
  help: 'Notification events by kind: enqueued or dropped by a producer, routed or unrouted by the notifier',
  labelNames: ['kind', 'outcome'],
  registers: [],
});

export const PIPELINE_METRICS: readonly Metric[] = [
  stageSeconds,
  exchangeRequests,
  exchangeBudgetUsed,
  exchangeBudgetFallbacks,
  streamConnected,
  fillSyncLag,
  notificationDeliveries,
  notificationEvents,
];

/** Observes one stage from two instants (ignored when either is missing or the clock went backwards). */
export function observeStage(stage: Stage, from: Date | number | null, to: Date | number | null): void {
  if (from === null || to === null) return;
  const seconds = (Number(to) - Number(from)) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0) stageSeconds.observe({ stage }, seconds);
}
