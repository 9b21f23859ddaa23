import { exportPineRequestSchema, EXCHANGES, type ExportPineResponse } from '@tradehook/contracts';
import type { Router } from 'express';
import { ApiError } from '../../http-errors.ts';
import { exportPine, WEBHOOK_PATH } from '../../pine/router.ts';
import { PINE_PRESETS } from '../../pine/presets.ts';
import { html, t, type Html } from '../html.ts';
import { BASE, page } from '../layout.ts';
import { sendPage, type DashboardContext } from '../respond.ts';
import { sessionOf } from '../session.ts';

function result(r: ExportPineResponse): Html {
  return html`<section class="card" data-testid="pine-result">
      <h2>${r.name}</h2>
      <p>${t('웹훅 URL', 'Webhook URL')}: <code>${r.webhook_url_hint}</code></p>
      <ul>
        ${r.notes.map((n) => html`<li>${n}</li>`)}
      </ul>
      <h3>
        ${t('스크립트', 'Script')}
        <button type="button" data-copy="#pine-script">${t('복사', 'Copy')}</button>
      </h3>
      <textarea id="pine-script" readonly rows="16" data-testid="pine-script">${r.script}</textarea>
    </section>
    <section class="card">
      <h2>${t('알림 메시지', 'Alert messages')}</h2>
      ${r.alerts.dialog_templates.map(
        (d, i) =>
          html`<h3>${d.id} <button type="button" data-copy="#alert-${i}">${t('복사', 'Copy')}</button></h3>
            <p class="muted">${d.description}</p>
            <textarea id="alert-${i}" readonly rows="3" data-testid="alert-message">${d.message}</textarea>`,
      )}
    </section>`;
}

/**
 * Pine export: the admin API's export (pine/router.ts exportPine) behind a form. The secret is never
 * embedded here: the script carries the placeholder, so a page or screenshot never shows it.
 */
export function pinePage(router: Router, ctx: DashboardContext): void {
  const { deps } = ctx;

  router.get(`${BASE}/pine`, ...ctx.pages, async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const accounts = await deps.prisma.account.findMany({
      orderBy: [{ exchange: 'asc' }, { accountId: 'asc' }],
      select: { exchange: true, accountId: true },
    });
    let output: Html = html``;
    let status = 200;
    if (q.preset_id) {
      const [exchange, accountId] = (q.account ?? '').split('/');
      const parsed = exportPineRequestSchema.safeParse({
        preset_id: q.preset_id,
        ...(exchange && EXCHANGES.includes(exchange as never) ? { exchange, account_id: accountId } : {}),
        ...(q.symbol ? { symbol: q.symbol } : {}),
      });
      if (!parsed.success) {
        status = 422;
        output = html`<p class="flash flash-error">
          ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}
        </p>`;
      } else {
        try {
          const host = `${req.protocol}://${req.get('host') ?? 'your-server'}${WEBHOOK_PATH}`;
          output = result(await exportPine(deps, parsed.data, host));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          status = 422;
          output = html`<p class="flash flash-error">${err.message}</p>`;
        }
      }
    }
    const body = html`<h1>${t('Pine 내보내기', 'Pine export')}</h1>
      <form method="get" action="${BASE}/pine" class="filters" data-testid="pine-form">
        <label
          >${t('프리셋', 'Preset')}
          <select name="preset_id">
            ${PINE_PRESETS.map(
              (p) =>
                html`<option value="${p.id}" ${p.id === q.preset_id ? html`selected` : html``}>
                  ${p.name}
                </option>`,
            )}
          </select></label
        >
        <label
          >${t('계정', 'Account')}
          <select name="account">
            ${accounts.map((a) => {
              const v = `${a.exchange}/${a.accountId}`;
              return html`<option value="${v}" ${v === q.account ? html`selected` : html``}>${v}</option>`;
            })}
          </select></label
        >
        <label>${t('심볼', 'Symbol')} <input name="symbol" value="${q.symbol ?? 'BTCUSDT'}" /></label>
        <button type="submit" data-testid="pine-submit">${t('만들기', 'Generate')}</button>
      </form>
      ${output}`;
    sendPage(res, page({ title: 'Pine', active: 'pine', csrf: sessionOf(res).csrf, body }), status);
  });
}
