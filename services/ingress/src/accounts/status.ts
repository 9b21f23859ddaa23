import { accountStatusSchema, type AccountStatus, type Exchange } from '@tradehook/contracts';
import type { IngressDeps } from '../deps.ts';
import { ApiError } from '../http-errors.ts';
import { askWorker } from './worker-requests.ts';

/**
 * Balance, positions and open orders of a registered account, as a worker reads them from the exchange
 * (admin API and dashboard). Throws ApiError timeout / exchange_error when no usable answer comes.
 */
export async function fetchAccountStatus(
  deps: IngressDeps,
  exchange: Exchange,
  accountId: string,
  requestId: string,
): Promise<AccountStatus> {
  const reply = await askWorker(deps, exchange, 'status', accountId, requestId);
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
  return status.data;
}
