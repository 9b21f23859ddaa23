import express from 'express';
import helmet from 'helmet';
import type { IngressDeps } from './deps.ts';
import { errorHandler, refuseEncodedBodies, sendError } from './http-errors.ts';
import { requestContext } from './request-context.ts';
import { createAccountsRouter } from './accounts/router.ts';
import { createGroupsRouter } from './groups/router.ts';
import { createHealthRouter } from './health/router.ts';
import { createPineRouter } from './pine/router.ts';
import { createRiskAdminRouter } from './risk-admin/router.ts';
import { createSignalsRouter } from './signals/router.ts';
import { createWebhookRouter } from './webhook/router.ts';
import { createDashboardRouter } from './dashboard/router.ts';

/** Body limit of the groups admin routes: 500 members with their sizing fit with room to spare. */
const GROUP_BODY_LIMIT = '256kb';

/** Webhook answers by status and their latency, recorded when the answer is sent (refusals included). */
function countWebhookAnswers(deps: IngressDeps): express.RequestHandler {
  return (_req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const status = String(res.statusCode);
      deps.metrics.webhooks.inc({ status });
      deps.metrics.webhookDuration.observe({ status }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

export { requireAdmin } from './auth.ts';
export { adminGuard } from './admin-guard.ts';
export { ApiError, sendError } from './http-errors.ts';
export type { IngressDeps } from './deps.ts';

/**
 * The ingress HTTP app. Each feature folder (webhook/, accounts/, groups/, signals/, risk-admin/, pine/, health/) has
 * its `router.ts` exporting `createXRouter(deps)`;
 * admin routes guard themselves per route with `...adminGuard(deps)` (never a path-less router.use,
 * which would also catch other routers' requests). Bodies: JSON and text/plain are parsed here once.
 */
export function createApp(deps: IngressDeps): express.Application {
  const app = express();
  app.set('trust proxy', deps.config.TRUST_PROXY);
  app.disable('x-powered-by');
  app.use(requestContext(deps.logger));
  // Before the body parsers, so a malformed body's refusal is counted too.
  app.use('/api/v1/webhook', countWebhookAnswers(deps));
  app.use(helmet());
  app.use(refuseEncodedBodies);
  // A group's member list (up to 500 accounts) is larger than any alert: its admin routes get a larger limit.
  app.use(
    '/api/v1/groups',
    express.json({ limit: GROUP_BODY_LIMIT, type: ['application/json', 'application/*+json'] }),
  );
  app.use(express.json({ limit: deps.config.BODY_LIMIT, type: ['application/json', 'application/*+json'] }));
  app.use(express.text({ limit: deps.config.BODY_LIMIT, type: 'text/plain' }));

  app.use(createHealthRouter(deps));
  app.use(createWebhookRouter(deps));
  app.use(createAccountsRouter(deps));
  app.use(createSignalsRouter(deps));
  app.use(createPineRouter(deps));
  app.use(createRiskAdminRouter(deps));
  app.use(createGroupsRouter(deps));
  // The web dashboard at /app (its own session login, see dashboard/session.ts).
  app.use(createDashboardRouter(deps));

  app.use((_req, res) => sendError(res, 'not_found', 'no such endpoint'));
  app.use(errorHandler(deps.logger));
  return app;
}
