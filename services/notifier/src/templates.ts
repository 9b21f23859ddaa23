import type { NotificationEvent, NotificationKind } from '@tradehook/contracts';

/**
 * Message texts in Korean and English. Plain text (no Markdown/HTML) so a symbol or an exchange's reason can never
 * break a message's formatting on any channel. One event = one line or a few; a batch is its lines joined.
 */
export const LOCALES = ['ko', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

type Of<K extends NotificationKind> = Extract<NotificationEvent, { kind: K }>;
type Templates = { [K in NotificationKind]: (e: Of<K>) => string };

const n = (v: number | null, digits = 8) => (v === null ? '-' : String(Number(v.toFixed(digits))));
const money = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
const who = (e: { exchange?: string; accountId?: string }) =>
  e.exchange && e.accountId ? `[${e.exchange}:${e.accountId}] ` : '';

const ko: Templates = {
  signal_executed: (e) =>
    `✅ ${who(e)}${e.symbol} ${e.action} 체결: 수량 ${n(e.amount)} @ ${n(e.price)}, SL ${n(e.stopLoss)} / TP ${n(e.takeProfit)}` +
    (e.note ? `\n   참고: ${e.note}` : ''),
  signal_failed: (e) => `❌ ${who(e)}${e.symbol} ${e.action} 실패: ${e.reason}`,
  signal_rejected: (e) =>
    `🚫 ${who(e)}${e.symbol} ${e.action} ${e.stage === 'risk' ? '리스크 검사에서' : '실행 직전 재검사에서'} 거부: ${e.reason}`,
  daily_loss_cap: (e) => `🛑 ${who(e)}일일 손실 한도 도달 — 신규 진입 차단 (${e.symbol}): ${e.reason}`,
  position_unprotected: (e) =>
    e.flattened
      ? `⚠️ ${who(e)}${e.symbol} 손절 주문이 거부되어 포지션을 즉시 청산했습니다: ${e.reason}`
      : `🚨 ${who(e)}${e.symbol} 포지션이 손절 없이 열려 있습니다: ${e.reason}`,
  protection_hit: (e) =>
    `${e.leg === 'stop_loss' ? '🔻 손절(SL)' : e.leg === 'trailing_stop' ? '📉 트레일링 스탑' : '🎯 익절(TP)'} 발동 ${who(e)}${e.symbol}: 수량 ${n(e.amount)} @ ${n(e.price)}, 실현 손익 ${money(e.realizedPnl)} (수수료 ${n(e.fee, 4)})`,
  kill_switch: (e) =>
    `${e.on ? '⛔ 거래 중지(킬 스위치) 켜짐' : '▶️ 거래 재개(킬 스위치) 꺼짐'} ${e.accountId ? who(e).trim() : '전체 계정'}` +
    (e.reason ? `: ${e.reason}` : ''),
  key_problem: (e) =>
    `🔑 ${who(e)}${e.problem === 'revoked' ? 'API 키가 거부되었습니다(폐기/권한 변경?)' : 'API 키 점검 실패'}: ${e.reason}`,
  component_down: (e) =>
    e.down
      ? `📴 ${who(e)}${e.component} 이(가) ${Math.round(e.seconds)}초째 응답이 없습니다`
      : `📶 ${who(e)}${e.component} 복구됨 (${Math.round(e.seconds)}초 중단)`,
};

const en: Templates = {
  signal_executed: (e) =>
    `✅ ${who(e)}${e.symbol} ${e.action} executed: size ${n(e.amount)} @ ${n(e.price)}, SL ${n(e.stopLoss)} / TP ${n(e.takeProfit)}` +
    (e.note ? `\n   note: ${e.note}` : ''),
  signal_failed: (e) => `❌ ${who(e)}${e.symbol} ${e.action} failed: ${e.reason}`,
  signal_rejected: (e) =>
    `🚫 ${who(e)}${e.symbol} ${e.action} rejected ${e.stage === 'risk' ? 'by risk' : 'by the re-check before sending'}: ${e.reason}`,
  daily_loss_cap: (e) =>
    `🛑 ${who(e)}daily loss cap reached — new entries blocked (${e.symbol}): ${e.reason}`,
  position_unprotected: (e) =>
    e.flattened
      ? `⚠️ ${who(e)}${e.symbol} stop-loss refused, position flattened at once: ${e.reason}`
      : `🚨 ${who(e)}${e.symbol} position is open WITHOUT its stop-loss: ${e.reason}`,
  protection_hit: (e) =>
    `${e.leg === 'stop_loss' ? '🔻 Stop-loss' : e.leg === 'trailing_stop' ? '📉 Trailing stop' : '🎯 Take-profit'} hit ${who(e)}${e.symbol}: size ${n(e.amount)} @ ${n(e.price)}, realised PnL ${money(e.realizedPnl)} (fee ${n(e.fee, 4)})`,
  kill_switch: (e) =>
    `${e.on ? '⛔ Kill switch ON — trading halted' : '▶️ Kill switch OFF — trading resumed'} for ${e.accountId ? who(e).trim() : 'all accounts'}` +
    (e.reason ? `: ${e.reason}` : ''),
  key_problem: (e) =>
    `🔑 ${who(e)}${e.problem === 'revoked' ? 'API key refused by the exchange (revoked or permissions changed?)' : 'API key check failed'}: ${e.reason}`,
  component_down: (e) =>
    e.down
      ? `📴 ${who(e)}${e.component} has been down for ${Math.round(e.seconds)} s`
      : `📶 ${who(e)}${e.component} is back (down ${Math.round(e.seconds)} s)`,
};

const TEMPLATES: Record<Locale, Templates> = { ko, en };

export function renderEvent(event: NotificationEvent, locale: Locale): string {
  const template = TEMPLATES[locale][event.kind] as (e: NotificationEvent) => string;
  return template(event);
}

const MORE: Record<Locale, (count: number, kinds: string) => string> = {
  ko: (count, kinds) => `… 외 ${count}건 (${kinds}) — 대시보드에서 확인하세요`,
  en: (count, kinds) => `… and ${count} more (${kinds}) — see the dashboard`,
};

/**
 * One message for a batch, at most `limit` characters (Telegram 4096, Discord 2000): as many events as fit, in
 * order, then one line counting the rest by kind, so a burst of 100 fills is one message, not 100.
 */
export function renderBatch(events: NotificationEvent[], locale: Locale, limit: number): string {
  const reserve = 160;
  const lines: string[] = [];
  let length = 0;
  let shown = 0;
  for (const event of events) {
    const line = renderEvent(event, locale);
    if (length + line.length + 1 > limit - reserve) break;
    lines.push(line);
    length += line.length + 1;
    shown++;
  }
  const rest = events.slice(shown);
  if (rest.length) {
    const counts = new Map<string, number>();
    for (const e of rest) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
    const kinds = [...counts].map(([k, c]) => `${k} ×${c}`).join(', ');
    lines.push(MORE[locale](rest.length, kinds).slice(0, reserve));
  }
  return lines.join('\n').slice(0, limit);
}
