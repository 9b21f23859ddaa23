/** The ingress service as a library (tests, the local supervisor, benchmarks); `main.ts` runs it. */
export { createApp, adminGuard, requireAdmin, ApiError, sendError } from './app.ts';
export { buildIngressDeps, type IngressDeps, type BuildDepsOptions } from './deps.ts';
export { ingressEnvSchema, loadIngressConfig, TRADINGVIEW_IPS, type IngressConfig } from './config.ts';
