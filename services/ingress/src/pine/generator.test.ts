import { webhookPayloadSchema } from '@tradehook/contracts';
import { describe, expect, it } from 'vitest';
import { AlertMessageError, renderDialogMessage, renderPineMessage, slot } from './alert-message.ts';
import { alertSpec, generatePineScript, type AlertTarget } from './generator.ts';
import {
  bracketProblems,
  declaredNames,
  evaluateStringConcat,
  extractAlertCalls,
  inputsWithoutTitle,
  undeclaredIdentifiers,
} from './pine-check.ts';
import { PINE_PRESETS, presetParameters } from './presets.ts';
import { dialogTemplates } from './templates.ts';

const target: AlertTarget = {
  exchange: 'okx',
  accountId: 'acct.one-2',
  symbol: 'ETHUSDT',
  leverage: 7,
  sizing: { field: 'quantity', value: 0.5 },
  maxLag: 45,
  includeStops: true,
  secret: 's3cr\'et\\with"quotes',
};

/** What the script's expressions produce when an alert fires (see generator.ts). */
function fired(code: string): string {
  if (code.startsWith('str.tostring(stopLoss')) return '2950.25';
  if (code.startsWith('str.tostring(takeProfit')) return '3120.5';
  if (code.startsWith('str.format_time(time,')) return '20261126T120000';
  if (code.startsWith('str.format_time(timenow,')) return '2026-11-26T12:00:05Z';
  if (code === 'timeframe.period') return '240';
  throw new Error(`unexpected expression in an alert message: ${code}`);
}

