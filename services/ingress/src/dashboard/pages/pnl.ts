import { dailyRealisedPnl, type DailyPnl } from '@tradehook/db';
import { parseRiskDefaults } from '@tradehook/risk';
import type { Router } from 'express';
import { z } from 'zod';
import { ApiError } from '../../http-errors.ts';
import { html, money, t, type Html } from '../html.ts';
import { BASE, page } from '../layout.ts';
import { sendPage, type DashboardContext } from '../respond.ts';
import { sessionOf } from '../session.ts';

const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];
const W = 640;
const H = 220;
const PAD = 32;

/** Inline SVG: net PnL per day, one bar per account (green above zero, red below), with the zero line. */
export function pnlChart(days: string[], rows: DailyPnl[]): Html {
  const accounts = [...new Set(rows.map((r) => `${r.exchange}/${r.accountId}`))];
  if (days.length === 0) return html`<p class="muted">${t('기록된 체결 없음', 'No fills recorded')}</p>`;
  const net = (day: string, acct: string) =>
    rows.find((x) => x.day === day && `${x.exchange}/${x.accountId}` === acct)?.netPnl ?? 0;
  const all = rows.map((r) => r.netPnl).concat(0);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || 1;
  const y = (v: number) => H - PAD - ((v - lo) / span) * (H - 2 * PAD);
  const slot = (W - 2 * PAD) / days.length;
  const bar = Math.max(2, Math.min(24, (slot * 0.8) / accounts.length));
  const bars = days.flatMap((day, d) =>
    accounts.map((acct, i) => {
      const v = net(day, acct);
      const x = PAD + d * slot + (slot - bar * accounts.length) / 2 + i * bar;
      const top = Math.min(y(v), y(0));
      const height = Math.max(1, Math.abs(y(v) - y(0)));
      return html`<rect
        x="${x.toFixed(1)}"
        y="${top.toFixed(1)}"
        width="${(bar - 1).toFixed(1)}"
        height="${height.toFixed(1)}"
        fill="${COLORS[i % COLORS.length]}"
        opacity="${v < 0 ? '0.6' : '1'}"
        ><title>${day} ${acct}: ${money(v)}</title></rect
      >`;
    }),
  );
  return html`<svg
      viewBox="0 0 ${W} ${H}"
      class="chart"
      role="img"
      aria-label="net PnL per day and account"
      data-testid="pnl-chart"
    >
      <line
        x1="${PAD}"
        x2="${W - PAD}"
        y1="${y(0).toFixed(1)}"
        y2="${y(0).toFixed(1)}"
        stroke="#9ca3af"
        stroke-dasharray="4"
      />
      <text x="2" y="${PAD}" font-size="11">${money(hi)}</text>
      <text x="2" y="${H - PAD}" font-size="11">${money(lo)}</text>
      <text x="${PAD}" y="${H - 8}" font-size="11">${days[0]}</text>
      <text x="${W - PAD}" y="${H - 8}" font-size="11" text-anchor="end">${days[days.length - 1]}</text>
      ${bars}
    </svg>
    <ul class="legend">
      ${accounts.map(
        (a, i) =>
          html`<li><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${a}</li>`,
      )}
    </ul>`;
}

const querySchema = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });

/** PnL per day and account from the recorded fills: realised, fees and net as their own columns. */
export function pnlPage(router: Router, ctx: DashboardContext): void {
  const { deps } = ctx;
  const timeZone = parseRiskDefaults(process.env).timezone;

  router.get(`${BASE}/pnl`, ...ctx.pages, async (req, res) => {
    const parsed = querySchema.safeParse(req.query);
    if (!parsed.success) throw new ApiError('validation_failed', 'days must be a whole number from 1 to 366');
    const from = new Date(Date.now() - parsed.data.days * 24 * 3600 * 1000);
    const rows = await dailyRealisedPnl(deps.pgPool, from, timeZone);
    const days = [...new Set(rows.map((r) => r.day))];
    const body = html`<h1>${t('손익', 'PnL')}</h1>
      <p class="muted">
        ${t('최근', 'Last')} ${parsed.data.days} ${t('일', 'days')} · ${timeZone} ·
        ${t('순손익 = 실현손익 − 수수료 + 펀딩', 'net = realised − fees + funding')}
      </p>
      <section class="card">${pnlChart(days, rows)}</section>
      <div class="table-wrap">
        <table data-testid="pnl-table">
          <tr>
            <th>${t('일자', 'Day')}</th>
            <th>${t('계정', 'Account')}</th>
            <th>${t('실현손익', 'Realised')}</th>
            <th>${t('수수료', 'Fees')}</th>
            <th>${t('펀딩', 'Funding')}</th>
            <th>${t('순손익', 'Net')}</th>
            <th>${t('체결 수', 'Fills')}</th>
          </tr>
          ${rows.map(
            (r) =>
              html`<tr>
                <td>${r.day}</td>
                <td>${r.exchange}/${r.accountId}</td>
                <td>${money(r.realizedPnl)}</td>
                <td>${money(r.fees)}</td>
                <td>${money(r.funding)}</td>
                <td class="${r.netPnl < 0 ? 'neg' : 'pos'}">${money(r.netPnl)}</td>
                <td>${r.fillCount}</td>
              </tr>`,
          )}
        </table>
      </div>`;
    sendPage(res, page({ title: 'PnL', active: 'pnl', csrf: sessionOf(res).csrf, body }));
  });
}
