import { EXCHANGES, SIGNAL_STATUSES } from '@tradehook/contracts';
import { findFillsOfOrders, findOrdersBySignal } from '@tradehook/db';
import type { Router } from 'express';
import { z } from 'zod';
import { ApiError } from '../../http-errors.ts';
import { listSignals, signalListQuerySchema } from '../../signals/router.ts';
import { html, t } from '../html.ts';
import { BASE, page } from '../layout.ts';
import { sendPage, type DashboardContext } from '../respond.ts';
import { sessionOf } from '../session.ts';
import { orderLegs, SIGNAL_TABLE_HEAD, signalRow, traceSteps } from './signal-views.ts';

function option(value: string, selected: string | undefined, label = value) {
  return html`<option value="${value}" ${value === selected ? html`selected` : html``}>${label}</option>`;
}

/** Signals: the live list with filters (GET form, so a filtered view is a bookmarkable URL) and each trace. */
export function signalsPages(router: Router, ctx: DashboardContext): void {
  const { deps } = ctx;

  router.get(`${BASE}/signals`, ...ctx.pages, async (req, res) => {
    // Empty filter fields from the form mean "any".
    const query = Object.fromEntries(Object.entries(req.query).filter(([, v]) => v !== ''));
    const parsed = signalListQuerySchema.safeParse(query);
    if (!parsed.success) {
      throw new ApiError(
        'validation_failed',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    }
    const q = parsed.data;
    const { page: rows, nextCursor } = await listSignals(deps, q);
    const next = nextCursor
      ? `${BASE}/signals?${new URLSearchParams({ ...(query as Record<string, string>), cursor: nextCursor }).toString()}`
      : null;
    const body = html`<h1>${t('신호', 'Signals')}</h1>
      <form method="get" action="${BASE}/signals" class="filters" data-testid="signal-filters">
        <select name="exchange">
          ${option('', q.exchange, 'exchange: any')}${EXCHANGES.map((e) => option(e, q.exchange))}
        </select>
        <input name="account_id" placeholder="account_id" value="${q.account_id ?? ''}" />
        <select name="status">
          ${option('', q.status, 'status: any')}${SIGNAL_STATUSES.map((s) => option(s, q.status))}
        </select>
        <button type="submit">${t('필터', 'Filter')}</button>
        <span class="live" data-testid="live-state">${t('실시간', 'Live')}</span>
      </form>
      <div class="table-wrap">
        <table
          class="signals"
          data-testid="signals-table"
          data-live="${q.cursor ? 'off' : 'on'}"
          data-filter-exchange="${q.exchange ?? ''}"
          data-filter-account="${q.account_id ?? ''}"
          data-filter-status="${q.status ?? ''}"
        >
          <thead>
            ${SIGNAL_TABLE_HEAD}
          </thead>
          <tbody>
            ${rows.map(signalRow)}
          </tbody>
        </table>
      </div>
      ${rows.length === 0 ? html`<p class="muted empty">${t('신호 없음', 'No signals yet')}</p>` : html``}
      ${next ? html`<p><a href="${next}">${t('이전 신호', 'Older')} →</a></p>` : html``}`;
    sendPage(res, page({ title: 'Signals', active: 'signals', csrf: sessionOf(res).csrf, body }));
  });

  router.get(`${BASE}/signals/:id`, ...ctx.pages, async (req, res) => {
    const id = String(req.params.id);
    if (!z.uuid().safeParse(id).success) throw new ApiError('not_found', 'Signal not found');
    const signal = await deps.prisma.signal.findUnique({ where: { id } });
    if (!signal) throw new ApiError('not_found', 'Signal not found');
    const orders = await findOrdersBySignal(deps.pgPool, id);
    const fills = await findFillsOfOrders(deps.pgPool, signal.exchange, signal.accountId, orders);
    const body = html`<h1 data-signal-id="${signal.id}" data-status="${signal.status}" id="signal-detail">
        ${signal.action} ${signal.symbol} · ${signal.exchange}/${signal.accountId}
      </h1>
      ${traceSteps(signal)}
      <h2>${t('주문 구간', 'Order legs')}</h2>
      ${orderLegs(orders, fills)}
      <details>
        <summary>${t('원본 알림과 결과', 'Alert payload and result')}</summary>
        <pre>${JSON.stringify({ payload: signal.payload, result: signal.result }, null, 2)}</pre>
      </details>`;
    sendPage(res, page({ title: 'Signal', active: 'signals', csrf: sessionOf(res).csrf, body }));
  });
}
