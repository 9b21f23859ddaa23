import { accountIdSchema, exchangeSchema, type AccountStatus, type Exchange } from '@tradehook/contracts';
import { findAccountRisk, setAccountTradingEnabled } from '@tradehook/db';
import { effectiveLimits, parseRiskDefaults } from '@tradehook/risk';
import type { Request, Router } from 'express';
import { accountView, findAccount, parseExchange, registerAccount } from '../../accounts/register.ts';
import { fetchAccountStatus } from '../../accounts/status.ts';
import { ApiError } from '../../http-errors.ts';
import { requestIdOf, requestLogger } from '../../request-context.ts';
import { html, t, type Html } from '../html.ts';
import { BASE, page } from '../layout.ts';
import { flashFromQuery, formText, sendPage, type DashboardContext } from '../respond.ts';
import { sessionOf } from '../session.ts';
import { registerForm, registrationBody } from './account-forms.ts';
import { limitsCard, statusCards } from './account-views.ts';

function accountKey(req: Request): { exchange: Exchange; accountId: string } {
  const exchange = exchangeSchema.safeParse(req.params.exchange);
  const accountId = accountIdSchema.safeParse(req.params.account_id);
  if (!exchange.success || !accountId.success) throw new ApiError('not_found', 'Account not found');
  return { exchange: exchange.data, accountId: accountId.data };
}

function keyCheckBadge(check: unknown): Html {
  const status =
    check && typeof check === 'object' && 'status' in check
      ? String((check as { status: unknown }).status)
      : 'none';
  return html`<span class="badge key-${status}" data-testid="key-check">${status}</span>`;
}

/** Accounts: list and registration, and per account its key check, exchange state, limits and halt. */
export function accountsPages(router: Router, ctx: DashboardContext): void {
  const { deps } = ctx;
  const defaults = parseRiskDefaults(process.env);

  const listPage = async (csrf: string, flash?: { kind: 'ok' | 'error'; text: string }, form?: Html) => {
    const rows = await deps.prisma.account.findMany({ orderBy: [{ exchange: 'asc' }, { accountId: 'asc' }] });
    const body = html`<h1>${t('계정', 'Accounts')}</h1>
      <div class="table-wrap">
        <table data-testid="accounts-table">
          <tr>
            <th>${t('계정', 'Account')}</th>
            <th>API key</th>
            <th>${t('키 확인', 'Key check')}</th>
            <th>${t('마진', 'Margin')}</th>
            <th>testnet</th>
          </tr>
          ${rows.map(accountView).map(
            (a) =>
              html`<tr data-account="${a.exchange}/${a.account_id}">
                <td>
                  <a href="${BASE}/accounts/${a.exchange}/${a.account_id}">${a.exchange}/${a.account_id}</a>
                </td>
                <td><code>${a.api_key}</code></td>
                <td>${keyCheckBadge(a.key_check)}</td>
                <td>${a.margin_mode}</td>
                <td>${a.testnet ? 'yes' : 'no'}</td>
              </tr>`,
          )}
        </table>
      </div>
      ${form ?? registerForm(csrf)}`;
    return page({ title: 'Accounts', active: 'accounts', csrf, flash, body });
  };

  router.get(`${BASE}/accounts`, ...ctx.pages, async (req, res) => {
    sendPage(res, await listPage(sessionOf(res).csrf, flashFromQuery(req)));
  });

  router.post(`${BASE}/accounts/register`, ...ctx.actions, async (req, res) => {
    const csrf = sessionOf(res).csrf;
    const replace = formText(req, 'replace') === 'true';
    let exchange: Exchange | undefined;
    try {
      exchange = parseExchange(formText(req, 'exchange'));
      const answer = await registerAccount(deps, {
        exchange,
        body: registrationBody(req),
        replace,
        requestId: requestIdOf(res),
        logger: requestLogger(res),
      });
      res.redirect(303, `${BASE}/accounts/${exchange}/${answer.body.account_id}?done=registered`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      // The refusal is shown with the form again (secrets blank): nothing was stored.
      const accountId = formText(req, 'account_id');
      const form = registerForm(csrf, {
        ...(exchange ? { exchange } : {}),
        ...(accountId ? { accountId } : {}),
      });
      const status = err.code === 'conflict' || err.code === 'key_rejected' ? 409 : 422;
      sendPage(res, await listPage(csrf, { kind: 'error', text: err.message }, form), status);
    }
  });

  router.get(`${BASE}/accounts/:exchange/:account_id`, ...ctx.pages, async (req, res) => {
    const { exchange, accountId } = accountKey(req);
    const row = await findAccount(deps, exchange, accountId);
    if (!row) throw new ApiError('not_found', 'Account not found');
    const a = accountView(row);
    const risk = await findAccountRisk(deps.pgPool, exchange, accountId);
    const limits = effectiveLimits(risk?.limits ?? null, defaults);
    let status: AccountStatus | string;
    try {
      status = await fetchAccountStatus(deps, exchange, accountId, requestIdOf(res));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      status = err.message;
    }
    const csrf = sessionOf(res).csrf;
    const body = html`<h1>${exchange}/${accountId}</h1>
      <section class="card">
        <h2>${t('키', 'Key')}</h2>
        <dl class="grid">
          <dt>API key</dt>
          <dd><code>${a.api_key}</code></dd>
          <dt>${t('키 확인', 'Key check')}</dt>
          <dd>${keyCheckBadge(a.key_check)} <code>${JSON.stringify(a.key_check)}</code></dd>
          <dt>${t('계정별 웹훅 시크릿', 'Own webhook secret')}</dt>
          <dd>${a.has_webhook_secret ? 'yes' : 'no'}</dd>
        </dl>
      </section>
      ${statusCards(status)} ${limitsCard(limits, csrf, `${BASE}/accounts/${exchange}/${accountId}`)}
      ${registerForm(csrf, { exchange, accountId, rotate: true })}`;
    sendPage(res, page({ title: accountId, active: 'accounts', csrf, flash: flashFromQuery(req), body }));
  });

  for (const action of ['halt', 'resume'] as const) {
    router.post(`${BASE}/accounts/:exchange/:account_id/${action}`, ...ctx.actions, async (req, res) => {
      const { exchange, accountId } = accountKey(req);
      const risk = await findAccountRisk(deps.pgPool, exchange, accountId);
      if (!risk) throw new ApiError('not_found', 'Account not found');
      await setAccountTradingEnabled(deps.pgPool, risk.accountRowId, action === 'resume');
      requestLogger(res).warn(`account trading ${action === 'halt' ? 'halted' : 'resumed'} (dashboard)`, {
        exchange,
        accountId,
      });
      res.redirect(
        303,
        `${BASE}/accounts/${exchange}/${accountId}?done=${action === 'halt' ? 'halted' : 'resumed'}`,
      );
    });
  }
}
