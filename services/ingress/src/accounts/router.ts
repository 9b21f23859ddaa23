import type { Exchange } from '@tradehook/contracts';
import { Router, type Request, type Response } from 'express';
import { accountView, findAccount, parseExchange, registerAccount } from './register.ts';
import { fetchAccountStatus } from './status.ts';
import type { IngressDeps } from '../deps.ts';
import { ApiError } from '../http-errors.ts';
import { requestIdOf, requestLogger } from '../request-context.ts';
import { adminGuard } from '../admin-guard.ts';

/** `?exchange=` given, or the only exchange on which this account id exists. */
async function resolveExchange(deps: IngressDeps, req: Request, accountId: string): Promise<Exchange> {
  if (req.query.exchange !== undefined) return parseExchange(req.query.exchange);
  const rows = await deps.prisma.account.findMany({ where: { accountId }, select: { exchange: true } });
  if (rows.length === 0) throw new ApiError('account_not_found', 'Account not found');
  if (rows.length > 1)
    throw new ApiError('validation_failed', 'account exists on several exchanges: add ?exchange=');
  return rows[0]!.exchange;
}

/**
 * Admin API (Bearer ADMIN_TOKEN on every route):
 * - `POST /api/v1/accounts/{binance|okx}/register` — 201; an existing (exchange, account_id) → 409 unless
 *   `?replace=true` (or `PUT` on the same path), which rotates the keys/settings in place (200).
 * - `GET /api/v1/accounts/list`, `GET /api/v1/accounts/status/:account_id?exchange=` (balances: admin only),
 * - `DELETE /api/v1/accounts/:exchange/:account_id` and `DELETE /api/v1/accounts/:account_id?exchange=`.
 */
export function createAccountsRouter(deps: IngressDeps): Router {
  const router = Router();
  const admin = adminGuard(deps);

  const register = async (req: Request, res: Response) => {
    const answer = await registerAccount(deps, {
      exchange: parseExchange(req.params.exchange),
      body: req.body,
      replace: req.method === 'PUT' || req.query.replace === 'true',
      requestId: requestIdOf(res),
      logger: requestLogger(res),
    });
    res.status(answer.status).json(answer.body);
  };
  router.post('/api/v1/accounts/:exchange/register', ...admin, register);
  router.put('/api/v1/accounts/:exchange/register', ...admin, register);

  router.get('/api/v1/accounts/list', ...admin, async (_req, res) => {
    const rows = await deps.prisma.account.findMany({ orderBy: [{ exchange: 'asc' }, { accountId: 'asc' }] });
    res.json({ success: true, count: rows.length, accounts: rows.map(accountView) });
  });

  router.get('/api/v1/accounts/status/:account_id', ...admin, async (req, res) => {
    const accountId = String(req.params.account_id);
    const exchange = await resolveExchange(deps, req, accountId);
    if (!(await findAccount(deps, exchange, accountId)))
      throw new ApiError('account_not_found', 'Account not found');
    res.json(await fetchAccountStatus(deps, exchange, accountId, requestIdOf(res)));
  });

  const remove = async (exchange: Exchange, accountId: string, res: Response) => {
    const deleted = await deps.prisma.account.deleteMany({ where: { exchange, accountId } });
    deps.accountCache.invalidate(exchange, accountId);
    if (deleted.count === 0) throw new ApiError('account_not_found', 'Account not found');
    requestLogger(res).info('account deleted', { exchange, accountId });
    res.json({ success: true, message: 'Account deleted', account_id: accountId, exchange });
  };
  router.delete('/api/v1/accounts/:exchange/:account_id', ...admin, async (req, res) => {
    await remove(parseExchange(req.params.exchange), String(req.params.account_id), res);
  });
  router.delete('/api/v1/accounts/:account_id', ...admin, async (req, res) => {
    const accountId = String(req.params.account_id);
    await remove(await resolveExchange(deps, req, accountId), accountId, res);
  });
  return router;
}
