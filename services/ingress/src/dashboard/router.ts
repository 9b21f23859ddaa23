import { fileURLToPath } from 'node:url';
import { safeEqual } from '@tradehook/credentials';
import express, { Router, type ErrorRequestHandler } from 'express';
import { API_ERRORS } from '@tradehook/contracts';
import type { IngressDeps } from '../deps.ts';
import { ApiError } from '../http-errors.ts';
import { redisRateLimit } from '../rate-limit.ts';
import { requestLogger } from '../request-context.ts';
import { DashboardEvents } from './events.ts';
import { html, t, type Html } from './html.ts';
import { BASE, page } from './layout.ts';
import { accountsPages } from './pages/accounts.ts';
import { groupsPages } from './pages/groups.ts';
import { overviewPage } from './pages/overview.ts';
import { pinePage } from './pages/pine.ts';
import { pnlPage } from './pages/pnl.ts';
import { sendPage, type DashboardContext } from './respond.ts';
import { signalsPages } from './pages/signals.ts';
import { createSession, destroySession, requireCsrf, requireSession, sameOrigin } from './session.ts';

function loginPage(message?: { kind: 'ok' | 'error'; text: string }): Html {
  return page({
    title: 'Login',
    flash: message,
    body: html`<section class="card login">
      <h1>${t('관리자 로그인', 'Admin login')}</h1>
      <form method="post" action="${BASE}/login">
        <label
          >${t('관리자 토큰 (ADMIN_TOKEN)', 'Admin token (ADMIN_TOKEN)')}
          <input type="password" name="token" autocomplete="off" required data-testid="token"
        /></label>
        <button type="submit" data-testid="login">${t('로그인', 'Log in')}</button>
      </form>
      <p class="muted">
        ${t(
          '토큰은 세션 쿠키로 교환되며 브라우저에 저장되지 않습니다.',
          'The token is exchanged for a session cookie and never stored in the browser.',
        )}
      </p>
    </section>`,
  });
}

/** Errors of dashboard routes as a page (never a stack trace); ApiError keeps its status and message. */
function dashboardErrors(deps: IngressDeps): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) return next(err);
    const known = err instanceof ApiError;
    if (!known) {
      (res.locals.logger ?? deps.logger).error('dashboard error', {
        err: err instanceof Error ? err.message : String(err),
      });
    }
    const status = known ? API_ERRORS[err.code] : 500;
    const text = known ? err.message : 'internal error (see the ingress log)';
    sendPage(res, page({ title: 'Error', body: html`<p class="flash flash-error">${text}</p>` }), status);
  };
}

/**
 * The web dashboard at /app (docs/decisions/0019-dashboard-server-rendered.md): server-rendered pages plus one small
 * script, behind a session that the admin token buys at /app/login. Served on the ingress listener like the
 * admin API, so it is exactly as reachable: loopback by default, never through the HTTPS edge (Caddyfile).
 */
export function createDashboardRouter(deps: IngressDeps): Router {
  const router = Router();
  const events = new DashboardEvents(deps);
  const limit = redisRateLimit(deps, 'dashboard', deps.config.RATE_LIMIT_ADMIN_MAX);
  const forms = express.urlencoded({ extended: false, limit: deps.config.BODY_LIMIT, parameterLimit: 100 });
  const session = requireSession(deps);
  const ctx: DashboardContext = {
    deps,
    pages: [limit, session],
    actions: [limit, forms, session, requireCsrf],
  };

  router.use(
    `${BASE}/static`,
    express.static(fileURLToPath(new URL('./static/', import.meta.url)), { index: false, maxAge: '1h' }),
  );
  router.use(BASE, (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    // helmet's no-referrer makes browsers send `Origin: null` on form posts; same-origin still never leaks
    // a referrer to another site, and lets requireCsrf compare the Origin.
    res.set('Referrer-Policy', 'same-origin');
    next();
  });

  router.get(`${BASE}/login`, limit, (req, res) => {
    const expired = req.query.expired === '1';
    sendPage(
      res,
      loginPage(
        expired
          ? { kind: 'error', text: 'Session expired — log in again / 세션이 만료되었습니다' }
          : undefined,
      ),
    );
  });
  router.post(`${BASE}/login`, limit, forms, async (req, res) => {
    const token = (req.body as Record<string, unknown> | undefined)?.token;
    if (!sameOrigin(req) || typeof token !== 'string' || !safeEqual(token, deps.config.ADMIN_TOKEN)) {
      requestLogger(res).warn('dashboard login refused');
      sendPage(res, loginPage({ kind: 'error', text: 'Wrong admin token / 관리자 토큰이 틀립니다' }), 401);
      return;
    }
    await createSession(deps, req, res);
    requestLogger(res).info('dashboard login');
    res.redirect(303, BASE);
  });
  router.post(`${BASE}/logout`, ...ctx.actions, async (req, res) => {
    await destroySession(deps, req, res);
    requestLogger(res).info('dashboard logout');
    res.redirect(303, `${BASE}/login`);
  });
  router.get(`${BASE}/events`, ...ctx.pages, (req, res) => events.serve(req, res));

  overviewPage(router, ctx);
  signalsPages(router, ctx);
  accountsPages(router, ctx);
  groupsPages(router, ctx);
  pnlPage(router, ctx);
  pinePage(router, ctx);

  router.use(BASE, dashboardErrors(deps));
  return router;
}