describe.each(PINE_PRESETS.map((p) => [p.id, p] as const))('exported script %s', (_id, preset) => {
  const { script, alerts } = generatePineScript(preset, target);
  const lines = script.split('\n');

  it('starts with the v6 version directive and declares exactly one strategy', () => {
    expect(lines[0]).toBe('//@version=6');
    expect(lines.filter((l) => /^strategy\(/.test(l))).toHaveLength(1);
    expect(script).not.toMatch(/^\s*(indicator|library)\(/m);
  });

  it('has balanced brackets and quotes', () => {
    expect(bracketProblems(script)).toEqual([]);
  });

  it('declares every input with a title and the preset value', () => {
    expect(inputsWithoutTitle(script)).toEqual([]);
    for (const p of presetParameters(preset)) {
      const line = lines.find((l) => l.startsWith(`${p.name} = input.${p.type}(`));
      expect(line, p.name).toBeDefined();
      expect(Number(/\(([\d.]+),/.exec(line!)?.[1])).toBe(p.value);
    }
  });

  it('declares every identifier used in an alert condition, and uses the strategy variables of the guide', () => {
    const declared = declaredNames(script);
    for (const name of ['longSignal', 'shortSignal', 'stopLoss', 'takeProfit'])
      expect(declared).toContain(name);
    const calls = extractAlertCalls(script);
    expect(calls.length).toBe(alerts.length);
    for (const call of calls)
      expect(undeclaredIdentifiers(call.condition, declared), call.condition).toEqual([]);
  });

  it('fires once per bar close, and every alert message is a payload the webhook schema accepts', () => {
    const calls = extractAlertCalls(script);
    const actions = calls.map((call) => {
      expect(call.rest).toBe('alert.freq_once_per_bar_close');
      const json = evaluateStringConcat(call.message, fired);
      const payload = webhookPayloadSchema.parse(JSON.parse(json));
      expect(payload).toMatchObject({ account_id: 'acct.one-2', exchange: 'okx', symbol: 'ETH/USDT:USDT' });
      expect(payload.secret).toBe(target.secret);
      if (payload.action === 'long' || payload.action === 'short') {
        expect(payload).toMatchObject({
          leverage: 7,
          quantity: 0.5,
          stop_loss: 2950.25,
          take_profit: 3120.5,
        });
        expect(payload.max_lag).toBe(45);
      } else {
        // A late exit is still wanted: no staleness limit, and nothing that could open a position.
        expect(payload.max_lag).toBeUndefined();
        expect(payload.quantity).toBeUndefined();
      }
      expect(payload.alert_id).toBe(`${payload.action}-ETHUSDT-${preset.id}-240-20261126T120000`);
      return payload.action;
    });
    // The guide's six alerts (entries, take-profit and stop-loss for each side) are all there.
    expect(actions.filter((a) => a === 'long')).toHaveLength(1);
    expect(actions.filter((a) => a === 'short')).toHaveLength(1);
    expect(actions.filter((a) => a === 'close_long').length).toBeGreaterThanOrEqual(2);
    expect(actions.filter((a) => a === 'close_short').length).toBeGreaterThanOrEqual(2);
  });
});

/**
 * Evaluates the script's stop-loss/take-profit assignments for one entry side, with the given bar values: the
 * arithmetic of those lines only (`close`, `atrValue`, the multipliers, `syminfo.mintick`, `math.max`).
 */
function protectionLevels(script: string, side: 'longEntry' | 'shortEntry', bar: Record<string, number>) {
  const lines = script.split('\n');
  const start = lines.findIndex((l) => l === `if ${side}` || l === `else if ${side}`);
  const levels: Record<string, number> = {};
  for (const line of lines.slice(start + 1)) {
    const match = /^ {4}(stopLoss|takeProfit) := (.+)$/.exec(line);
    if (!match) break;
    const js = match[2]!.replace(/math\.max/g, 'Math.max').replace(/syminfo\.mintick/g, 'mintick');
    const names = Object.keys(bar);
    levels[match[1]!] = new Function(...names, `return ${js};`)(...names.map((n) => bar[n])) as number;
  }
  return levels;
}

describe('protection levels of an exported script', () => {
  it.each(PINE_PRESETS.map((p) => [p.id, p] as const))(
    '%s never sends a stop-loss or take-profit at or below zero (low-priced, volatile coin)',
    (_id, preset) => {
      const { script } = generatePineScript(preset, target);
      const multipliers = Object.fromEntries(presetParameters(preset).map((p) => [p.name, p.value]));
      // close - 3 x ATR < 0: an ATR larger than the price, as on a long bar of a low-priced coin.
      const bar = { close: 0.002, atrValue: 0.005, mintick: 0.000001, ...multipliers };
      const long = protectionLevels(script, 'longEntry', bar);
      const short = protectionLevels(script, 'shortEntry', bar);
      expect(Object.keys(long).sort()).toEqual(['stopLoss', 'takeProfit']);
      expect(Object.keys(short).sort()).toEqual(['stopLoss', 'takeProfit']);
      for (const level of [...Object.values(long), ...Object.values(short)]) expect(level).toBeGreaterThan(0);
      expect(long.stopLoss).toBeLessThan(bar.close);
      expect(short.takeProfit).toBeLessThan(bar.close);
      // Ordinary bars keep the plain ATR distances.
      const normal = protectionLevels(script, 'longEntry', { ...bar, close: 50_000, atrValue: 500 });
      expect(normal.stopLoss).toBeCloseTo(50_000 - 500 * multipliers.slAtrMult!);
    },
  );

  it('gives two presets on one symbol different alert ids for the same bar', () => {
    const ids = PINE_PRESETS.map((preset) =>
      extractAlertCalls(generatePineScript(preset, target).script).map(
        (call) => webhookPayloadSchema.parse(JSON.parse(evaluateStringConcat(call.message, fired))).alert_id,
      ),
    );
    // Within one script the exits of a bar share an id on purpose (one exit per bar); across presets none.
    for (const [i, mine] of ids.entries())
      for (const other of ids.slice(i + 1)) expect(mine.filter((id) => other.includes(id))).toEqual([]);
  });
});

describe('pine checks catch broken scripts', () => {
  const { script } = generatePineScript(PINE_PRESETS[0]!, target);

  it('reports an unclosed bracket and an unterminated string', () => {
    expect(bracketProblems(script.replace('ta.atr(atrPeriod)', 'ta.atr(atrPeriod'))).not.toEqual([]);
    expect(bracketProblems(script.replace("title='ATR period'", "title='ATR period"))).not.toEqual([]);
  });

  it('reports a condition that uses an undeclared identifier', () => {
    const broken = script.replace('if longEntry\n    alert(', 'if longEntry and missingThing\n    alert(');
    const call = extractAlertCalls(broken).find((c) => c.condition.includes('missingThing'))!;
    expect(undeclaredIdentifiers(call.condition, declaredNames(broken))).toEqual(['missingThing']);
  });

  it('reports an input without a title', () => {
    expect(inputsWithoutTitle(script.replace("title='ATR period', ", ''))).toHaveLength(1);
  });
});

describe('alert messages', () => {
  it('refuses to render a message the webhook would reject', () => {
    expect(() =>
      renderPineMessage({ ...alertSpec(target, 'long', 'balanced_trader'), leverage: 500 }),
    ).toThrow(AlertMessageError);
    expect(() =>
      renderPineMessage({ ...alertSpec(target, 'long', 'balanced_trader'), symbol: 'NOT A SYMBOL' }),
    ).toThrow(AlertMessageError);
    expect(() =>
      renderDialogMessage({
        ...alertSpec(target, 'long', 'balanced_trader'),
        stop_loss: [slot('{{plot_0}}', 'abc')],
      }),
    ).toThrow(AlertMessageError);
  });

  it('escapes the secret for a Pine string literal', () => {
    const { pine } = renderPineMessage({
      ...alertSpec(target, 'close_long', 'balanced_trader'),
      action: 'close_all',
      alert_id: undefined,
      timestamp: undefined,
    });
    expect(pine.startsWith("'") && pine.endsWith("'")).toBe(true);
    const json = evaluateStringConcat(pine, fired);
    expect(JSON.parse(json).secret).toBe(target.secret);
  });
});

describe('alert dialog templates', () => {
  const samples: Record<string, string> = {
    '{{ticker}}': 'ETHUSDT.P',
    '{{close}}': '3001.5',
    '{{time}}': '2026-11-26T12:00:00Z',
    '{{timenow}}': '2026-11-26T12:00:04Z',
  };
  const fill = (message: string, comment = 'long') =>
    message.replace(/\{\{[\w.]+\}\}/g, (p) => (p === '{{strategy.order.comment}}' ? comment : samples[p]!));

  it('are accepted by the webhook schema once TradingView fills the placeholders', () => {
    const templates = dialogTemplates(target);
    expect(templates.map((t) => t.id)).toEqual([
      'long',
      'short',
      'close_long',
      'close_short',
      'close_all',
      'strategy_order_comment',
      'strategy_alert_message',
    ]);
    for (const t of templates.filter((t) => t.id !== 'strategy_alert_message')) {
      const payload = webhookPayloadSchema.parse(JSON.parse(fill(t.message)));
      expect(payload.symbol).toBe('ETH/USDT:USDT');
      expect(payload.price).toBe(3001.5);
    }
    const byComment = templates.find((t) => t.id === 'strategy_order_comment')!;
    for (const action of ['long', 'short', 'close_long', 'close_short'] as const) {
      expect(webhookPayloadSchema.parse(JSON.parse(fill(byComment.message, action))).action).toBe(action);
    }
    // buy/sell is not a webhook action: a strategy whose comments are not actions fails loudly, never trades.
    expect(webhookPayloadSchema.safeParse(JSON.parse(fill(byComment.message, 'buy'))).success).toBe(false);
  });
});

describe('sizing and trailing fields in the export', () => {
  const preset = PINE_PRESETS[0]!;
  const payloads = (t: AlertTarget) =>
    extractAlertCalls(generatePineScript(preset, t).script).map((call) =>
      webhookPayloadSchema.parse(JSON.parse(evaluateStringConcat(call.message, fired))),
    );

  it('entries carry the chosen sizing and the trailing stop; exits carry neither', () => {
    const t: AlertTarget = { ...target, sizing: { field: 'notional', value: 250 }, trailingPct: 1.5 };
    for (const p of payloads(t)) {
      if (p.action === 'long' || p.action === 'short') {
        expect(p).toMatchObject({ notional: 250, trailing_pct: 1.5, stop_loss: 2950.25 });
        expect(p.quantity).toBeUndefined();
      } else {
        expect([p.notional, p.trailing_pct, p.quantity]).toEqual([undefined, undefined, undefined]);
      }
    }
  });

  it('break_even_pct rides with the entries and their script stop, never with exits', () => {
    const withStops = payloads({ ...target, breakEvenPct: 1.5 });
    for (const p of withStops) {
      if (p.action === 'long' || p.action === 'short')
        expect(p).toMatchObject({ break_even_pct: 1.5, stop_loss: 2950.25 });
      else expect(p.break_even_pct).toBeUndefined();
    }
    const noStops = payloads({ ...target, includeStops: false, breakEvenPct: 1.5 });
    expect(noStops.every((p) => p.break_even_pct === undefined)).toBe(true);
  });

  it('risk_pct rides with the script stop; dialog templates, which have no stop, leave it out', () => {
    const t: AlertTarget = { ...target, sizing: { field: 'risk_pct', value: 1 } };
    const entries = payloads(t).filter((p) => p.action === 'long' || p.action === 'short');
    expect(entries.map((p) => [p.risk_pct, p.stop_loss])).toEqual([
      [1, 2950.25],
      [1, 2950.25],
    ]);
    const long = dialogTemplates(t).find((d) => d.id === 'long')!;
    expect(long.message).not.toContain('risk_pct');
    const withBalance = dialogTemplates({ ...target, sizing: { field: 'balance_pct', value: 5 } });
    expect(withBalance.find((d) => d.id === 'long')!.message).toContain('"balance_pct":5');
    expect(withBalance.find((d) => d.id === 'close_long')!.message).not.toContain('balance_pct');
  });
});
