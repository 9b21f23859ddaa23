/**
 * Binance USDⓈ-M futures dialect (fapi): the route table and the request pipeline (public → signature →
 * matching-engine recvWindow → handler). Request weights per route are in rate-limit-rules.ts
 * (BINANCE_WEIGHT, same `METHOD path` keys), applied by server.ts before a request reaches here.
 */
import { verifyBinance } from '../auth.ts';
import type { Account } from '../engine.ts';
import type { Reply, Sim, SimRequest } from '../http.ts';
import { ACCOUNT_ROUTES } from './account.ts';
import { PUBLIC_ROUTES } from './market-data.ts';
import { ORDER_ROUTES } from './orders.ts';
import { BinanceError, binanceErrorReply, err } from './params.ts';
import { type Route, routeTable } from '../route-table.ts';

export { binanceErrorReply } from './params.ts';

const PUBLIC = routeTable(PUBLIC_ROUTES);
const PUBLIC_PATHS = new Set(PUBLIC_ROUTES.flatMap((r) => r.keys.map((k) => k.slice(k.indexOf(' ') + 1))));
export const SIGNED_ROUTES: Route[] = [...ACCOUNT_ROUTES, ...ORDER_ROUTES];
const SIGNED = routeTable(SIGNED_ROUTES);
/** Every `METHOD path` the simulator answers (tests compare it with the weight table). */
export const BINANCE_ROUTE_KEYS: string[] = [...PUBLIC.keys(), ...SIGNED.keys()];

/** Order placement: what the matching engine executes, and so re-checks for recvWindow. */
const ME_CHECKED = new Set(['/fapi/v1/order', '/fapi/v1/batchOrders', '/fapi/v1/algoOrder']);

function reachedMatchingEngineLate(p: URLSearchParams, nowMs: number): boolean {
  const ts = Number(p.get('timestamp'));
  const recvWindow = Number(p.get('recvWindow') ?? 5000);
  return Number.isFinite(ts) && nowMs - ts > recvWindow;
}

export async function handleBinance(sim: Sim, req: SimRequest): Promise<Reply> {
  try {
    return dispatch(sim, req);
  } catch (e) {
    if (e instanceof BinanceError) return binanceErrorReply(e.code, e.message, e.status);
    throw e;
  }
}

function dispatch(sim: Sim, req: SimRequest): Reply {
  const { method, path } = req;
  const engine = sim.engine;
  const q = req.query;
  if (PUBLIC_PATHS.has(path)) {
    if (method !== 'GET') err(-1014, 'Unsupported order combination.');
    const handle = PUBLIC.get(`GET ${path}`)!;
    // Public handlers never read the account.
    return handle({ sim, engine, req, method, path, q, p: q, acct: undefined as unknown as Account });
  }
  // ── signed endpoints ──
  // The gateway checks the timestamp when the request arrives; a slow path to the matching engine comes after.
  const auth = verifyBinance(
    engine,
    req.headers,
    req.rawQuery,
    req.body,
    req.arrivalMs + engine.clock.offset,
  );
  if ('error' in auth) return binanceErrorReply(Number(auth.error.code), auth.error.msg, auth.error.status);
  const acct = auth.account;
  const p = new URLSearchParams(
    req.rawQuery && req.body ? `${req.rawQuery}&${req.body}` : req.rawQuery || req.body,
  );
  if (method === 'POST' && ME_CHECKED.has(path) && reachedMatchingEngineLate(p, engine.clock.now())) {
    // USDⓈ-M error code -5028 (in ccxt's binance "linear" error table): the matching engine re-checks the
    // timestamp against recvWindow, so an order that reaches it too late is refused, never executed.
    return binanceErrorReply(-5028, 'Timestamp for this request is outside of the ME recvWindow.', 400);
  }
  const handle = SIGNED.get(`${method} ${path}`);
  if (handle) return handle({ sim, engine, req, method, path, q, p, acct });
  return binanceErrorReply(-5000, 'Path ' + path + ', Method ' + method + ' is invalid', 404);
}
