/** Control API under /_sim/ (JSON, unauthenticated): accounts, prices, walks, faults, latency, order log. */
import { reportLagOf } from './report-lag.ts';
import {
  type Account,
  type AlgoOrder,
  type CreateAccountInput,
  type Exchange,
  type Order,
  type OtherPosition,
  type PositionMode,
  BINANCE_PERMISSIONS,
} from './engine.ts';
import type { FaultInput } from './faults.ts';
import { handleTimeControl } from './control-time.ts';
import { reply, type Reply, type Sim, type SimRequest } from './http.ts';
import { findMarket, MARKETS } from './markets.ts';

export interface ControlSim extends Sim {
  walkTimer?: NodeJS.Timeout | undefined;
}

function bad(msg: string, status = 400): Reply {
  return reply({ ok: false, error: msg }, status);
}

function parseBody(req: SimRequest): Record<string, unknown> | undefined {
  if (!req.body) return {};
  try {
    const v: unknown = JSON.parse(req.body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function positionModeOf(v: unknown): PositionMode | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).toLowerCase();
  if (['hedge', 'hedged', 'long_short_mode', 'dual'].includes(s)) return 'hedge';
  if (['oneway', 'one_way', 'one-way', 'net', 'net_mode'].includes(s)) return 'oneway';
  throw new Error(`invalid position_mode ${s}`);
}

const PERMISSIONS: Record<Exchange, readonly string[]> = {
  okx: ['read_only', 'trade', 'withdraw'],
  binance: BINANCE_PERMISSIONS,
};

/**
 * `permissions`: an array or a comma list. OKX: account/config `perm` (`"read_only,withdraw,trade"`); Binance:
 * the `enable*` flags of `GET /sapi/v1/account/apiRestrictions` (`reading`, `futures`, `withdrawals`, …).
 */
function permissionsOf(exchange: Exchange, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const allowed = PERMISSIONS[exchange];
  const list = Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : undefined;
  if (!list) throw new Error('permissions must be an array or a comma-separated string');
  const perms = [...new Set(list.map((p) => p.trim()).filter((p) => p.length > 0))];
  const unknown = perms.filter((p) => !allowed.includes(p));
  if (unknown.length) throw new Error(`invalid permissions ${unknown.join(',')}: use ${allowed.join(', ')}`);
  return perms;
}

function exchangeOf(v: unknown): Exchange {
  const s = String(v ?? '').toLowerCase();
  if (s === 'binance' || s === 'binanceusdm') return 'binance';
  if (s === 'okx') return 'okx';
  throw new Error(`invalid exchange ${String(v)}`);
}

export function orderView(o: Order): Record<string, unknown> {
  return {
    kind: 'order',
    exchange: o.exchange,
    api_key: o.apiKey,
    id: String(o.id),
    client_id: o.clientId,
    symbol: o.symbol,
    type: o.type,
    side: o.side,
    position_side: o.posSide,
    qty: o.qty,
    price: o.price ?? null,
    filled_qty: o.filledQty,
    avg_price: o.avgPrice,
    status: o.status,
    reduce_only: o.reduceOnly,
    close_position: o.closePosition,
    fee: o.fee,
    realized_pnl: o.pnl,
    source: o.source,
    algo_id: o.algoId === undefined ? null : String(o.algoId),
    arrival_ms: o.arrivalMs ?? null,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
  };
}

export function algoView(a: AlgoOrder): Record<string, unknown> {
  return {
    kind: 'algo',
    exchange: a.exchange,
    api_key: a.apiKey,
    id: String(a.id),
    client_id: a.clientId,
    symbol: a.symbol,
    type:
      (a.meta['orderType'] as string | undefined) ??
      (a.meta['ordType'] as string | undefined) ??
      'conditional',
    side: a.side,
    position_side: a.posSide,
    qty: a.qty ?? null,
    close_position: a.closePosition,
    reduce_only: a.reduceOnly,
    sl_trigger: a.slTrigger ?? null,
    tp_trigger: a.tpTrigger ?? null,
    status: a.status,
    triggered_by: a.triggeredBy ?? null,
    triggered_at: a.triggeredAt ?? null,
    result_order_id: a.resultOrderId === undefined ? null : String(a.resultOrderId),
    fail_reason: a.failReason ?? null,
    arrival_ms: a.arrivalMs ?? null,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

export function accountView(sim: Sim, a: Account): Record<string, unknown> {
  const e = sim.engine;
  return {
    exchange: a.exchange,
    api_key: a.apiKey,
    testnet: a.testnet,
    position_mode: a.positionMode,
    permissions: a.permissions,
    ...(a.exchange === 'okx' ? { acct_lv: a.acctLv } : { fee_burn: a.feeBurn, bnb_balance: a.bnbWallet }),
    balance: e.margins(a),
    settings: Object.fromEntries(
      [...a.settings.entries()].map(([k, v]) => [k, { leverage: v.leverage, margin_mode: v.marginMode }]),
    ),
    positions: e.openPositions(a).map((p) => ({
      symbol: p.symbol,
      position_side: p.posSide,
      qty: p.qty,
      entry_price: p.entryPrice,
      mark_price: e.price(p.symbol),
      unrealized_pnl: e.unrealized(p),
      realized_pnl: p.realizedPnl,
      fees: p.fees,
    })),
    open_orders: e.openOrders(a).map(orderView),
    open_algo_orders: e.openAlgos(a).map(algoView),
    trades: a.trades.map((t) => ({ ...t, order_id: String(t.orderId) })),
    income: a.income,
  };
}

export function createAccountFromJson(sim: Sim, b: Record<string, unknown>): Account {
  const exchange = exchangeOf(b['exchange']);
  const apiKey = b['api_key'];
  const apiSecret = b['api_secret'];
  if (typeof apiKey !== 'string' || !apiKey || typeof apiSecret !== 'string' || !apiSecret)
    throw new Error('api_key and api_secret are required');
  if (exchange === 'okx' && (typeof b['passphrase'] !== 'string' || !b['passphrase']))
    throw new Error('passphrase is required for okx');
  const input: CreateAccountInput = {
    exchange,
    apiKey,
    apiSecret,
    passphrase: typeof b['passphrase'] === 'string' ? b['passphrase'] : undefined,
    balance: b['balance'] === undefined ? undefined : Number(b['balance']),
    testnet: b['testnet'] === true || b['testnet'] === 'true',
    positionMode: positionModeOf(b['position_mode']),
    permissions: permissionsOf(exchange, b['permissions']),
    takerFee: b['taker_fee'] === undefined ? undefined : Number(b['taker_fee']),
    makerFee: b['maker_fee'] === undefined ? undefined : Number(b['maker_fee']),
    defaultLeverage: b['leverage'] === undefined ? undefined : Number(b['leverage']),
  };
  return sim.engine.createAccount(input);
}

/** OKX account mode (account/config `acctLv`): 1 simple (spot only), 2 single-currency margin, 3, 4. */
function acctLvOf(exchange: Exchange, v: unknown): '1' | '2' | '3' | '4' {
  if (exchange !== 'okx') throw new Error('acct_lv is only simulated for okx');
  const lv = String(v);
  if (lv !== '1' && lv !== '2' && lv !== '3' && lv !== '4') throw new Error('acct_lv must be 1, 2, 3 or 4');
  return lv;
}

const OTHER_INST_TYPES = ['FUTURES', 'MARGIN', 'OPTION'] as const;

/** `other_positions: [{inst_type, inst_id, pos, avg_px}]`: OKX non-swap positions (see Account.otherPositions). */
function otherPositionsOf(exchange: Exchange, v: unknown): OtherPosition[] {
  if (exchange !== 'okx') throw new Error('other_positions are only simulated for okx');
  if (!Array.isArray(v)) throw new Error('other_positions must be an array');
  return v.map((item: Record<string, unknown>) => {
    const instType = item['inst_type'] as OtherPosition['instType'];
    if (!OTHER_INST_TYPES.includes(instType))
      throw new Error(`other_positions: inst_type must be one of ${OTHER_INST_TYPES.join(', ')}`);
    const instId = item['inst_id'];
    if (typeof instId !== 'string' || !instId) throw new Error('other_positions: inst_id is required');
    return { instType, instId, pos: Number(item['pos'] ?? 1), avgPx: Number(item['avg_px'] ?? 1) };
  });
}

function nonNegative(v: unknown, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number >= 0`);
  return n;
}

export function handleControl(sim: ControlSim, req: SimRequest): Reply {
  const { method } = req;
  const path = req.path.replace(/\/+$/, '');
  const e = sim.engine;
  const body = parseBody(req);
  if (body === undefined) return bad('body must be a JSON object');
  try {
    if (method === 'GET' && path === '/_sim/health') return reply({ ok: true });
    const timed = handleTimeControl(sim, method, path, body);
    if (timed) return timed;
    if (method === 'POST' && path === '/_sim/reset') {
      e.reset();
      sim.faults.clear();
      sim.latencyMs = 0;
      if (sim.walkTimer) clearInterval(sim.walkTimer);
      sim.walkTimer = undefined;
      return reply({ ok: true });
    }
    if (method === 'POST' && path === '/_sim/accounts') {
      const a = createAccountFromJson(sim, body);
      return reply({ ok: true, account: accountView(sim, a) }, 201);
    }
    if (method === 'GET' && path === '/_sim/accounts') {
      return reply({
        ok: true,
        accounts: [...e.accounts.values()].map((a) => ({
          exchange: a.exchange,
          api_key: a.apiKey,
          testnet: a.testnet,
          position_mode: a.positionMode,
          wallet: a.wallet,
        })),
      });
    }
    const am = /^\/_sim\/accounts\/([^/]+)\/([^/]+)$/.exec(path);
    if (am && method === 'GET') {
      const a = e.account(exchangeOf(am[1]), decodeURIComponent(am[2] ?? ''));
      if (!a) return bad('unknown account', 404);
      return reply({ ok: true, account: accountView(sim, a) });
    }
    if (am && method === 'PATCH') {
      const a = e.account(exchangeOf(am[1]), decodeURIComponent(am[2] ?? ''));
      if (!a) return bad('unknown account', 404);
      if (body['balance'] !== undefined) a.wallet = Number(body['balance']);
      const pm = positionModeOf(body['position_mode']);
      if (pm) a.positionMode = pm;
      if (body['testnet'] !== undefined) a.testnet = body['testnet'] === true;
      const perms = permissionsOf(a.exchange, body['permissions']);
      if (perms) a.permissions = perms;
      if (body['acct_lv'] !== undefined) a.acctLv = acctLvOf(a.exchange, body['acct_lv']);
      if (body['bnb_balance'] !== undefined) a.bnbWallet = nonNegative(body['bnb_balance'], 'bnb_balance');
      if (body['maker_fee'] !== undefined) a.makerFee = Number(body['maker_fee']);
      if (body['other_positions'] !== undefined)
        a.otherPositions = otherPositionsOf(a.exchange, body['other_positions']);
      const lag = reportLagOf(body['report_lag']);
      if (lag) a.reportLag = lag;
      return reply({ ok: true, account: accountView(sim, a) });
    }
    if ((method === 'GET' && path === '/_sim/price') || (method === 'GET' && path === '/_sim/prices')) {
      return reply({ ok: true, prices: Object.fromEntries(e.prices) });
    }
    if (method === 'POST' && path === '/_sim/price') {
      const entries: Array<[string, number]> = [];
      if (body['prices'] && typeof body['prices'] === 'object') {
        for (const [k, v] of Object.entries(body['prices'] as Record<string, unknown>))
          entries.push([k, Number(v)]);
      } else {
        entries.push([String(body['symbol'] ?? ''), Number(body['price'])]);
      }
      for (const [sym, price] of entries) {
        const m = findMarket(sym);
        if (!m) return bad(`unknown symbol ${sym}`);
        if (!Number.isFinite(price) || price <= 0) return bad('price must be a positive number');
        e.setPrice(m.id, price);
      }
      return reply({ ok: true, prices: Object.fromEntries(e.prices) });
    }
    if (method === 'POST' && path === '/_sim/walk') {
      const symbols = Array.isArray(body['symbols'])
        ? (body['symbols'] as unknown[]).map((x) => findMarket(String(x))?.id).filter((x): x is string => !!x)
        : undefined;
      const vol = body['volatility'] === undefined ? undefined : Number(body['volatility']);
      let seed = Number(body['seed'] ?? 1);
      if (body['stop'] === true || body['interval_ms'] === 0) {
        if (sim.walkTimer) clearInterval(sim.walkTimer);
        sim.walkTimer = undefined;
        return reply({ ok: true, walking: false });
      }
      if (body['interval_ms'] !== undefined) {
        const ms = Number(body['interval_ms']);
        if (!Number.isFinite(ms) || ms < 10) return bad('interval_ms must be >= 10');
        if (sim.walkTimer) clearInterval(sim.walkTimer);
        sim.walkTimer = setInterval(() => {
          seed += 1;
          e.walk(1, seed, symbols, vol);
        }, ms);
        sim.walkTimer.unref();
        return reply({ ok: true, walking: true, interval_ms: ms });
      }
      const steps = Number(body['steps'] ?? 1);
      if (!Number.isInteger(steps) || steps < 0 || steps > 100_000)
        return bad('steps must be an integer in 0..100000');
      return reply({ ok: true, prices: e.walk(steps, seed, symbols, vol) });
    }
    if (method === 'GET' && path === '/_sim/orders') {
      const ex = req.query.get('exchange');
      const key = req.query.get('api_key');
      const since = req.query.get('since_ms');
      const list = e.orderLog
        .filter((x) => (!ex || x.exchange === exchangeOf(ex)) && (!key || x.apiKey === key))
        .map((x) => (x.kind === 'order' ? orderView(x.ref as Order) : algoView(x.ref as AlgoOrder)))
        .filter((x) => !since || Number(x['created_at']) >= Number(since));
      return reply({ ok: true, orders: list });
    }
    if (method === 'POST' && path === '/_sim/faults') {
      const f = sim.faults.add({
        exchange: body['exchange'] === undefined ? undefined : exchangeOf(body['exchange']),
        method: body['method'] as string | undefined,
        path: body['path'] as string | undefined,
        path_regex: body['path_regex'] as string | undefined,
        request_contains: body['request_contains'] as string | undefined,
        count: body['count'] === undefined ? 1 : Number(body['count']),
        kind: body['kind'] as FaultInput['kind'],
        latency_ms: body['latency_ms'] === undefined ? undefined : Number(body['latency_ms']),
        status: body['status'] === undefined ? undefined : Number(body['status']),
        code: body['code'] as number | string | undefined,
        msg: body['msg'] as string | undefined,
      });
      const { matcher: _m, ...view } = f;
      return reply({ ok: true, fault: view }, 201);
    }
    if (method === 'GET' && path === '/_sim/faults') return reply({ ok: true, faults: sim.faults.all() });
    if (method === 'DELETE' && path === '/_sim/faults') {
      sim.faults.clear();
      return reply({ ok: true });
    }
    if (method === 'POST' && path === '/_sim/latency') {
      const ms = Number(body['ms'] ?? 0);
      if (!Number.isFinite(ms) || ms < 0) return bad('ms must be >= 0');
      sim.latencyMs = ms;
      return reply({ ok: true, latency_ms: ms });
    }
    if (method === 'GET' && path === '/_sim/markets') {
      return reply({ ok: true, markets: MARKETS, prices: Object.fromEntries(e.prices) });
    }
  } catch (err) {
    return bad(err instanceof Error ? err.message : String(err));
  }
  return bad(`no route ${method} ${path}`, 404);
}
