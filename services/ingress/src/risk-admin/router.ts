import {
  accountIdSchema,
  exchangeSchema,
  fieldIssues,
  haltRequestSchema,
  MONEY_DECIMALS,
  issueSummary,
  riskLimitsPatchSchema,
  roundDecimals,
  riskLimitsPutSchema,
  type Exchange,
  type RiskLimitsFields,
} from '@tradehook/contracts';
import {
  findAccountRisk,
  getGlobalHalt,
  patchRiskLimits,
  replaceRiskLimits,
  setAccountTradingEnabled,
  setGlobalHalt,
  type AccountRisk,
} from '@tradehook/db';
import type { Logger } from '@tradehook/logger';
import {
  EMPTY_RISK_LIMITS,
  effectiveLimits,
  lossBudgetToday,
  parseRiskDefaults,
  type EffectiveLimits,
  type RiskDefaults,
} from '@tradehook/risk';
import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { IngressDeps } from '../deps.ts';
import { ApiError } from '../http-errors.ts';
import { adminGuard } from '../admin-guard.ts';

export interface RiskAdminOptions {
  /** Global limit defaults (the risk service's env); read from the environment when not given. */
  defaults?: RiskDefaults;
  /** Clock (epoch ms) for "today". */
  now?: () => number;
}

const ACCOUNT = '/api/v1/accounts/:exchange/:account_id';

/** 422 with every issue, so a bad limits body says all that is wrong at once. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError('malformed', 'a JSON object body is required (Content-Type: application/json)');
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    // Details say `field` here (the API's first shape for limits; clients read it).
    const details = fieldIssues(result.error, { root: '(body)' }).map((i) => ({
      field: i.path,
      message: i.message,
    }));
    throw new ApiError(
      'validation_failed',
      `invalid limits: ${issueSummary(result.error, { root: '(body)' })}`,
      details,
    );
  }
  return result.data;
}

function accountKey(req: Request): { exchange: Exchange; accountId: string } {
  const exchange = exchangeSchema.safeParse(req.params.exchange);
  const accountId = accountIdSchema.safeParse(req.params.account_id);
  if (!exchange.success) throw new ApiError('malformed', 'exchange must be binance or okx');
  if (!accountId.success)
    throw new ApiError('malformed', accountId.error.issues[0]?.message ?? 'bad account_id');
  return { exchange: exchange.data, accountId: accountId.data };
}

function effectiveView(e: EffectiveLimits) {
  return {
    max_leverage: e.maxLeverage,
    leverage_policy: e.leveragePolicy,
    daily_loss_cap: e.dailyLossCap,
    max_position_notional: e.maxPositionNotional,
    max_open_positions: e.maxOpenPositions,
    symbol_allow_list: e.symbolAllowList,
    trading_enabled: e.tradingEnabled,
    timezone: e.timezone,
  };
}

/**
 * Admin API of the risk limits (same bearer token as the rest of the admin API): per-account limits
 * (read, replace, patch), global and per-account halt/resume, and today's realised PnL with the loss budget
 * left. Exits are never blocked by any of these (docs/decisions/0004-risk-never-blocks-an-exit.md).
 */
