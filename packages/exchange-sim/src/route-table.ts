/** The simulator's route tables (Binance and OKX): `METHOD path` keys → handler. */
import type { Account, Engine } from './engine.ts';
import type { Reply, Sim, SimRequest } from './http.ts';

export interface RouteContext {
  sim: Sim;
  engine: Engine;
  req: SimRequest;
  method: string;
  path: string;
  /** The query string (public endpoints). */
  q: URLSearchParams;
  /** Binance signed endpoints: query and form body together (Binance accepts either); otherwise the query. */
  p: URLSearchParams;
  /** Signed endpoints only; public handlers never read it. */
  acct: Account;
}

export type Handler = (c: RouteContext) => Reply;

export interface Route {
  /** `METHOD path` (OKX public: the path alone, any method), as keyed in rate-limit-rules.ts. */
  keys: string[];
  handle: Handler;
}

export function route(keys: string[], handle: Handler): Route {
  return { keys, handle };
}

export function routeTable(routes: Route[]): Map<string, Handler> {
  const table = new Map<string, Handler>();
  for (const r of routes) {
    for (const k of r.keys) {
      if (table.has(k)) throw new Error(`route ${k} defined twice`);
      table.set(k, r.handle);
    }
  }
  return table;
}
