import type { Action, AlertDialogTemplate } from '@tradehook/contracts';
import { renderDialogMessage, slot, type AlertMessageSpec } from './alert-message.ts';
import type { AlertTarget } from './generator.ts';

// TradingView placeholders (research: tradingview-and-peers.md). `{{ticker}}` sends e.g. BTCUSDT.P, which the
// webhook accepts; `{{time}}` is the bar time, so the alert id is the same for every resend of one bar's alert.
const TICKER = slot('{{ticker}}', 'BTCUSDT.P');
const CLOSE = slot('{{close}}', '50123.5');
const BAR_TIME = slot('{{time}}', '2026-11-26T12:00:00Z');
const FIRED_AT = slot('{{timenow}}', '2026-11-26T12:00:05Z');
const ORDER_COMMENT = slot('{{strategy.order.comment}}', 'long');

const DESCRIPTIONS: Record<Action, string> = {
  long: 'Open (or keep) a long position on the chart symbol.',
  short: 'Open (or keep) a short position on the chart symbol.',
  close_long: 'Close the long position on the chart symbol (a no-op when there is none).',
  close_short: 'Close the short position on the chart symbol (a no-op when there is none).',
  close_all:
    'Close every position of the account and cancel its open orders, SL/TP included (emergency exit).',
};

function dialogSpec(target: AlertTarget, action: Action | typeof ORDER_COMMENT): AlertMessageSpec {
  const literal = typeof action === 'string' ? action : undefined;
  const isEntry = literal === 'long' || literal === 'short';
  const spec: AlertMessageSpec = {
    account_id: target.accountId,
    exchange: target.exchange,
    action: literal ?? [action],
    symbol: [TICKER],
    price: [CLOSE],
    secret: target.secret,
  };
  // The order-comment variant may be an entry: it carries the leverage, but no max_lag (a late exit is wanted).
  if (isEntry || literal === undefined) {
    spec.leverage = target.leverage;
  }
  // risk_pct needs a stop the dialog cannot compute: those templates size by the account's rule instead.
  if (isEntry && target.sizing && target.sizing.field !== 'risk_pct')
    spec[target.sizing.field] = target.sizing.value;
  if (isEntry && target.trailingPct !== undefined) spec.trailing_pct = target.trailingPct;
  spec.alert_id = [literal ?? action, '-', TICKER, '-', BAR_TIME];
  spec.timestamp = [FIRED_AT];
  if (isEntry) spec.max_lag = target.maxLag;
  return spec;
}

/**
 * Ready-to-paste messages for TradingView's alert dialog, for users who alert on their own strategy or
 * indicator instead of the exported script. Only the webhook's own actions are used: `{{strategy.order.action}}`
 * (buy/sell) cannot say whether an order opens or closes a position, so it is not offered as an action.
 */
export function dialogTemplates(target: AlertTarget): AlertDialogTemplate[] {
  const templates: AlertDialogTemplate[] = (
    ['long', 'short', 'close_long', 'close_short', 'close_all'] as const
  ).map((action) => ({
    id: action,
    description: `${DESCRIPTIONS[action]} One alert per condition; use "Once Per Bar Close".`,
    message: renderDialogMessage(dialogSpec(target, action)).message,
  }));
  templates.push({
    id: 'strategy_order_comment',
    description:
      'For your own strategy: give every order a comment that is a webhook action — ' +
      "strategy.entry('L', strategy.long, comment='long'), strategy.close('L', comment='close_long'), " +
      "strategy.entry('S', strategy.short, comment='short'), strategy.close('S', comment='close_short') — " +
      'and create ONE alert on the strategy with this message. Reversals: close first, enter on the next bar.',
    message: renderDialogMessage(dialogSpec(target, ORDER_COMMENT)).message,
  });
  templates.push({
    id: 'strategy_alert_message',
    description:
      'For your own strategy: pass a complete message (one of the templates above, with literal values) as ' +
      "alert_message='…' to each strategy.entry/strategy.close call, and use this as the alert's message.",
    message: '{{strategy.order.alert_message}}',
  });
  return templates;
}