export function createRiskAdminRouter(deps: IngressDeps, options: RiskAdminOptions = {}): Router {
  const defaults = options.defaults ?? parseRiskDefaults(process.env);
  const now = options.now ?? Date.now;
  const db = deps.pgPool;
  const guard = adminGuard(deps);
  const router = Router();

  async function account(req: Request): Promise<AccountRisk> {
    const { exchange, accountId } = accountKey(req);
    const found = await findAccountRisk(db, exchange, accountId);
    if (!found) throw new ApiError('account_not_found', `account "${accountId}" on ${exchange} not found`);
    return found;
  }

  function limitsView(a: AccountRisk) {
    const stored: RiskLimitsFields = a.limits ?? EMPTY_RISK_LIMITS;
    return {
      success: true,
      account_id: a.accountId,
      exchange: a.exchange,
      /** As stored: null = the global default applies. */
      limits: stored,
      /** What risk enforces now. */
      effective: effectiveView(effectiveLimits(a.limits, defaults)),
    };
  }

  const log = (res: Response): Logger => (res.locals.logger as Logger | undefined) ?? deps.logger;

  router.get(`${ACCOUNT}/limits`, ...guard, async (req, res) => {
    res.json(limitsView(await account(req)));
  });

  router.put(`${ACCOUNT}/limits`, ...guard, async (req, res) => {
    const a = await account(req);
    const fields = parseBody(riskLimitsPutSchema, req.body);
    await replaceRiskLimits(db, a.accountRowId, fields);
    log(res).info('risk limits replaced', { exchange: a.exchange, accountId: a.accountId, limits: fields });
    res.json(limitsView((await findAccountRisk(db, a.exchange, a.accountId)) ?? a));
  });

  router.patch(`${ACCOUNT}/limits`, ...guard, async (req, res) => {
    const a = await account(req);
    const patch = parseBody(riskLimitsPatchSchema, req.body);
    await patchRiskLimits(db, a.accountRowId, patch);
    log(res).info('risk limits changed', { exchange: a.exchange, accountId: a.accountId, changes: patch });
    res.json(limitsView((await findAccountRisk(db, a.exchange, a.accountId)) ?? a));
  });

  for (const action of ['halt', 'resume'] as const) {
    router.post(`${ACCOUNT}/${action}`, ...guard, async (req, res) => {
      const a = await account(req);
      const { reason } = parseBody(haltRequestSchema, req.body ?? {});
      await setAccountTradingEnabled(db, a.accountRowId, action === 'resume');
      deps.notifications.emit({
        kind: 'kill_switch',
        at: now(),
        exchange: a.exchange,
        accountId: a.accountId,
        on: action === 'halt',
        reason: reason ?? null,
      });
      log(res).warn(`account trading ${action === 'halt' ? 'halted' : 'resumed'}`, {
        exchange: a.exchange,
        accountId: a.accountId,
        reason,
      });
      res.json({
        success: true,
        message:
          action === 'halt'
            ? `Trading halted for ${a.exchange} account ${a.accountId}: new entries are rejected, exits still run`
            : `Trading resumed for ${a.exchange} account ${a.accountId}`,
        account_id: a.accountId,
        exchange: a.exchange,
        trading_enabled: action === 'resume',
      });
    });
  }

  const money = (n: number) => roundDecimals(n, MONEY_DECIMALS);
  router.get(`${ACCOUNT}/pnl/today`, ...guard, async (req, res) => {
    const a = await account(req);
    const limits = effectiveLimits(a.limits, defaults);
    const budget = await lossBudgetToday(db, a.exchange, a.accountId, limits, now());
    res.json({
      success: true,
      account_id: a.accountId,
      exchange: a.exchange,
      day: budget.window.day,
      timezone: budget.window.timeZone,
      from: budget.window.start.toISOString(),
      to: budget.window.end.toISOString(),
      // Quote-asset amounts to MONEY_DECIMALS (the exchanges' precision), without float noise.
      realized_pnl: money(budget.pnl.realizedPnl),
      fees: money(budget.pnl.fees),
      /** Funding payments (positive = received). */
      funding: money(budget.pnl.funding),
      /** realized_pnl − fees + funding: what the daily loss cap is compared with. */
      net_pnl: money(budget.pnl.netPnl),
      fill_count: budget.pnl.fillCount,
      daily_loss_cap: budget.dailyLossCap,
      remaining_loss_budget: budget.remaining === null ? null : money(budget.remaining),
      entries_blocked: budget.entriesBlocked,
    });
  });

  router.get('/api/v1/risk/halt', ...guard, async (_req, res) => {
    const halt = await getGlobalHalt(db);
    res.json({ success: true, halted: halt.halted, reason: halt.reason ?? null, since: halt.since ?? null });
  });

  router.post('/api/v1/risk/halt', ...guard, async (req, res) => {
    const { reason } = parseBody(haltRequestSchema, req.body ?? {});
    const since = new Date(now()).toISOString();
    await setGlobalHalt(db, { halted: true, reason: reason ?? null, since });
    deps.notifications.emit({ kind: 'kill_switch', at: now(), on: true, reason: reason ?? null });
    log(res).warn('trading halted globally', { reason });
    res.json({
      success: true,
      message: 'Trading halted for all accounts: new entries are rejected, exits still run',
      halted: true,
      reason: reason ?? null,
      since,
    });
  });

  router.post('/api/v1/risk/resume', ...guard, async (_req, res) => {
    await setGlobalHalt(db, { halted: false, reason: null, since: null });
    deps.notifications.emit({ kind: 'kill_switch', at: now(), on: false, reason: null });
    log(res).warn('trading resumed globally');
    res.json({ success: true, message: 'Trading resumed for all accounts', halted: false });
  });

  return router;
}
