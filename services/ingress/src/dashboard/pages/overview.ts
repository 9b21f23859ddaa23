import { EXCHANGES } from '@tradehook/contracts';
import {
  countAccountsByExchange,
  findAccountRisk,
  getGlobalHalt,
  openPositionSymbolsFromFills,
  setGlobalHalt,
} from '@tradehook/db';
import { effectiveLimits, lossBudgetToday, parseRiskDefaults } from '@tradehook/risk';
import type { Router } from 'express';
import { requestLogger } from '../../request-context.ts';
import type { IngressDeps } from '../../deps.ts';
import { html, money, t, timeCell } from '../html.ts';
import { BASE, csrfField, page } from '../layout.ts';
import { flashFromQuery, formText, sendPage, type DashboardContext } from '../respond.ts';
import { sessionOf } from '../session.ts';

const ok = (fine: boolean) =>
  fine ? html`<span class="badge ok">ok</span>` : html`<span class="badge bad">down</span>`;

async function settled<T>(p: Promise<T>): Promise<T | null> {
  return p.catch(() => null);
}

/** Queue depths as the metrics collect them (BullMQ getJobCounts per queue and state). */
async function queueDepths(deps: IngressDeps): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  const metric = deps.metrics.registry.getSingleMetric('tradehook_queue_jobs');
  const values = metric ? (await metric.get()).values : [];
  for (const v of values) {
    const queue = String(v.labels.queue);
    const row = out.get(queue) ?? {};
    row[String(v.labels.state)] = v.value;
    out.set(queue, row);
  }
  return out;
}

