import { describe, expect, it } from 'vitest';
import { binanceSymbolId, normaliseSymbol, okxInstrumentId, SymbolFormatError } from './symbols.ts';

describe('normaliseSymbol', () => {
  it.each([
    ['BTCUSDT', 'BTC/USDT:USDT'],
    ['BTCUSDT.P', 'BTC/USDT:USDT'],
    ['BINANCE:BTCUSDT.P', 'BTC/USDT:USDT'],
    ['OKX:BTCUSDT.P', 'BTC/USDT:USDT'],
    ['BTC/USDT:USDT', 'BTC/USDT:USDT'],
    ['BTC/USDT', 'BTC/USDT:USDT'],
    ['BTC-USDT-SWAP', 'BTC/USDT:USDT'],
    ['BTC-USDT', 'BTC/USDT:USDT'],
    ['BTCUSDTPERP', 'BTC/USDT:USDT'],
    ['  btcusdt.p ', 'BTC/USDT:USDT'],
    ['1000PEPEUSDT', '1000PEPE/USDT:USDT'],
    ['ETHUSDC', 'ETH/USDC:USDC'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseSymbol(input).symbol).toBe(expected);
  });

  it('splits base and quote', () => {
    expect(normaliseSymbol('BINANCE:SOLUSDT.P')).toEqual({
      symbol: 'SOL/USDT:USDT',
      base: 'SOL',
      quote: 'USDT',
    });
  });

  it.each(['', 'BTC', 'USDT', 'BTC/USD:BTC', 'BTC_USDT', 'BTC-USDT-FUTURES', 'X'.repeat(41)])(
    'rejects %j',
    (input) => {
      expect(() => normaliseSymbol(input)).toThrow(SymbolFormatError);
    },
  );

  it('maps unified symbols to exchange ids', () => {
    expect(binanceSymbolId('BTC/USDT:USDT')).toBe('BTCUSDT');
    expect(okxInstrumentId('BTC/USDT:USDT')).toBe('BTC-USDT-SWAP');
    expect(okxInstrumentId('BINANCE:ETHUSDT.P')).toBe('ETH-USDT-SWAP');
  });
});
