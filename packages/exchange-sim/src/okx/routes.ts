/**
 * OKX v5 dialect (USDT-margined perpetual swaps): the route table and the request pipeline (public →
 * signature → expTime → handler). Sizes are in contracts: base qty = sz × ctVal. Rate-limit rules per route
 * are in rate-limit-rules.ts (OKX_RULES, same `METHOD path` keys), applied by server.ts before dispatch.
 */
import { verifyOkx } from '../auth.ts';
import type { Account } from '../engine.ts';
import type { Reply, Sim, SimRequest } from '../http.ts';
import { type Route, routeTable } from '../route-table.ts';
import { ACCOUNT_ROUTES } from './account.ts';
import { OkxError, okxErrorReply } from './common.ts';
import { PUBLIC_ROUTES } from './market-data.ts';
import { ORDER_ROUTES } from './orders.ts';

export { okxErrorReply } from './common.ts';

const PUBLIC = routeTable(PUBLIC_ROUTES);
export const SIGNED_ROUTES: Route[] = [...ACCOUNT_ROUTES, ...ORDER_ROUTES];
const SIGNED = routeTable(SIGNED_ROUTES);
/** Every key the simulator answers (public ones are bare paths). */
export const OKX_ROUTE_KEYS: string[] = [...PUBLIC.keys(), ...SIGNED.keys()];

const EXP_TIME_PATHS = new Set([
  '/api/v5/trade/order',
  '/api/v5/trade/batch-orders',
  '/api/v5/trade/order-algo',
  '/api/v5/trade/amend-order',
]);

function pastExpTime(raw: string | string[] | undefined, nowMs: number): boolean {
  const exp = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && Number.isFinite(exp) && nowMs > exp;
}

export async function handleOkx(sim: Sim, req: SimRequest): Promise<Reply> {
  try {
    return dispatch(sim, req);
  } catch (e) {
    if (e instanceof OkxError) return okxErrorReply(e.code, e.message, e.status);
    throw e;
  }
}

const PUBLIC_PREFIXES = ['/api/v5/public/', '/api/v5/market/'];

function dispatch(sim: Sim, req: SimRequest): Reply {
  const { method, path, query: q } = req;
  const engine = sim.engine;
  if (PUBLIC_PREFIXES.some((p) => path.startsWith(p))) {
    const handle = PUBLIC.get(path);
    // Public handlers never read the account.
    if (handle)
      return handle({ sim, engine, req, method, path, q, p: q, acct: undefined as unknown as Account });
    return okxErrorReply('50014', `Path ${path} not found`, 404);
  }
  // ── private ──
  const requestPath = req.rawQuery ? `${path}?${req.rawQuery}` : path;
  const auth = verifyOkx(
    engine,
    req.headers,
    method,
    requestPath,
    req.body,
    req.arrivalMs + engine.clock.offset,
  );
  if ('error' in auth) return okxErrorReply(String(auth.error.code), auth.error.msg, auth.error.status);
  const acct = auth.account;
  if (
    method === 'POST' &&
    EXP_TIME_PATHS.has(path) &&
    pastExpTime(req.headers['exptime'], engine.clock.now())
  ) {
    // OKX API v5 "Place order" header `expTime` ("request effective deadline"): a request past it is refused,
    // not executed. The exact code is not given there; 50102 ("Timestamp request expired") is used.
    return okxErrorReply('50102', 'Timestamp request expired', 401);
  }
  const handle = SIGNED.get(`${method} ${path}`);
  if (handle) return handle({ sim, engine, req, method, path, q, p: q, acct });
  return okxErrorReply('50014', `Path ${path} not found`, 404);
}
