import type { PineParameter, PinePresetSummary } from '@tradehook/contracts';

/**
 * Presets of the exported SuperTrend strategy. They differ only in parameter values; the Pine code is the same
 * (generator.ts), so every preset is covered by the same structural and round-trip tests.
 */
export interface PinePreset {
  id: string;
  name: string;
  description: string;
  defaultLeverage: number;
  /** Share of equity per trade in the TradingView backtest only (the webhook sizes orders itself). */
  backtestEquityPercent: number;
  atrPeriod: number;
  factor: number;
  slAtrMult: number;
  tpAtrMult: number;
}

export const PINE_PRESETS: readonly PinePreset[] = [
  {
    id: 'conservative_trader',
    name: 'Conservative Trader',
    description:
      'Slow SuperTrend (ATR 14 × 4.0): few, late signals that ignore most noise; tight 1.0×ATR stop, ' +
      '2.0×ATR target (2:1). Leverage 2. For beginners and higher timeframes (4h–1D).',
    defaultLeverage: 2,
    backtestEquityPercent: 5,
    atrPeriod: 14,
    factor: 4,
    slAtrMult: 1,
    tpAtrMult: 2,
  },
  {
    id: 'balanced_trader',
    name: 'Balanced Trader',
    description:
      'Classic SuperTrend (ATR 10 × 3.0); 1.5×ATR stop, 3.0×ATR target (2:1). Leverage 5. ' +
      'A middle ground for 1h–4h charts.',
    defaultLeverage: 5,
    backtestEquityPercent: 10,
    atrPeriod: 10,
    factor: 3,
    slAtrMult: 1.5,
    tpAtrMult: 3,
  },
  {
    id: 'aggressive_trader',
    name: 'Aggressive Trader',
    description:
      'Fast SuperTrend (ATR 7 × 2.0): early, frequent signals with more whipsaws; 2.0×ATR stop, ' +
      '3.0×ATR target (1.5:1). Leverage 10. For experienced traders on 15m–1h charts.',
    defaultLeverage: 10,
    backtestEquityPercent: 20,
    atrPeriod: 7,
    factor: 2,
    slAtrMult: 2,
    tpAtrMult: 3,
  },
];

export function findPreset(id: string): PinePreset | undefined {
  return PINE_PRESETS.find((p) => p.id === id.trim().toLowerCase());
}

/** The strategy inputs, in script order; `name` is the Pine variable the script declares. */
export function presetParameters(preset: PinePreset): PineParameter[] {
  return [
    {
      name: 'atrPeriod',
      title: 'ATR period',
      type: 'int',
      value: preset.atrPeriod,
      min: 1,
      max: 200,
      description: 'Bars in the ATR used by SuperTrend and by the stop-loss/take-profit distances.',
    },
    {
      name: 'factor',
      title: 'SuperTrend factor',
      type: 'float',
      value: preset.factor,
      min: 0.5,
      max: 20,
      step: 0.1,
      description: 'Band width in ATRs; higher = fewer, later trend flips.',
    },
    {
      name: 'slAtrMult',
      title: 'Stop-loss distance (x ATR)',
      type: 'float',
      value: preset.slAtrMult,
      min: 0.1,
      max: 20,
      step: 0.1,
      description: 'Stop-loss = entry close ∓ this many ATRs (fixed at entry).',
    },
    {
      name: 'tpAtrMult',
      title: 'Take-profit distance (x ATR)',
      type: 'float',
      value: preset.tpAtrMult,
      min: 0.1,
      max: 50,
      step: 0.1,
      description: 'Take-profit = entry close ± this many ATRs (fixed at entry).',
    },
  ];
}

export function presetSummary(preset: PinePreset): PinePresetSummary {
  return {
    preset_id: preset.id,
    name: preset.name,
    description: preset.description,
    default_leverage: preset.defaultLeverage,
    parameters: presetParameters(preset),
  };
}
