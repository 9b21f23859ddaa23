import type { AccountStatus } from '@tradehook/contracts';
import type { EffectiveLimits } from '@tradehook/risk';
import { html, money, t, type Html } from '../html.ts';
import { csrfField } from '../layout.ts';

const num = (v: number | null) => (v === null ? '—' : String(v));

/** Protective orders of a position: reduce-only trigger orders on its symbol, on the closing side. */
function protection(status: AccountStatus, symbol: string, side: 'long' | 'short'): Html {
  const closing = side === 'long' ? 'sell' : 'buy';
  const orders = status.open_orders.filter(
    (o) => o.symbol === symbol && o.trigger_price !== null && o.side.toLowerCase() === closing,
  );
  if (orders.length === 0)
    return html`<b class="neg" data-testid="unprotected">${t('보호 없음', 'unprotected')}</b>`;
  return html`${orders.map((o) => html`<span class="badge">${o.type} @ ${num(o.trigger_price)}</span> `)}`;
}

/** Balance, positions (with their SL/TP) and open orders as the worker read them; or why it could not. */
export function statusCards(status: AccountStatus | string): Html {
  if (typeof status === 'string') {
    return html`<section class="card">
      <h2>${t('거래소 상태', 'Exchange state')}</h2>
      <p class="flash flash-error" data-testid="status-error">${status}</p>
    </section>`;
  }
  return html`<section class="card" data-testid="balance">
      <h2>${t('잔고', 'Balance')}</h2>
      <p>
        ${money(status.balance.total_balance)} ${status.balance.asset}
        <span class="muted">(${t('가용', 'available')} ${money(status.balance.available_balance)})</span>
      </p>
    </section>
    <section class="card">
      <h2>${t('포지션', 'Positions')}</h2>
      <div class="table-wrap">
        <table data-testid="positions">
          <tr>
            <th>${t('심볼', 'Symbol')}</th>
            <th>${t('방향', 'Side')}</th>
            <th>${t('수량', 'Amount')}</th>
            <th>${t('진입가', 'Entry')}</th>
            <th>${t('마크', 'Mark')}</th>
            <th>${t('미실현', 'Unrealised')}</th>
            <th>SL / TP</th>
          </tr>
          ${status.positions.map(
            (p) =>
              html`<tr>
                <td>${p.symbol}</td>
                <td>${p.side}</td>
                <td>${p.amount}</td>
                <td>${num(p.entry_price)}</td>
                <td>${num(p.mark_price)}</td>
                <td>${num(p.unrealized_pnl)}</td>
                <td>${protection(status, p.symbol, p.side)}</td>
              </tr>`,
          )}
        </table>
      </div>
    </section>
    <section class="card">
      <h2>${t('미체결 주문', 'Open orders')}</h2>
      <div class="table-wrap">
        <table data-testid="open-orders">
          <tr>
            <th>${t('심볼', 'Symbol')}</th>
            <th>${t('방향', 'Side')}</th>
            <th>${t('유형', 'Type')}</th>
            <th>${t('수량', 'Amount')}</th>
            <th>${t('가격/트리거', 'Price / trigger')}</th>
            <th>reduce-only</th>
          </tr>
          ${status.open_orders.map(
            (o) =>
              html`<tr>
                <td>${o.symbol}</td>
                <td>${o.side}</td>
                <td>${o.type}</td>
                <td>${num(o.amount)}</td>
                <td>${num(o.price)} / ${num(o.trigger_price)}</td>
                <td>${o.reduce_only ? 'yes' : 'no'}</td>
              </tr>`,
          )}
        </table>
      </div>
    </section>`;
}

/** The limits risk enforces for the account, and its halt/resume switch. */
export function limitsCard(limits: EffectiveLimits, csrf: string, accountPath: string): Html {
  const action = limits.tradingEnabled ? 'halt' : 'resume';
  return html`<section class="card ${limits.tradingEnabled ? '' : 'halted'}" data-testid="limits">
    <h2>${t('한도와 중지', 'Limits and halt')}</h2>
    <dl class="grid">
      <dt>${t('거래', 'Trading')}</dt>
      <dd data-testid="trading-state">${limits.tradingEnabled ? 'enabled' : 'halted'}</dd>
      <dt>${t('최대 레버리지', 'Max leverage')}</dt>
      <dd>${limits.maxLeverage} (${limits.leveragePolicy})</dd>
      <dt>${t('일일 손실 한도', 'Daily loss cap')}</dt>
      <dd>${num(limits.dailyLossCap)}</dd>
      <dt>${t('최대 포지션 명목가', 'Max position notional')}</dt>
      <dd>${num(limits.maxPositionNotional)}</dd>
      <dt>${t('최대 포지션 수', 'Max open positions')}</dt>
      <dd>${num(limits.maxOpenPositions)}</dd>
      <dt>${t('허용 심볼', 'Symbol allow-list')}</dt>
      <dd>${limits.symbolAllowList.length ? limits.symbolAllowList.join(', ') : 'all'}</dd>
      <dt>${t('시간대', 'Time zone')}</dt>
      <dd>${limits.timezone}</dd>
    </dl>
    <form
      method="post"
      action="${accountPath}/${action}"
      data-confirm="${action === 'halt' ? 'Halt new entries of this account?' : 'Resume this account?'}"
    >
      ${csrfField(csrf)}
      <button type="submit" class="${action === 'halt' ? 'danger' : ''}" data-testid="account-${action}">
        ${action === 'halt' ? t('이 계정 중지', 'Halt this account') : t('이 계정 재개', 'Resume this account')}
      </button>
    </form>
    <p class="muted">
      ${t(
        '한도 변경은 관리자 API (PATCH …/limits)로 합니다.',
        'Change limits through the admin API (PATCH …/limits).',
      )}
    </p>
  </section>`;
}
