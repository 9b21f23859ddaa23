import type { Candle, PositionSide } from '@tradehook/exchange';

/** Pure arithmetic of an entry: ATR, SL/TP levels and their validation. */

/** Wilder's ATR over `period` candles (oldest first); null when there are too few candles. */
export function averageTrueRange(candles: Candle[], period: number): number | null {
  if (candles.length < period + 1) return null;
  const tr: number[] = [];
  for (let i = 1; i < candles.length; i++) {
    const c = candles[i]!;
    const prevClose = candles[i - 1]!.close;
    tr.push(Math.max(c.high - c.low, Math.abs(c.high - prevClose), Math.abs(c.low - prevClose)));
  }
  let atr = tr.slice(0, period).reduce((a, b) => a + b, 0) / period;
  for (let i = period; i < tr.length; i++) atr = (atr * (period - 1) + tr[i]!) / period;
  return atr > 0 ? atr : null;
}

export interface ProtectionLevels {
  stopLoss: number | undefined;
  takeProfit: number | undefined;
  source: 'signal' | 'atr' | 'none';
  atr?: number;
}

export class LevelError extends Error {
  override readonly name = 'LevelError';
}

/** A long needs SL < price < TP; a short TP < price < SL. Throws a readable LevelError otherwise. */
export function validateLevels(
  side: PositionSide,
  price: number,
  stopLoss: number | undefined,
  takeProfit: number | undefined,
  takeProfitField = 'take_profit',
): void {
  const long = side === 'long';
  if (stopLoss !== undefined && (long ? stopLoss >= price : stopLoss <= price)) {
    throw new LevelError(
      `stop_loss ${stopLoss} must be ${long ? 'below' : 'above'} the entry price (${price}) for a ${side}`,
    );
  }
  if (takeProfit !== undefined && (long ? takeProfit <= price : takeProfit >= price)) {
    throw new LevelError(
      `${takeProfitField} ${takeProfit} must be ${long ? 'above' : 'below'} the entry price (${price}) for a ${side}`,
    );
  }
}

/** ATR-based levels around the fill price; a level that would be ≤ 0 is dropped. */
export function atrLevels(
  side: PositionSide,
  fillPrice: number,
  atr: number,
  slMultiplier: number,
  tpMultiplier: number,
): { stopLoss: number | undefined; takeProfit: number | undefined } {
  const dir = side === 'long' ? 1 : -1;
  const sl = fillPrice - dir * slMultiplier * atr;
  const tp = fillPrice + dir * tpMultiplier * atr;
  return { stopLoss: sl > 0 ? sl : undefined, takeProfit: tp > 0 ? tp : undefined };
}
