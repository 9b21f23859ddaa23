import { html, t, type Html } from './html.ts';

export const BASE = '/app';

const NAV = [
  { id: 'overview', href: `${BASE}`, label: t('개요', 'Overview') },
  { id: 'signals', href: `${BASE}/signals`, label: t('신호', 'Signals') },
  { id: 'accounts', href: `${BASE}/accounts`, label: t('계정', 'Accounts') },
  { id: 'groups', href: `${BASE}/groups`, label: t('그룹', 'Groups') },
  { id: 'pnl', href: `${BASE}/pnl`, label: t('손익', 'PnL') },
  { id: 'pine', href: `${BASE}/pine`, label: t('Pine 내보내기', 'Pine export') },
] as const;

export type NavId = (typeof NAV)[number]['id'];

export interface PageOptions {
  title: string;
  active?: NavId;
  /** The session's CSRF token: put in every form and in a meta tag for the client script. */
  csrf?: string;
  /** A message shown above the content (e.g. after an action). */
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
  body: Html;
}

/** Hidden field every state-changing form carries (checked by requireCsrf). */
export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}" />`;
}

export function page(o: PageOptions): Html {
  const nav = o.csrf
    ? html`<nav class="nav">
        ${NAV.map(
          (n) =>
            html`<a href="${n.href}" class="${n.id === o.active ? 'active' : ''}" data-nav="${n.id}"
              >${n.label}</a
            >`,
        )}
        <form method="post" action="${BASE}/logout" class="logout">
          ${csrfField(o.csrf)}<button type="submit" data-testid="logout">${t('로그아웃', 'Log out')}</button>
        </form>
      </nav>`
    : html``;
  const flash = o.flash
    ? html`<p class="flash flash-${o.flash.kind}" role="status" data-testid="flash">${o.flash.text}</p>`
    : html``;
  return html`<!doctype html>
    <html lang="ko">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${o.csrf ? html`<meta name="csrf-token" content="${o.csrf}" />` : html``}
        <title>${o.title} · tradehook</title>
        <link rel="stylesheet" href="${BASE}/static/dashboard.css" />
        <script src="${BASE}/static/dashboard.js" defer></script>
      </head>
      <body>
        <header class="top"><a class="brand" href="${BASE}">tradehook</a>${nav}</header>
        <main>${flash}${o.body}</main>
      </body>
    </html>`;
}
