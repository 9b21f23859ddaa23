import type { OrderJob } from '@tradehook/contracts';
import type { OrderDetails } from './execution/executor.ts';

interface OrderSummary {
  side?: unknown;
  amount?: unknown;
  filled?: unknown;
  average_price?: unknown;
}

/**
 * What the "signal finished" line says about the trade: the symbol, and for an entry or a close the side,
 * size (filled, else ordered) and average price of its main order (the entry, or the one closing order) —
 * so the log alone tells what was done.
 */
export function finishedFields(job: OrderJob, result: OrderDetails | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    action: job.signal.action,
    symbol: result?.symbols ? result.symbols : job.signal.symbol,
  };
  const results = result?.results ?? {};
  const closed = Array.isArray(results['closed']) ? (results['closed'] as OrderSummary[]) : [];
  const main = (results['entry'] ?? (closed.length === 1 ? closed[0] : undefined)) as
    OrderSummary | undefined;
  if (main && typeof main === 'object') {
    fields.side = main.side;
    fields.size = main.filled ?? main.amount;
    fields.price = main.average_price;
  }
  return fields;
}
