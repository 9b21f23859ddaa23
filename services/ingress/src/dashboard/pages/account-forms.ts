import type { Exchange } from '@tradehook/contracts';
import type { Request } from 'express';
import { html, t, type Html } from '../html.ts';
import { BASE, csrfField } from '../layout.ts';
import { formText } from '../respond.ts';

/**
 * The register/rotate form. Secrets are password fields and are never rendered back: after a refusal the
 * form comes back with the non-secret fields only.
 */
export function registerForm(
  csrf: string,
  o: { exchange?: Exchange; accountId?: string; rotate?: boolean } = {},
): Html {
  const fixed = o.rotate === true;
  return html`<form
    method="post"
    action="${BASE}/accounts/register"
    class="card stack"
    data-testid="register-form"
  >
    <h2>${fixed ? t('키 교체', 'Rotate keys') : t('계정 등록', 'Register an account')}</h2>
    ${csrfField(csrf)} ${fixed ? html`<input type="hidden" name="replace" value="true" />` : html``}
    <label
      >${t('거래소', 'Exchange')}
      <select name="exchange" ${fixed ? html`data-fixed="1"` : html``}>
        ${(['binance', 'okx'] as const)
          .filter((e) => !fixed || e === o.exchange)
          .map(
            (e) =>
              html`<option value="${e}" ${e === o.exchange ? html`selected` : html``}>
                ${e === 'okx' ? 'OKX' : 'Binance USDⓈ-M'}
              </option>`,
          )}
      </select></label
    >
    <label
      >account_id
      <input name="account_id" value="${o.accountId ?? ''}" required ${fixed ? html`readonly` : html``}
    /></label>
    <label>API key <input name="api_key" required autocomplete="off" /></label>
    <label>API secret <input name="api_secret" type="password" required autocomplete="off" /></label>
    <label
      >${t('패스프레이즈 (OKX)', 'Passphrase (OKX)')}
      <input name="passphrase" type="password" autocomplete="off"
    /></label>
    <label
      >${t('계정별 웹훅 시크릿 (선택)', 'Own webhook secret (optional)')}
      <input name="webhook_secret" type="password" autocomplete="off"
    /></label>
    <label
      >${t('마진 모드', 'Margin mode')}
      <select name="margin_mode">
        <option value="cross">cross</option>
        <option value="isolated">isolated</option>
      </select></label
    >
    <label
      >${t('기본 레버리지', 'Default leverage')} <input name="default_leverage" inputmode="numeric"
    /></label>
    <label class="check"><input type="checkbox" name="testnet" value="true" /> testnet</label>
    <label class="check"
      ><input type="checkbox" name="auto_sl_tp" value="true" checked />
      ${t('자동 SL/TP', 'Automatic SL/TP')}</label
    >
    <label class="check"
      ><input type="checkbox" name="allow_add" value="true" /> ${t('추가 진입 허용', 'Allow adding')}</label
    >
    <button type="submit" data-testid="register-submit">
      ${fixed ? t('교체하고 키 확인', 'Rotate and check the key') : t('등록하고 키 확인', 'Register and check the key')}
    </button>
  </form>`;
}

/**
 * The form as the registration body of the admin API: the same zod schema then checks it
 * (accounts/register.ts). Checkboxes are booleans; empty optional fields are left out.
 */
export function registrationBody(req: Request): Record<string, unknown> {
  const body: Record<string, unknown> = {
    account_id: formText(req, 'account_id') ?? '',
    api_key: formText(req, 'api_key') ?? '',
    api_secret: formText(req, 'api_secret') ?? '',
    testnet: formText(req, 'testnet') === 'true',
    auto_sl_tp: formText(req, 'auto_sl_tp') === 'true',
    allow_add: formText(req, 'allow_add') === 'true',
  };
  for (const name of ['passphrase', 'webhook_secret', 'margin_mode'] as const) {
    const value = formText(req, name);
    if (value) body[name] = value;
  }
  const leverage = formText(req, 'default_leverage');
  if (leverage) body.default_leverage = Number(leverage);
  return body;
}
