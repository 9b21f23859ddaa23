/**
 * Server-side HTML for the dashboard: a tagged template that escapes every interpolated value unless it is
 * already `Html` (built by this template), so a symbol, reason or exchange message can never become markup.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part as string | number | boolean));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** A label in both languages the users read: Korean first (the guide's language), English after. */
export function t(ko: string, en: string): Html {
  return html`<span lang="ko">${ko}</span> <span lang="en" class="en">${en}</span>`;
}

export const iso = (d: Date | null | undefined): string => (d ? d.toISOString() : '');

/** `2026-12-02 16:18:49Z` — compact UTC time for tables. */
export function timeCell(d: Date | null | undefined): Html {
  if (!d) return html`<span class="muted">—</span>`;
  const text = d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

export function money(n: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function statusBadge(status: string): Html {
  return html`<span class="badge status-${status}" data-status="${status}">${status}</span>`;
}
