import type { Action, Exchange, PineParameter, ScriptAlert, SizingField } from '@tradehook/contracts';
import { pineStringLiteral, renderPineMessage, slot, type AlertMessageSpec } from './alert-message.ts';
import { presetParameters, type PinePreset } from './presets.ts';

/** Everything an exported script's alerts say besides the action (already validated by the caller). */
export interface AlertTarget {
  exchange: Exchange;
  accountId: string;
  /** Compact form, e.g. BTCUSDT. */
  symbol: string;
  leverage: number;
  /** Entry sizing (quantity, contracts, notional, balance_pct or risk_pct); absent: the account's rule. */
  sizing?: { field: SizingField; value: number };
  /** Trailing stop callback % sent with entries. */
  trailingPct?: number;
  /** break_even_pct sent with entries (only with includeStops: it moves their stop). */
  breakEvenPct?: number;
  /** Seconds; entries only (a late exit is still wanted). */
  maxLag: number;
  includeStops: boolean;
  /** The real secret or the placeholder. */
  secret: string;
}

export interface GeneratedScript {
  script: string;
  alerts: ScriptAlert[];
}

// Values the script fills in when an alert fires. Pine's `str.format_time` is used for times because
// `str.tostring` may print large numbers in exponent form; `format.mintick` rounds prices to the tick.
const BAR_TIME = slot(`str.format_time(time, "yyyyMMdd'T'HHmmss", 'UTC')`, '20261126T120000');
const FIRED_AT = slot(`str.format_time(timenow, "yyyy-MM-dd'T'HH:mm:ss'Z'", 'UTC')`, '2026-11-26T12:00:05Z');
const STOP_LOSS = slot('str.tostring(stopLoss, format.mintick)', '48250.5');
const TAKE_PROFIT = slot('str.tostring(takeProfit, format.mintick)', '53499.1');
const TIMEFRAME = slot('timeframe.period', '60');

interface AlertBlock {
  id: string;
  comment: string;
  action: Extract<Action, 'long' | 'short' | 'close_long' | 'close_short'>;
  condition: string;
}

/** The guide's six alerts (entries, take-profit, stop-loss) plus the trend-flip exits the strategy also takes. */
const ALERT_BLOCKS: readonly AlertBlock[] = [
  { id: 'long_entry', comment: '롱 진입 알림 (long entry)', action: 'long', condition: 'longEntry' },
  { id: 'short_entry', comment: '숏 진입 알림 (short entry)', action: 'short', condition: 'shortEntry' },
  {
    id: 'close_long_take_profit',
    comment: '익절 알림 (롱) (take-profit, long)',
    action: 'close_long',
    condition: 'longTargetHit',
  },
  {
    id: 'close_short_take_profit',
    comment: '익절 알림 (숏) (take-profit, short)',
    action: 'close_short',
    condition: 'shortTargetHit',
  },
  {
    id: 'close_long_stop_loss',
    comment: '손절 알림 (롱) (stop-loss, long)',
    action: 'close_long',
    condition: 'longStopHit',
  },
  {
    id: 'close_short_stop_loss',
    comment: '손절 알림 (숏) (stop-loss, short)',
    action: 'close_short',
    condition: 'shortStopHit',
  },
  {
    id: 'close_long_trend_flip',
    comment: '추세 전환 청산 (롱) (SuperTrend flipped down)',
    action: 'close_long',
    condition: 'longTrendExit',
  },
  {
    id: 'close_short_trend_flip',
    comment: '추세 전환 청산 (숏) (SuperTrend flipped up)',
    action: 'close_short',
    condition: 'shortTrendExit',
  },
];

export function alertSpec(
  target: AlertTarget,
  action: AlertBlock['action'],
  presetId: PinePreset['id'],
): AlertMessageSpec {
  const isEntry = action === 'long' || action === 'short';
  const spec: AlertMessageSpec = {
    account_id: target.accountId,
    exchange: target.exchange,
    action,
    symbol: target.symbol,
    secret: target.secret,
  };
  if (isEntry) {
    spec.leverage = target.leverage;
    if (target.sizing) spec[target.sizing.field] = target.sizing.value;
    if (target.includeStops) {
      spec.stop_loss = [STOP_LOSS];
      spec.take_profit = [TAKE_PROFIT];
    }
    if (target.trailingPct !== undefined) spec.trailing_pct = target.trailingPct;
    if (target.includeStops && target.breakEvenPct !== undefined) spec.break_even_pct = target.breakEvenPct;
  }
  // One id per (action, symbol, preset, timeframe, bar): TradingView's resends deduplicate, while two exported
  // scripts on one symbol (another preset or chart timeframe) never swallow each other's alerts.
  spec.alert_id = [`${action}-${target.symbol}-${presetId}-`, TIMEFRAME, '-', BAR_TIME];
  spec.timestamp = [FIRED_AT];
  if (isEntry) spec.max_lag = target.maxLag;
  return spec;
}

function pineNumber(p: PineParameter): string {
  if (p.type === 'int') return String(Math.round(p.value));
  return Number.isInteger(p.value) ? p.value.toFixed(1) : String(p.value);
}

function pineInput(p: PineParameter): string {
  const args = [
    pineNumber(p),
    `title=${pineStringLiteral(p.title)}`,
    `minval=${p.min}`,
    ...(p.max !== undefined ? [`maxval=${p.max}`] : []),
    ...(p.step !== undefined ? [`step=${p.step}`] : []),
    `tooltip=${pineStringLiteral(p.description)}`,
  ];
  return `${p.name} = input.${p.type}(${args.join(', ')})`;
}

