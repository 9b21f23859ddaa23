import { randomUUID } from 'node:crypto';
import {
  exchangeSchema,
  keyCheckSchema,
  okxRegisterAccountSchema,
  registerAccountSchema,
  type Exchange,
  type KeyCheck,
} from '@tradehook/contracts';
import { credentialsAad, hashWebhookSecret, maskApiKey } from '@tradehook/credentials';
import { Prisma, type AccountModel as Account } from '@tradehook/db';
import type { Logger } from '@tradehook/logger';
import type { IngressDeps } from '../deps.ts';
import { ApiError, validationFailed } from '../http-errors.ts';
import { askWorker } from './worker-requests.ts';

const EXCHANGE_LABEL: Record<Exchange, string> = { binance: 'Binance', okx: 'OKX' };

/** Stored in accounts.key_check and shown in answers: the worker's check plus our verdict. */
type KeyCheckRecord =
  | ({ status: 'ok' | 'rejected' | 'warning' } & KeyCheck)
  | { status: 'pending' | 'error'; message: string; checkedAt: string };

export function parseExchange(value: unknown): Exchange {
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
export function keyCheckView(check: unknown): unknown {
  if (check === null || typeof check !== 'object' || Array.isArray(check)) return check;
  return Object.fromEntries(
    Object.entries(check).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

/** The listing/answer view of an account: never a secret, the API key masked. */
export function accountView(a: Account) {
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
    unprotected_policy: a.unprotectedPolicy,
    key_check: keyCheckView(a.keyCheck),
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}

export async function findAccount(
  deps: IngressDeps,
  exchange: Exchange,
  accountId: string,
): Promise<Account | null> {
  return deps.prisma.account.findUnique({ where: { exchange_accountId: { exchange, accountId } } });
}

export interface RegisterRequest {
  exchange: Exchange;
  /** The registration body, unparsed (validated here). */
  body: unknown;
  /** Rotate the keys/settings of an existing account instead of refusing with 409. */
  replace: boolean;
  requestId: string;
  logger: Logger;
}

export interface RegisterAnswer {
  status: 200 | 201;
  body: {
    success: true;
    message: string;
    account_id: string;
    exchange: Exchange;
    key_check: unknown;
  };
}

/**
 * Registers (or, with `replace`, rotates) an account: seals the keys for the workers, asks a worker to
 * check them and keeps the row only if the key is usable. Shared by the admin API and the dashboard, so
 * both apply the same checks. Throws ApiError on bad input, conflict or a refused key (nothing changed).
 */
export async function registerAccount(deps: IngressDeps, request: RegisterRequest): Promise<RegisterAnswer> {
  const { exchange, replace } = request;
  const schema = exchange === 'okx' ? okxRegisterAccountSchema : registerAccountSchema;
  const parsed = schema.safeParse(request.body ?? {});
  if (!parsed.success) throw validationFailed(parsed.error);
  const input = parsed.data;
  const logger = request.logger.child({ exchange, accountId: input.account_id });

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
    unprotectedPolicy: input.unprotected_policy ?? null,
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
  const reply = await askWorker(deps, exchange, 'verify', input.account_id, request.requestId);
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
  return {
    status: previous ? 200 : 201,
    body: {
      success: true,
      message: `${EXCHANGE_LABEL[exchange]} account ${previous ? 'updated' : 'registered'} successfully`,
      account_id: input.account_id,
      exchange,
      key_check: keyCheckView(keyCheck),
    },
  };
}