/** Overview: health, queues, today's PnL and open positions per account, and the global kill switch. */
export function overviewPage(router: Router, ctx: DashboardContext): void {
  const { deps } = ctx;
  const defaults = parseRiskDefaults(process.env);

  router.get(BASE, ...ctx.pages, async (req, res) => {
    const [accounts, redisOk, riskWorkers, depths, halt, rows] = await Promise.all([
      settled(countAccountsByExchange(deps.pgPool)),
      settled(deps.redis.ping().then(() => true)),
      settled(deps.queues.signals.getWorkersCount()),
      settled(queueDepths(deps)),
      getGlobalHalt(deps.pgPool),
      deps.prisma.account.findMany({ orderBy: [{ exchange: 'asc' }, { accountId: 'asc' }] }),
    ]);
    const workers = await Promise.all(
      EXCHANGES.map((ex) => settled(deps.queues.accountRequests[ex].getWorkersCount())),
    );
    const perAccount = await Promise.all(
      rows.map(async (a) => {
        const risk = await findAccountRisk(deps.pgPool, a.exchange, a.accountId);
        const limits = effectiveLimits(risk?.limits ?? null, defaults);
        const [budget, open] = await Promise.all([
          lossBudgetToday(deps.pgPool, a.exchange, a.accountId, limits, Date.now()),
          openPositionSymbolsFromFills(deps.pgPool, a.exchange, a.accountId),
        ]);
        return { a, budget, open, tradingEnabled: limits.tradingEnabled };
      }),
    );
    const csrf = sessionOf(res).csrf;
    const body = html`<h1>${t('개요', 'Overview')}</h1>
      <section class="card" data-testid="health">
        <h2>${t('상태', 'Health')}</h2>
        <dl class="grid">
          <dt>PostgreSQL</dt>
          <dd>${ok(accounts !== null)}</dd>
          <dt>Redis</dt>
          <dd>${ok(redisOk === true)}</dd>
          <dt>${t('리스크 서비스', 'Risk service')}</dt>
          <dd>${ok((riskWorkers ?? 0) > 0)} ${riskWorkers ?? '?'}</dd>
          ${EXCHANGES.map(
            (ex, i) =>
              html`<dt>${t('워커', 'Workers')} ${ex}</dt>
                <dd data-testid="workers-${ex}">${ok((workers[i] ?? 0) > 0)} ${workers[i] ?? '?'}</dd>`,
          )}
        </dl>
      </section>
      <section class="card">
        <h2>${t('큐 깊이', 'Queue depths')}</h2>
        <div class="table-wrap">
          <table data-testid="queues">
            <tr>
              <th>queue</th>
              <th>waiting</th>
              <th>active</th>
              <th>delayed</th>
              <th>failed</th>
            </tr>
            ${[...(depths ?? new Map<string, Record<string, number>>())].map(
              ([name, c]) =>
                html`<tr>
                  <td>${name}</td>
                  <td>${c.waiting ?? 0}</td>
                  <td>${c.active ?? 0}</td>
                  <td>${c.delayed ?? 0}</td>
                  <td>${c.failed ?? 0}</td>
                </tr>`,
            )}
          </table>
        </div>
      </section>
      <section class="card">
        <h2>${t('오늘의 손익', "Today's PnL")}</h2>
        <div class="table-wrap">
          <table data-testid="today-pnl">
            <tr>
              <th>${t('계정', 'Account')}</th>
              <th>${t('일자', 'Day')}</th>
              <th>${t('실현손익', 'Realised')}</th>
              <th>${t('수수료', 'Fees')}</th>
              <th>${t('순손익', 'Net')}</th>
              <th>${t('열린 포지션', 'Open positions')}*</th>
              <th>${t('거래', 'Trading')}</th>
            </tr>
            ${perAccount.map(
              (p) =>
                html`<tr>
                  <td>
                    <a href="${BASE}/accounts/${p.a.exchange}/${p.a.accountId}"
                      >${p.a.exchange}/${p.a.accountId}</a
                    >
                  </td>
                  <td>${p.budget.window.day}</td>
                  <td>${money(p.budget.pnl.realizedPnl)}</td>
                  <td>${money(p.budget.pnl.fees)}</td>
                  <td class="${p.budget.pnl.netPnl < 0 ? 'neg' : 'pos'}">${money(p.budget.pnl.netPnl)}</td>
                  <td>${p.open.length}</td>
                  <td>${p.tradingEnabled ? 'on' : html`<b>halted</b>`}</td>
                </tr>`,
            )}
          </table>
        </div>
        <p class="muted">
          *
          ${t(
            '기록된 체결 기준 (계정 페이지에서 거래소 기준으로 확인)',
            'from recorded fills (the account page asks the exchange)',
          )}
        </p>
      </section>
      <section class="card kill ${halt.halted ? 'halted' : ''}" data-testid="kill-switch">
        <h2>${t('킬 스위치 (전체 중지)', 'Kill switch (all accounts)')}</h2>
        <p data-testid="halt-state">
          ${
            halt.halted
              ? html`<b>${t('중지됨', 'HALTED')}</b> ${halt.reason ?? ''}
                  ${timeCell(halt.since ? new Date(halt.since) : null)}`
              : t('거래 중', 'Trading')
          }
        </p>
        <form
          method="post"
          action="${BASE}/kill-switch"
          data-confirm="${halt.halted ? 'Resume all trading?' : 'Halt all new entries?'}"
        >
          ${csrfField(csrf)}
          <input type="hidden" name="action" value="${halt.halted ? 'resume' : 'halt'}" />
          ${halt.halted ? html`` : html`<input name="reason" placeholder="reason / 사유" maxlength="200" />`}
          <label class="confirm"
            ><input type="checkbox" name="confirm" value="yes" required data-testid="kill-confirm" />
            ${t('확인합니다', 'I confirm')}</label
          >
          <button type="submit" class="${halt.halted ? '' : 'danger'}" data-testid="kill-button">
            ${halt.halted ? t('전체 재개', 'Resume all') : t('전체 중지', 'Halt all')}
          </button>
        </form>
        <p class="muted">${t('청산(exit)은 항상 실행됩니다.', 'Exits always run.')}</p>
      </section>`;
    sendPage(res, page({ title: 'Overview', active: 'overview', csrf, flash: flashFromQuery(req), body }));
  });

  router.post(`${BASE}/kill-switch`, ...ctx.actions, async (req, res) => {
    const action = formText(req, 'action');
    if (formText(req, 'confirm') !== 'yes' || (action !== 'halt' && action !== 'resume')) {
      res.redirect(303, `${BASE}?done=not_confirmed`);
      return;
    }
    const reason = formText(req, 'reason')?.slice(0, 200) || null;
    if (action === 'halt') {
      await setGlobalHalt(deps.pgPool, { halted: true, reason, since: new Date().toISOString() });
      requestLogger(res).warn('trading halted globally (dashboard)', { reason });
    } else {
      await setGlobalHalt(deps.pgPool, { halted: false, reason: null, since: null });
      requestLogger(res).warn('trading resumed globally (dashboard)');
    }
    res.redirect(303, `${BASE}?done=${action === 'halt' ? 'halted' : 'resumed'}`);
  });
}