export function generatePineScript(preset: PinePreset, target: AlertTarget): GeneratedScript {
  const alerts: ScriptAlert[] = [];
  const alertLines: string[] = [];
  for (const block of ALERT_BLOCKS) {
    const message = renderPineMessage(alertSpec(target, block.action, preset.id));
    alerts.push({ id: block.id, action: block.action, condition: block.condition, example: message.example });
    alertLines.push(
      `// ${block.comment}`,
      `if ${block.condition}`,
      `    alert(${message.pine}, alert.freq_once_per_bar_close)`,
      '',
    );
  }

  const title = `tradehook SuperTrend - ${preset.name}`;
  const lines = [
    '//@version=6',
    `// ${title} (preset ${preset.id}), exported by tradehook.`,
    `// ${preset.description}`,
    `// Alerts go to account "${target.accountId}" on ${target.exchange}, symbol ${target.symbol}, leverage ${target.leverage}.`,
    '// Add it to a chart of that symbol, then create ONE alert on this strategy with the condition',
    '// "alert() function calls only", "Once Per Bar Close", and the webhook URL of your tradehook server.',
    `strategy(${pineStringLiteral(title)}, shorttitle=${pineStringLiteral(`TH ${preset.name}`)}, overlay=true,` +
      ` initial_capital=10000, default_qty_type=strategy.percent_of_equity,` +
      ` default_qty_value=${preset.backtestEquityPercent}, commission_type=strategy.commission.percent,` +
      ` commission_value=0.04, pyramiding=0)`,
    '',
    `// ==================== Parameters (preset ${preset.id}) ====================`,
    ...presetParameters(preset).map(pineInput),
    '',
    '// ==================== Signals ====================',
    '[supertrend, direction] = ta.supertrend(factor, atrPeriod)',
    'atrValue = ta.atr(atrPeriod)',
    '// ta.supertrend: direction < 0 = uptrend, > 0 = downtrend.',
    'trendUp = direction < 0',
    'trendDown = direction > 0',
    'flipUp = trendUp and direction[1] > 0',
    'flipDown = trendDown and direction[1] < 0',
    '// Never reverse in one step: a flip closes the open position on its bar and the new entry follows on the',
    '// next bar close, so the close reaches the webhook (and the exchange) before the opposite entry.',
    'wasLong = strategy.position_size[1] > 0',
    'wasShort = strategy.position_size[1] < 0',
    'longSignal = trendUp and (flipUp or (flipUp[1] and wasShort))',
    'shortSignal = trendDown and (flipDown or (flipDown[1] and wasLong))',
    'longEntry = longSignal and strategy.position_size == 0',
    'shortEntry = shortSignal and strategy.position_size == 0',
    '',
    '// Stop-loss and take-profit are fixed at the entry bar close (ATR distances). A level below the price can',
    '// reach zero on a low-priced, volatile coin (close - 3 x ATR < 0): the webhook refuses a level <= 0, and',
    '// with it the whole entry, so such a level is clamped to one tick (a long is liquidated before it anyway).',
    'var float stopLoss = na',
    'var float takeProfit = na',
    'if longEntry',
    '    stopLoss := math.max(close - atrValue * slAtrMult, syminfo.mintick)',
    '    takeProfit := close + atrValue * tpAtrMult',
    'else if shortEntry',
    '    stopLoss := close + atrValue * slAtrMult',
    '    takeProfit := math.max(close - atrValue * tpAtrMult, syminfo.mintick)',
    '',
    '// Exits are decided on the bar close, exactly as the alerts below see them; at most one exit per bar.',
    'inLong = strategy.position_size > 0',
    'inShort = strategy.position_size < 0',
    'longStopHit = inLong and close <= stopLoss',
    'longTargetHit = inLong and not longStopHit and close >= takeProfit',
    'longTrendExit = inLong and not longStopHit and not longTargetHit and trendDown',
    'shortStopHit = inShort and close >= stopLoss',
    'shortTargetHit = inShort and not shortStopHit and close <= takeProfit',
    'shortTrendExit = inShort and not shortStopHit and not shortTargetHit and trendUp',
    '',
    '// ==================== Orders (backtest) ====================',
    'if longEntry',
    "    strategy.entry('Long', strategy.long)",
    'if shortEntry',
    "    strategy.entry('Short', strategy.short)",
    'if longStopHit or longTargetHit or longTrendExit',
    "    strategy.close('Long', comment=longStopHit ? 'SL' : longTargetHit ? 'TP' : 'Trend')",
    'if shortStopHit or shortTargetHit or shortTrendExit',
    "    strategy.close('Short', comment=shortStopHit ? 'SL' : shortTargetHit ? 'TP' : 'Trend')",
    '',
    '// ==================== Chart ====================',
    "plot(trendUp ? supertrend : na, title='SuperTrend (up)', color=color.green, style=plot.style_linebr)",
    "plot(trendDown ? supertrend : na, title='SuperTrend (down)', color=color.red, style=plot.style_linebr)",
    "plot(inLong or inShort ? stopLoss : na, title='Stop-loss', color=color.orange, style=plot.style_linebr)",
    "plot(inLong or inShort ? takeProfit : na, title='Take-profit', color=color.teal, style=plot.style_linebr)",
    '',
    '// ==================== TradingView Webhook 자동 주문 ====================',
    '// Messages follow the webhook payload of the guide. alert_id (action, symbol, preset, timeframe, bar time)',
    '// lets the server drop TradingView resends; entries carry max_lag so a delayed entry is refused rather than',
    '// traded late.',
    '',
    ...alertLines,
  ];
  return { script: `${lines.join('\n').trimEnd()}\n`, alerts };
}
