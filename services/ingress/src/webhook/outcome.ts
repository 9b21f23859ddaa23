import type { SignalStatusRow } from '@tradehook/db';
import type { Response } from 'express';
import { sendError } from '../http-errors.ts';

export function statusUrl(signalId: string): string {
  return `/api/v1/signals/${signalId}`;
}

/** The 202 answer: accepted and queued (or still running when a `?wait` ran out). */
export function sendAccepted(
  res: Response,
  s: { id: string; status: string; account_id: string; exchange: string; action: string; symbol: string },
): void {
  res.status(202).json({
    success: true,
    message: 'Signal accepted',
    signal_id: s.id,
    status: s.status,
    status_url: statusUrl(s.id),
    account_id: s.account_id,
    exchange: s.exchange,
    action: s.action,
    symbol: s.symbol,
  });
}

/**
 * `?wait` answers in the guide's shape once the signal is terminal:
 * executed → 200 `{success:true, message:'LONG order executed on binance', order_details}`;
 * ignored (e.g. a close with no position) → 200 success with the reason;
 * rejected by risk → 422 `signal_rejected`; failed at the exchange → 422 `order_failed` (a resend cannot help,
 * so no 5xx); not terminal yet → 202.
 */
export function sendOutcome(res: Response, row: SignalStatusRow): void {
  const base = { signal_id: row.id, status: row.status, status_url: statusUrl(row.id) };
  switch (row.status) {
    case 'executed':
      res.status(200).json({
        success: true,
        message: `${row.action.toUpperCase()} order executed on ${row.exchange}`,
        ...base,
        order_details: row.result,
      });
      return;
    case 'ignored':
      res.status(200).json({
        success: true,
        message: `Signal ignored: ${row.reason ?? 'nothing to do'}`,
        ...base,
        reason: row.reason,
        order_details: row.result,
      });
      return;
    case 'rejected':
      sendError(res, 'signal_rejected', row.reason ?? 'rejected by risk limits', undefined, base);
      return;
    case 'failed':
      sendError(res, 'order_failed', row.reason ?? 'order failed', undefined, {
        ...base,
        order_details: row.result,
      });
      return;
    default:
      sendAccepted(res, row);
  }
}
