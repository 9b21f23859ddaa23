/**
 * Control API for time and booking: `POST /_sim/clock {"advance_ms": N}` / `GET /_sim/clock` (exchange time,
 * see clock.ts) and `POST /_sim/fill-split {"symbol", "max_fill_qty"}` (book larger market orders as several
 * fills, as a real book walked level by level does; `max_fill_qty: 0` turns it off) and
 * `POST /_sim/limit-depth {"symbol", "qty"}` (a limit order fills at most `qty` base each time the price
 * reaches it, so it is partially filled and rests with the remainder; `qty: 0` turns it off).
 */
import { reply, type Reply, type Sim } from './http.ts';
import { findMarket } from './markets.ts';

export function handleTimeControl(
  sim: Sim,
  method: string,
  path: string,
  body: Record<string, unknown>,
): Reply | undefined {
  const { clock } = sim.engine;
  if (method === 'GET' && path === '/_sim/clock')
    return reply({ ok: true, now_ms: clock.now(), offset_ms: clock.offset });
  if (method === 'POST' && path === '/_sim/clock') {
    const ms = Number(body['advance_ms']);
    if (body['advance_ms'] === undefined || !Number.isFinite(ms) || ms < 0)
      return reply({ ok: false, error: 'advance_ms must be a number >= 0' }, 400);
    const now = clock.advance(ms);
    return reply({ ok: true, now_ms: now, offset_ms: clock.offset });
  }
  if (method === 'POST' && path === '/_sim/fill-split') {
    const m = findMarket(typeof body['symbol'] === 'string' ? body['symbol'] : undefined);
    if (!m) return reply({ ok: false, error: 'symbol is required and must be a listed market' }, 400);
    const max = Number(body['max_fill_qty']);
    if (!Number.isFinite(max) || max < 0)
      return reply({ ok: false, error: 'max_fill_qty must be a number >= 0 (base currency)' }, 400);
    if (max === 0) sim.engine.maxFillQty.delete(m.id);
    else sim.engine.maxFillQty.set(m.id, max);
    return reply({ ok: true, symbol: m.id, max_fill_qty: max });
  }
  if (method === 'POST' && path === '/_sim/limit-depth') {
    const m = findMarket(typeof body['symbol'] === 'string' ? body['symbol'] : undefined);
    if (!m) return reply({ ok: false, error: 'symbol is required and must be a listed market' }, 400);
    const qty = Number(body['qty']);
    if (!Number.isFinite(qty) || qty < 0)
      return reply({ ok: false, error: 'qty must be a number >= 0 (base currency)' }, 400);
    if (qty === 0) sim.engine.limitDepth.delete(m.id);
    else sim.engine.limitDepth.set(m.id, qty);
    return reply({ ok: true, symbol: m.id, qty });
  }
  return undefined;
}
