/**
 * A resting limit entry after its signal ended (docs/decisions/0025-limit-entries.md): every look (a stream
 * fill, the REST reconcile, the cancel-after) reads the order by client id, records it on the entry row and
 * brings the SL/TP up to the cumulative filled amount; at cancel-after the remainder is cancelled first. The
 * signal's `results.limit_entry` says how much filled.
 */
import { clientOrderId, type LimitEntryJob } from '@tradehook/contracts';
import { findOrdersBySignal, markOrdersCanceled, recordSignalFollowUp, type OrderRow } from '@tradehook/db';
import type { PositionSide } from '@tradehook/exchange';
import { newRow, planLegs, type Execution } from './context.ts';
import { protectFilled, readBooked, recordEntry } from './limit-entries.ts';
import { runLeg } from './order-legs.ts';
import { hasProtectionForm } from './protection.ts';
import { closingSide } from './views.ts';

const EPS = 1e-12;
/**
 * Resized protection goes under client-id parts 100, 200, … (generation × 100 + the leg's own part), so parts
 * 0–99 stay free for the legs of one generation (several take-profits).
 */
const GENERATION = 100;

function partOf(row: OrderRow, signalId: string): number {
  const base = clientOrderId(signalId, row.leg as 'stop_loss' | 'take_profit');
  return Number(row.clientOrderId.slice(base.length) || 0);
}

/** The newest generation of the signal's SL/TP rows (all of them, whatever their status). */
function latestProtection(rows: OrderRow[], signalId: string): { gen: number; rows: OrderRow[] } {
  const legs = rows.filter((r) => r.leg === 'stop_loss' || r.leg === 'take_profit');
  const gen = Math.max(-1, ...legs.map((r) => Math.floor(partOf(r, signalId) / GENERATION)));
  return { gen, rows: legs.filter((r) => Math.floor(partOf(r, signalId) / GENERATION) === gen) };
}

export interface FollowUpResult {
  state: 'resting' | 'filled' | 'expired' | 'canceled';
  filled: number;
  amount: number | null;
  protected_amount: number;
  canceled_remainder?: number;
  /** Why the filled part was closed again (protected or flat). */
  error?: string;
  at: string;
}

export async function followRestingEntry(
  x: Execution,
  data: LimitEntryJob,
  expire: boolean,
  /** False for a signal that did not end `executed`: its remainder is only cancelled at expiry. */
  protect = true,
): Promise<FollowUpResult | null> {
  const { signalId, signal } = x.job;
  const { adapter } = x.account;
  const rows = await findOrdersBySignal(x.pool, signalId);
  const entry = rows.find((r) => r.leg === 'entry');
  if (!entry) throw new Error(`signal ${signalId} has no entry row`);
  if (entry.status !== 'open') {
    // Cancelled by an exit: that exit closed what had filled, nothing is left to protect.
    if (entry.status === 'canceled' && (await canceledByExit(x, signalId))) return null;
    // Already over otherwise (filled): only protection still short of the fill is news.
    const { gen, rows: legs } = latestProtection(rows, signalId);
    const covered = Math.max(0, ...legs.map((r) => r.amount ?? 0));
    const wanted = gen >= 0 || hasProtectionForm(signal) || x.account.settings.autoSlTp;
    if (!wanted || (entry.filledAmount ?? 0) <= covered + EPS) return null;
  }
  if (expire && entry.status === 'open' && entry.exchangeOrderId) {
    await adapter.cancelOrder({ id: entry.exchangeOrderId, symbol: entry.symbol, conditional: false });
  }
  let info = await readBooked(x, entry, null, expire);
  await recordEntry(x, entry, info);
  let flattened: string | undefined;
  const filled = info.filled ?? 0;
  const latest = latestProtection(rows, signalId);
  let protectedAmount = Math.max(0, ...latest.rows.map((r) => r.amount ?? 0));
  if (protect && filled > protectedAmount + EPS) {
    if (latest.gen < 0) {
      // First fill after the signal ended: the usual path (levels from the fill price, protected or flat).
      const outcome = await protectFilled(
        x,
        rows,
        {},
        data.side,
        data.hedge,
        filled,
        info.average ?? signal.limit_price!,
      );
      if (outcome.status === 'failed') {
        // Flattened (its stop was refused): the rest of the order must not open the position again.
        flattened = outcome.reason ?? 'unprotected → flattened';
        if (info.status === 'open') {
          await adapter.cancelOrder({ id: info.id, symbol: entry.symbol, conditional: false });
          info = await readBooked(x, entry, null, true);
          await recordEntry(x, entry, info);
        }
      } else protectedAmount = filled;
    } else if (await resize(x, latest, data.side, data.hedge, filled, protectedAmount)) {
      protectedAmount = filled;
    }
  }
  const amount = info.amount ?? entry.amount;
  const done = info.status !== 'open';
  const result: FollowUpResult = {
    state: !done ? 'resting' : info.status === 'closed' ? 'filled' : expire ? 'expired' : 'canceled',
    filled,
    amount,
    protected_amount: protectedAmount,
    at: new Date().toISOString(),
  };
  if (done && info.status !== 'closed' && amount !== null) result.canceled_remainder = amount - filled;
  if (flattened) result.error = flattened;
  await recordSignalFollowUp(x.pool, signalId, 'limit_entry', result);
  x.log.info('limit entry followed', { symbol: entry.symbol, ...result });
  return result;
}

