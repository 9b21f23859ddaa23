import { UnrecoverableError, type Job } from 'bullmq';
import {
  accountRequestJobSchema,
  MONEY_DECIMALS,
  roundDecimals,
  type AccountStatus,
  type KeyCheck,
} from '@tradehook/contracts';
import { recordKeyCheck, type pg } from '@tradehook/db';
import { exchangeErrorMessage, withRequestPriority } from '@tradehook/exchange';
import type { Logger } from '@tradehook/logger';
import type { NotificationEmitter } from '@tradehook/notify';
import type { AccountRegistry } from '../accounts.ts';

export interface AccountRequestDeps {
  pool: pg.Pool;
  registry: AccountRegistry;
  logger: Logger;
  notifications?: NotificationEmitter;
}

/**
 * Request/reply for the ingress (which never talks to an exchange): `status` answers the guide's account
 * status shape, `verify` a key check, stored on the account with the detected position mode.
 */
export function createAccountRequestProcessor(deps: AccountRequestDeps) {
  return async function processAccountRequest(job: Job): Promise<AccountStatus | KeyCheck> {
    const parsed = accountRequestJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('malformed account request');
    const req = parsed.data;
    const log = deps.logger.child({ requestId: req.requestId, accountId: req.accountId, kind: req.kind });
    const account = await deps.registry.get(req.accountId);
    if (!account)
      throw new UnrecoverableError(`account ${req.accountId} is not registered on ${req.exchange}`);
    const { adapter } = account;
    try {
      await adapter.loadMarkets();
      if (req.kind === 'verify') {
        const check = await adapter.checkKey();
        await recordKeyCheck(deps.pool, req.exchange, req.accountId, check);
        const keyProblem = (reason: string) => ({
          at: Date.now(),
          exchange: req.exchange,
          accountId: req.accountId,
          reason,
        });
        if (!check.ok)
          deps.notifications?.emit({
            kind: 'key_problem',
            problem: 'check_failed',
            ...keyProblem(check.message ?? 'key check failed'),
          });
        // A newly registered (or rotated) key: this replica prepares the account in the background (position
        // mode, leverage brackets, and — one account, unlike the start-up pre-warm of all of them — its
        // streams), so its first alert does not pay for it. Others do on first use. Ranked 'status', not
        // 'sync': the first alert joins these reads (positionMode() is shared), so they must not queue behind
        // the background share a hundred accounts' snapshots keep full. The mode the check just read is kept.
        if (check.ok && check.positionMode) account.knowPositionMode(check.positionMode);
        if (check.ok)
          void Promise.all([
            withRequestPriority('status', () => account.prepare()),
            account.startLive(),
          ]).catch((err: unknown) =>
            log.debug('account prepare after key check failed', { error: String(err) }),
          );
        log.info('key checked', {
          ok: check.ok,
          positionMode: check.positionMode,
          canWithdraw: check.canWithdraw,
        });
        return check;
      }
      const [balance, positions, orders] = await Promise.all([
        adapter.fetchBalance(),
        adapter.fetchPositions().then((list) => adapter.withLeverage(list)),
        adapter.fetchOpenOrders(),
      ]);
      const money = (n: number) => roundDecimals(n, MONEY_DECIMALS);
      return {
        account_id: req.accountId,
        exchange: req.exchange,
        balance: {
          asset: balance.asset,
          available_balance: money(balance.free),
          total_balance: money(balance.total),
        },
        positions: positions.map((p) => ({
          symbol: p.symbol,
          side: p.side,
          contracts: p.contracts,
          amount: p.amount,
          entry_price: p.entryPrice,
          mark_price: p.markPrice,
          unrealized_pnl: p.unrealizedPnl,
          leverage: p.leverage,
        })),
        open_orders: orders.map((o) => ({
          id: o.id,
          client_order_id: o.clientOrderId,
          symbol: o.symbol,
          side: o.side,
          type: o.type,
          amount: o.amount,
          price: o.price,
          trigger_price: o.triggerPrice,
          reduce_only: o.reduceOnly,
        })),
      };
    } catch (err) {
      const message = exchangeErrorMessage(err);
      log.warn('account request failed', { error: message });
      if (req.kind === 'verify')
        deps.notifications?.emit({
          kind: 'key_problem',
          problem: 'check_failed',
          at: Date.now(),
          exchange: req.exchange,
          accountId: req.accountId,
          reason: message,
        });
      // The ingress shows this message; it never contains a secret (exchangeErrorMessage masks signatures).
      throw new UnrecoverableError(message);
    }
  };
}
