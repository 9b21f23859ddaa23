import { createHash, createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '@tradehook/credentials';
import type { Request, RequestHandler, Response } from 'express';
import type { IngressDeps } from '../deps.ts';

/**
 * Dashboard sessions. The admin token is exchanged once, at login, for a random session id; the browser
 * holds only `<id>.<hmac>` in an httpOnly, SameSite=Strict cookie scoped to /app. The session itself (its
 * CSRF token and expiry) lives in Redis, so logout ends it everywhere and a stolen cookie dies with it.
 * The HMAC key is derived from ADMIN_TOKEN: rotating the token signs every session out.
 */
export const SESSION_COOKIE = 'tradehook_session';
const COOKIE_PATH = '/app';

export interface DashboardSession {
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

function signingKey(deps: IngressDeps): Buffer {
  return createHmac('sha256', deps.config.ADMIN_TOKEN).update('tradehook dashboard session v1').digest();
}

function sign(deps: IngressDeps, id: string): string {
  return createHmac('sha256', signingKey(deps)).update(id).digest('base64url');
}

/** Redis key of a session: a hash of the id, so a Redis dump does not hold usable cookies. */
function sessionKey(deps: IngressDeps, id: string): string {
  return `${deps.config.QUEUE_PREFIX}:dashboard:session:${createHash('sha256').update(id).digest('hex')}`;
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sessionId(deps: IngressDeps, req: Request): string | undefined {
  const value = readCookie(req, SESSION_COOKIE);
  const dot = value?.lastIndexOf('.') ?? -1;
  if (!value || dot <= 0) return undefined;
  const id = value.slice(0, dot);
  return safeEqual(value.slice(dot + 1), sign(deps, id)) ? id : undefined;
}

function cookieAttributes(req: Request, maxAgeSeconds: number): string {
  // Secure whenever the request came over TLS (a proxy that TRUST_PROXY trusts); the loopback/SSH-tunnel
  // default is plain http.
  return `Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${req.secure ? '; Secure' : ''}`;
}

export async function createSession(deps: IngressDeps, req: Request, res: Response): Promise<void> {
  const ttl = deps.config.DASHBOARD_SESSION_TTL_SECONDS;
  const id = randomBytes(32).toString('base64url');
  const now = Date.now();
  const session: DashboardSession = {
    csrf: randomBytes(32).toString('base64url'),
    createdAt: now,
    expiresAt: now + ttl * 1000,
  };
  await deps.redis.set(sessionKey(deps, id), JSON.stringify(session), 'EX', ttl);
  res.append('Set-Cookie', `${SESSION_COOKIE}=${id}.${sign(deps, id)}; ${cookieAttributes(req, ttl)}`);
}

export async function destroySession(deps: IngressDeps, req: Request, res: Response): Promise<void> {
  const id = sessionId(deps, req);
  if (id) await deps.redis.del(sessionKey(deps, id));
  res.append('Set-Cookie', `${SESSION_COOKIE}=; ${cookieAttributes(req, 0)}`);
}

/** The live session of this request, or null (no cookie, bad signature, logged out or expired). */
export async function findSession(deps: IngressDeps, req: Request): Promise<DashboardSession | null> {
  const id = sessionId(deps, req);
  if (!id) return null;
  const raw = await deps.redis.get(sessionKey(deps, id));
  if (!raw) return null;
  const session = JSON.parse(raw) as DashboardSession;
  return session.expiresAt > Date.now() ? session : null;
}

export function sessionOf(res: Response): DashboardSession {
  const session = res.locals.dashboardSession as DashboardSession | undefined;
  if (!session) throw new Error('dashboard route without requireSession');
  return session;
}

/**
 * Pages and actions need a live session: a page request without one is sent to the login page (saying the
 * session expired when a cookie was presented), anything else is refused with 401.
 */
export function requireSession(deps: IngressDeps): RequestHandler {
  return (req, res, next) => {
    findSession(deps, req).then((session) => {
      if (session) {
        res.locals.dashboardSession = session;
        next();
        return;
      }
      const hadCookie = readCookie(req, SESSION_COOKIE) !== undefined;
      if (req.method === 'GET' && req.accepts('html') && !req.get('accept')?.includes('event-stream')) {
        res.redirect(303, `${COOKIE_PATH}/login${hadCookie ? '?expired=1' : ''}`);
        return;
      }
      res.status(401).type('text/plain').send('session expired or missing: log in again at /app/login');
    }, next);
  };
}

/** Origin, when the browser sends one, must be this host (SameSite=Strict covers the rest). */
export function sameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

/**
 * CSRF check of every state-changing dashboard request: the session's token in the `_csrf` form field (or
 * the X-CSRF-Token header of the client script), and a same-origin Origin header. Refused → 403, nothing done.
 */
export const requireCsrf: RequestHandler = (req, res, next) => {
  const session = sessionOf(res);
  const body = req.body as Record<string, unknown> | undefined;
  const sent = (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? req.get('x-csrf-token');
  if (!sameOrigin(req) || !sent || !safeEqual(sent, session.csrf)) {
    res
      .status(403)
      .type('text/plain')
      .send('CSRF check failed: reload the page and try again (nothing was changed)');
    return;
  }
  next();
};