async function canceledByExit(x: Execution, signalId: string): Promise<boolean> {
  const { rows } = await x.pool.query<{ by: string | null }>(
    `SELECT result->'results'->'limit_entry'->>'canceled_by' AS by FROM signals WHERE id = $1`,
    [signalId],
  );
  return Boolean(rows[0]?.by);
}

/**
 * The SL/TP of the newest generation again for the cumulative `filled` (each leg scaled by filled / what it
 * covered), placed before the old ones are cancelled so the filled part is never without its stop. False when
 * a new leg was refused (the old generation stays; the next look tries again).
 */
async function resize(
  x: Execution,
  latest: { gen: number; rows: OrderRow[] },
  side: PositionSide,
  hedge: boolean,
  filled: number,
  covered: number,
): Promise<boolean> {
  const { adapter, settings } = x.account;
  const { signalId } = x.job;
  const live = latest.rows.filter((r) => r.status === 'open' && r.exchangeOrderId);
  if (live.length === 0) return false;
  const gen = latest.gen + 1;
  const planned = live.map((r) => {
    // A leg that covered everything covers everything again (no float drift for the precision to truncate).
    const own = r.amount ?? covered;
    const amount = Math.abs(own - covered) < EPS ? filled : (own * filled) / covered;
    const { exchangeAmount } = adapter.amountToPrecision(r.symbol, amount);
    const kind = r.leg as 'stop_loss' | 'take_profit';
    return newRow(x, {
      clientOrderId: clientOrderId(signalId, kind, gen * GENERATION + (partOf(r, signalId) % GENERATION)),
      leg: kind,
      symbol: r.symbol,
      side: closingSide(side),
      positionSide: hedge ? side : null,
      type: r.type,
      reduceOnly: true,
      amount,
      exchangeAmount,
      triggerPrice: r.triggerPrice,
    });
  });
  const rows = await planLegs(x, await findOrdersBySignal(x.pool, signalId), planned);
  const placed = await Promise.allSettled(
    planned.map((p) => {
      const row = rows.find((r) => r.clientOrderId === p.clientOrderId)!;
      return x.account.ownOrder(() =>
        runLeg(x.pool, adapter, row, true, () =>
          adapter.createConditionalOrder({
            kind: row.leg as 'stop_loss' | 'take_profit',
            symbol: row.symbol,
            side: closingSide(side),
            amount: row.amount ?? p.amount,
            clientOrderId: row.clientOrderId,
            reduceOnly: true,
            positionSide: hedge ? side : null,
            marginMode: settings.marginMode,
            triggerPrice: row.triggerPrice!,
          }),
        ),
      );
    }),
  );
  const refused = placed.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (refused) {
    x.log.warn('resized SL/TP not placed; the previous ones stay', { error: String(refused.reason) });
    return false;
  }
  await Promise.all(
    live.map((r) => adapter.cancelOrder({ id: r.exchangeOrderId!, symbol: r.symbol, conditional: true })),
  );
  await markOrdersCanceled(
    x.pool,
    x.job.signal.exchange,
    x.job.signal.account_id,
    live.map((r) => r.exchangeOrderId!),
  );
  return true;
}

/**
 * An exit of `side` first cancels our limit entries still resting to open that side (a remainder filling
 * after the close would open the position again), and records on each entry's signal how much had filled.
 */
export async function cancelRestingEntries(
  x: Execution,
  /** null (close_all): every symbol and side. */
  only: { symbol: string; side: PositionSide } | null,
): Promise<string[]> {
  const { signal } = x.job;
  const { rows } = await x.pool.query<{ signal_id: string; symbol: string }>(
    `SELECT signal_id, symbol FROM orders
      WHERE exchange = $1::"Exchange" AND account_id = $2 AND leg = 'entry' AND type = 'limit' AND status = 'open'
        AND ($3::text IS NULL OR (symbol = $3 AND side = $4 AND (position_side IS NULL OR position_side = $5)))`,
    [
      signal.exchange,
      signal.account_id,
      only?.symbol ?? null,
      only ? (only.side === 'long' ? 'buy' : 'sell') : null,
      only?.side ?? null,
    ],
  );
  const canceled: string[] = [];
  for (const { signal_id: entrySignal } of rows) {
    const entry = (await findOrdersBySignal(x.pool, entrySignal)).find((r) => r.leg === 'entry')!;
    if (!entry.exchangeOrderId) continue;
    await x.account.adapter.cancelOrder({
      id: entry.exchangeOrderId,
      symbol: entry.symbol,
      conditional: false,
    });
    const info = await readBooked(x, entry, null, true);
    await recordEntry(x, entry, info);
    await recordSignalFollowUp(x.pool, entrySignal, 'limit_entry', {
      state: 'canceled',
      filled: info.filled ?? 0,
      amount: info.amount,
      canceled_remainder: (info.amount ?? 0) - (info.filled ?? 0),
      canceled_by: x.job.signalId,
      at: new Date().toISOString(),
    });
    canceled.push(entry.exchangeOrderId);
  }
  return canceled;
}
