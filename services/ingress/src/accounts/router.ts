import { randomUUID } from 'node:crypto';
import {
  accountStatusSchema,
  exchangeSchema,
  keyCheckSchema,
  okxRegisterAccountSchema,
  registerAccountSchema,
  type Exchange,
  type KeyCheck,
} from '@tradehook/contracts';
import { credentialsAad, hashWebhookSecret, maskApiKey } from '@tradehook/credentials';
import { Prisma, type AccountModel as Account } from '@tradehook/db';
import { Router, type Request, type Response } from 'express';
import { askWorker } from './worker-requests.ts';
import type { IngressDeps } from '../deps.ts';
import { ApiError, validationFailed } from '../http-errors.ts';
import { requestIdOf, requestLogger } from '../request-context.ts';
import { adminGuard } from '../admin-guard.ts';

const EXCHANGE_LABEL: Record<Exchange, string> = { binance: 'Binance', okx: 'OKX' };

/** Stored in accounts.key_check and shown in answers: the worker's check plus our verdict. */
type KeyCheckRecord =
  | ({ status: 'ok' | 'rejected' | 'warning' } & KeyCheck)
  | { status: 'pending' | 'error'; message: string; checkedAt: string };

function parseExchange(value: unknown): Exchange {
  const parsed = exchangeSchema.safeParse(typeof value === 'string' ? value.toLowerCase() : value);
  if (!parsed.success) throw new ApiError('validation_failed', 'exchange must be binance or okx');
  return parsed.data;
}

/** A worker's refusal that makes the key unusable: withdrawal permission, failed auth, no trading right. */
function refusalReason(check: KeyCheck): string | null {
  if (check.ok) return null;
  if (check.canWithdraw === true) {
    return (
      check.message ?? 'the API key has withdrawal permission; create a key with trading permission only'
    );
  }
  if (!check.canRead) return check.message ?? 'the exchange rejected the API key (authentication failed)';
  if (check.canTrade === false) return check.message ?? 'the API key has no futures trading permission';
  return null;
}

/** The answer view of a stored key check: snake_case keys like the rest of the API (stored camelCase). */
function keyCheckView(check: unknown): unknown {
  if (check === null || typeof check !== 'object' || Array.isArray(check)) return check;
  return Object.fromEntries(
    Object.entries(check).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

/** The listing/answer view of an account: never a secret, the API key masked. */
function accountView(a: Account) {
  return {
    account_id: a.accountId,
    exchange: a.exchange,
    testnet: a.testnet,
    api_key: a.apiKeyMasked,
    has_webhook_secret: a.webhookSecretHash !== null,
    margin_mode: a.marginMode,
    default_leverage: a.defaultLeverage,
    allow_add: a.allowAdd,
    auto_sl_tp: a.autoSlTp,
    key_check: keyCheckView(a.keyCheck),
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}

async function findAccount(
  deps: IngressDeps,
  exchange: Exchange,
  accountId: string,
): Promise<Account | null> {
  return deps.prisma.account.findUnique({ where: { exchange_accountId: { exchange, accountId } } });
}

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
    const exchange = parseExchange(req.params.exchange);
    const replace = req.method === 'PUT' || req.query.replace === 'true';
    const schema = exchange === 'okx' ? okxRegisterAccountSchema : registerAccountSchema;
    const parsed = schema.safeParse(req.body ?? {});
    if (!parsed.success) throw validationFailed(parsed.error);
    const input = parsed.data;
    const logger = requestLogger(res).child({ exchange, accountId: input.account_id });

    const box = deps.sealer.seal(
      {
        apiKey: input.api_key,
        apiSecret: input.api_secret,
        ...(input.passphrase ? { passphrase: input.passphrase } : {}),
      },
      credentialsAad(exchange, input.account_id),
    );
    const fields = {
      testnet: input.testnet,
      apiKeyMasked: maskApiKey(input.api_key),
      credentials: new Uint8Array(box),
      credentialsKeyId: deps.sealer.keyId,
      webhookSecretHash: input.webhook_secret ? hashWebhookSecret(input.webhook_secret) : null,
      marginMode: input.margin_mode,
      defaultLeverage: input.default_leverage ?? null,
      allowAdd: input.allow_add,
      autoSlTp: input.auto_sl_tp,
      keyCheck: Prisma.DbNull,
    };

    const previous = await findAccount(deps, exchange, input.account_id);
    if (previous && !replace) {
      throw new ApiError(
        'conflict',
        'account already registered; use ?replace=true (or PUT) to rotate its keys',
      );
    }
    let row: Account;
    try {
      row = previous
        ? await deps.prisma.account.update({ where: { id: previous.id }, data: fields })
        : await deps.prisma.account.create({
            data: { id: randomUUID(), exchange, accountId: input.account_id, ...fields },
          });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        throw new ApiError('conflict', 'account already registered');
      }
      throw err;
    }
    deps.accountCache.invalidate(exchange, input.account_id);

    // Key check by a worker (it alone can open the credentials).
    const reply = await askWorker(deps, exchange, 'verify', input.account_id, requestIdOf(res));
    const now = new Date().toISOString();
    let keyCheck: KeyCheckRecord;
    if (reply.kind === 'timeout') {
      keyCheck = {
        status: 'pending',
        message: 'no worker answered; the key will be checked on first use',
        checkedAt: now,
      };
    } else if (reply.kind === 'error') {
      keyCheck = { status: 'error', message: `key check failed: ${reply.message}`, checkedAt: now };
    } else {
      const check = keyCheckSchema.safeParse(reply.value);
      if (!check.success) {
        keyCheck = {
          status: 'error',
          message: 'worker answered the key check in an unknown shape',
          checkedAt: now,
        };
      } else {
        const refusal = refusalReason(check.data);
        if (refusal) {
          // Refused: the row must not stay (or, for a rotation, the previous keys come back).
          if (previous) {
            const { id: _id, createdAt: _c, updatedAt: _u, ...restore } = previous;
            await deps.prisma.account.update({
              where: { id: previous.id },
              data: { ...restore, keyCheck: restore.keyCheck ?? Prisma.DbNull },
            });
          } else {
            await deps.prisma.account.delete({ where: { id: row.id } });
          }
          deps.accountCache.invalidate(exchange, input.account_id);
          logger.warn('account key refused by key check', { reason: refusal });
          throw new ApiError('key_rejected', refusal, {
            key_check: keyCheckView({ status: 'rejected', ...check.data }),
          });
        }
        keyCheck = { status: check.data.ok ? 'ok' : 'warning', ...check.data };
      }
    }
    row = await deps.prisma.account.update({ where: { id: row.id }, data: { keyCheck } });
    logger.info(previous ? 'account keys rotated' : 'account registered', { keyCheck: keyCheck.status });
    res.status(previous ? 200 : 201).json({
      success: true,
      message: `${EXCHANGE_LABEL[exchange]} account ${previous ? 'updated' : 'registered'} successfully`,
      account_id: input.account_id,
      exchange,
      key_check: keyCheckView(keyCheck),
    });
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
    const reply = await askWorker(deps, exchange, 'status', accountId, requestIdOf(res));
    if (reply.kind === 'timeout') {
      throw new ApiError(
        'timeout',
        `no ${exchange} worker answered within ${deps.config.ACCOUNT_REQUEST_TIMEOUT_MS} ms`,
      );
    }
    if (reply.kind === 'error') throw new ApiError('exchange_error', reply.message);
    const status = accountStatusSchema.safeParse(reply.value);
    if (!status.success)
      throw new ApiError('exchange_error', 'worker answered the status request in an unknown shape');
    res.json(status.data);
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
