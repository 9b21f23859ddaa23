import type { FillRow, OrderRow } from '@tradehook/db';
import type { SignalModel } from '@tradehook/db';
import { html, statusBadge, t, timeCell, type Html } from '../html.ts';
import { BASE } from '../layout.ts';

/** One row of the signals list (also pushed live over SSE, see events.ts). */
export function signalRow(s: SignalModel): Html {
  return html`<tr
    id="signal-${s.id}"
    data-signal-id="${s.id}"
    data-exchange="${s.exchange}"
    data-account="${s.accountId}"
    data-status="${s.status}"
  >
    <td>${timeCell(s.receivedAt)}</td>
    <td>${s.exchange}/${s.accountId}</td>
    <td>${s.symbol}</td>
    <td>${s.action}</td>
    <td class="status">${statusBadge(s.status)}</td>
    <td class="reason">${s.reason ?? ''}</td>
    <td><a href="${BASE}/signals/${s.id}" data-testid="trace-link">${t('추적', 'Trace')}</a></td>
  </tr>`;
}

export const SIGNAL_TABLE_HEAD = html`<tr>
  <th>${t('시각', 'Time')}</th>
  <th>${t('계정', 'Account')}</th>
  <th>${t('심볼', 'Symbol')}</th>
  <th>${t('동작', 'Action')}</th>
  <th>${t('상태', 'Status')}</th>
  <th>${t('사유', 'Reason')}</th>
  <th></th>
</tr>`;

function since(from: Date | null, to: Date | null): string {
  if (!from || !to) return '';
  return `+${to.getTime() - from.getTime()} ms`;
}

const num = (v: number | null) => (v === null ? '—' : String(v));

/** The signal's life, step by step, with the time each step took from the previous one. */
export function traceSteps(s: SignalModel): Html {
  const steps: Array<{ label: Html; at: Date | null; prev: Date | null; note: Html | string }> = [
    {
      label: t('수신', 'Received'),
      at: s.receivedAt,
      prev: null,
      note: `request ${s.requestId ?? '—'} from ${s.sourceIp ?? '—'}`,
    },
    {
      label: t('리스크 판단', 'Risk decided'),
      at: s.riskDecidedAt,
      prev: s.receivedAt,
      note: s.riskDecidedAt ? (s.status === 'rejected' ? `rejected: ${s.reason ?? ''}` : 'approved') : '',
    },
    {
      label: t('순서 게이트', 'Ordering gate'),
      at: s.execStartedAt,
      prev: s.riskDecidedAt,
      note: `key ${s.seqKey} #${String(s.seq)}`,
    },
    {
      label: t('완료', 'Completed'),
      at: s.completedAt,
      prev: s.execStartedAt ?? s.riskDecidedAt,
      note: html`${statusBadge(s.status)} ${s.reason ?? ''}`,
    },
  ];
  return html`<ol class="trace" data-testid="trace">
    ${steps.map(
      (step) =>
        html`<li class="${step.at ? 'done' : 'todo'}">
          <strong>${step.label}</strong> ${timeCell(step.at)}
          <span class="muted">${since(step.prev, step.at)}</span>
          <div>${step.note}</div>
        </li>`,
    )}
  </ol>`;
}

export function orderLegs(orders: OrderRow[], fills: FillRow[]): Html {
  if (orders.length === 0) return html`<p class="muted">${t('주문 없음', 'No orders')}</p>`;
  return html`${orders.map((o) => {
    const legFills = fills.filter(
      (f) =>
        f.clientOrderId === o.clientOrderId ||
        (o.exchangeOrderId !== null && f.exchangeOrderId === o.exchangeOrderId),
    );
    return html`<section class="card leg" data-testid="order-leg" data-leg="${o.leg}">
      <h3>${o.leg} · ${o.side} ${o.type}${o.reduceOnly ? ' reduce-only' : ''} ${statusBadge(o.status)}</h3>
      <dl class="grid">
        <dt>${t('수량', 'Amount')}</dt>
        <dd>${num(o.amount)} (${t('거래소', 'exchange')} ${num(o.exchangeAmount)})</dd>
        <dt>${t('체결', 'Filled')}</dt>
        <dd>${num(o.filledAmount)} @ ${num(o.averagePrice)}</dd>
        <dt>${t('트리거', 'Trigger')}</dt>
        <dd>${num(o.triggerPrice)}</dd>
        <dt>${t('거래소 응답', 'Exchange answer')}</dt>
        <dd data-testid="exchange-answer">
          ${o.exchangeOrderId ? `order ${o.exchangeOrderId}` : '—'} ${o.error ? html`<b>${o.error}</b>` : ''}
        </dd>
        <dt>${t('전송', 'Sent')}</dt>
        <dd>${timeCell(o.sentAt)}</dd>
        <dt>client id</dt>
        <dd><code>${o.clientOrderId}</code></dd>
      </dl>
      ${
        legFills.length
          ? html`<table class="fills" data-testid="fills">
              <tr>
                <th>${t('체결 시각', 'Fill time')}</th>
                <th>${t('가격', 'Price')}</th>
                <th>${t('수량', 'Amount')}</th>
                <th>${t('수수료', 'Fee')}</th>
                <th>${t('실현손익', 'Realised PnL')}</th>
              </tr>
              ${legFills.map(
                (f) =>
                  html`<tr>
                    <td>${timeCell(f.time)}</td>
                    <td>${f.price}</td>
                    <td>${f.amount}</td>
                    <td>${f.fee} ${f.feeAsset ?? ''}</td>
                    <td>${f.realizedPnl}</td>
                  </tr>`,
              )}
            </table>`
          : html`<p class="muted">${t('기록된 체결 없음', 'No fills recorded')}</p>`
      }
    </section>`;
  })}`;
}
