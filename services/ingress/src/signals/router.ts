import { exchangeSchema, SIGNAL_STATUSES } from '@tradehook/contracts';
import { z } from 'zod';
import type { OrderModel, SignalModel } from '@tradehook/db';
import { Router } from 'express';
import type { IngressDeps } from '../deps.ts';
import { ApiError, validationFailed } from '../http-errors.ts';
import { adminGuard } from '../admin-guard.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const dec = (d: { toString(): string } | null) => (d === null ? null : d.toString());

function signalView(s: SignalModel) {
  return {
    id: s.id,
    exchange: s.exchange,
    account_id: s.accountId,
    action: s.action,
    symbol: s.symbol,
    status: s.status,
    reason: s.reason,
    payload: s.payload,
    result: s.result,
    seq_key: s.seqKey,
    seq: Number(s.seq),
    request_id: s.requestId,
    source_ip: s.sourceIp,
    received_at: iso(s.receivedAt),
    risk_decided_at: iso(s.riskDecidedAt),
    exec_started_at: iso(s.execStartedAt),
    completed_at: iso(s.completedAt),
  };
}

function orderView(o: OrderModel) {
  return {
    id: o.id,
    client_order_id: o.clientOrderId,
    exchange_order_id: o.exchangeOrderId,
    leg: o.leg,
    symbol: o.symbol,
    side: o.side,
    position_side: o.positionSide,
    type: o.type,
    reduce_only: o.reduceOnly,
    amount: dec(o.amount),
    exchange_amount: dec(o.exchangeAmount),
    filled_amount: dec(o.filledAmount),
    average_price: dec(o.averagePrice),
    trigger_price: dec(o.triggerPrice),
    status: o.status,
    error: o.error,
    sent_at: iso(o.sentAt),
    created_at: iso(o.createdAt),
  };
}

/** Every filter is optional (the guide's `?status=failed` and `?account_id=…` stand alone). */
export const signalListQuerySchema = z.object({
  exchange: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), exchangeSchema).optional(),
  account_id: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(SIGNAL_STATUSES).optional(),
});

/** Opaque page cursor: the (received_at, id) of the last row of the previous page. */
function encodeCursor(s: SignalModel): string {
  return Buffer.from(`${s.receivedAt.toISOString()}|${s.id}`).toString('base64url');
}
function decodeCursor(cursor: string): { receivedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const receivedAt = new Date(at ?? '');
  if (!id || Number.isNaN(receivedAt.getTime()) || !z.uuid().safeParse(id).success) {
    throw new ApiError('validation_failed', 'cursor is not valid');
  }
  return { receivedAt, id };
}

export type SignalListQuery = z.infer<typeof signalListQuerySchema>;

/** One page of signals, newest first, with the cursor of the next page (admin API and dashboard). */
export async function listSignals(
  deps: IngressDeps,
  q: SignalListQuery,
): Promise<{ page: SignalModel[]; nextCursor: string | null }> {
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const rows = await deps.prisma.signal.findMany({
    where: {
      ...(q.exchange ? { exchange: q.exchange } : {}),
      ...(q.account_id ? { accountId: q.account_id } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(after
        ? {
            OR: [
              { receivedAt: { lt: after.receivedAt } },
              { receivedAt: after.receivedAt, id: { lt: after.id } },
            ],
          }
        : {}),
    },
    orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
    take: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > q.limit && last ? encodeCursor(last) : null };
}

/**
 * Signal look-ups (admin): `GET /api/v1/signals/:id` — the row (status, risk decision and reason, result)
 * with its orders; `GET /api/v1/signals?exchange=&account_id=&limit=&cursor=&status=` — newest first, paged.
 */
export function createSignalsRouter(deps: IngressDeps): Router {
  const router = Router();
  const admin = adminGuard(deps);

  router.get('/api/v1/signals', ...admin, async (req, res) => {
    const parsed = signalListQuerySchema.safeParse(req.query);
    if (!parsed.success) {
      throw validationFailed(parsed.error);
    }
    const { page, nextCursor } = await listSignals(deps, parsed.data);
    res.json({
      success: true,
      signals: page.map(signalView),
      next_cursor: nextCursor,
    });
  });

  router.get('/api/v1/signals/:id', ...admin, async (req, res) => {
    const id = String(req.params.id);
    if (!z.uuid().safeParse(id).success) throw new ApiError('not_found', 'Signal not found');
    const signal = await deps.prisma.signal.findUnique({
      where: { id },
      include: { orders: { orderBy: { createdAt: 'asc' } } },
    });
    if (!signal) throw new ApiError('not_found', 'Signal not found');
    res.json({ success: true, signal: { ...signalView(signal), orders: signal.orders.map(orderView) } });
  });
  return router;
}
