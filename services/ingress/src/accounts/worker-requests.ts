import type { AccountRequestJob, Exchange } from '@tradehook/contracts';
import type { IngressDeps } from '../deps.ts';
import { ApiError } from '../http-errors.ts';

export type WorkerReply =
  { kind: 'answer'; value: unknown } | { kind: 'timeout' } | { kind: 'error'; message: string };

/**
 * Request/reply with the exchange's workers over `account-requests-<exchange>`: the worker's job return value
 * is the answer. Ingress never talks to an exchange itself and never holds a decryptable key.
 */
export async function askWorker(
  deps: IngressDeps,
  exchange: Exchange,
  kind: AccountRequestJob['kind'],
  accountId: string,
  requestId: string,
): Promise<WorkerReply> {
  const data: AccountRequestJob = { kind, exchange, accountId, requestId };
  let job;
  try {
    job = await deps.queues.accountRequests[exchange].add(kind, data);
  } catch {
    throw new ApiError('queue_unavailable', 'queue unavailable, please retry');
  }
  try {
    const value: unknown = await job.waitUntilFinished(
      deps.accountRequestEvents[exchange],
      deps.config.ACCOUNT_REQUEST_TIMEOUT_MS,
    );
    return { kind: 'answer', value };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message.includes('timed out before finishing')) {
      // Nobody will read a late answer: withdraw the request if no worker has picked it up.
      await job.remove().catch(() => undefined);
      return { kind: 'timeout' };
    }
    return { kind: 'error', message };
  }
}
