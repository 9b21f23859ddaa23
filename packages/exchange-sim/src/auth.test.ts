import { describe, expect, it } from 'vitest';
import { binanceSign, okxSign, verifyBinance, verifyOkx } from './auth.ts';
import { Engine } from './engine.ts';

describe('signatures', () => {
  it('matches Binance documented test vector', () => {
    const secret = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
    const payload =
      'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
    expect(binanceSign(secret, payload)).toBe(
      'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71',
    );
  });

  it('verifies Binance requests: key, timestamp window, signature over raw bytes', () => {
    const e = new Engine();
    e.createAccount({ exchange: 'binance', apiKey: 'k', apiSecret: 's' });
    const now = 1_700_000_000_000;
    const signed = (ts: number, extra = '') => {
      const q = `symbol=BTCUSDT&recvWindow=5000&timestamp=${ts}${extra}`;
      return `${q}&signature=${binanceSign('s', q)}`;
    };
    expect('account' in verifyBinance(e, { 'x-mbx-apikey': 'k' }, signed(now), '', now)).toBe(true);
    expect(verifyBinance(e, { 'x-mbx-apikey': 'k' }, '', signed(now - 4000), now)).toHaveProperty('account');
    expect(verifyBinance(e, { 'x-mbx-apikey': 'nope' }, signed(now), '', now)).toMatchObject({
      error: { code: -2015 },
    });
    expect(verifyBinance(e, {}, signed(now), '', now)).toMatchObject({ error: { code: -2014 } });
    expect(verifyBinance(e, { 'x-mbx-apikey': 'k' }, signed(now + 1001), '', now)).toMatchObject({
      error: { code: -1021 },
    });
    expect(verifyBinance(e, { 'x-mbx-apikey': 'k' }, signed(now - 5001), '', now)).toMatchObject({
      error: { code: -1021 },
    });
    // re-encoding the same params changes the bytes: must fail
    const tampered = signed(now).replace('symbol=BTCUSDT', 'symbol=BTCUSDT&x=1');
    expect(verifyBinance(e, { 'x-mbx-apikey': 'k' }, tampered, '', now)).toMatchObject({
      error: { code: -1022 },
    });
    expect(verifyBinance(e, { 'x-mbx-apikey': 'k' }, 'timestamp=1', '', now)).toMatchObject({
      error: { code: -1102 },
    });
  });

  it('verifies OKX requests: key, environment, timestamp, passphrase, signature', () => {
    const e = new Engine();
    e.createAccount({ exchange: 'okx', apiKey: 'live', apiSecret: 's', passphrase: 'p' });
    e.createAccount({ exchange: 'okx', apiKey: 'demo', apiSecret: 's', passphrase: 'p', testnet: true });
    const now = Date.parse('2025-01-01T00:00:00.000Z');
    const ts = '2025-01-01T00:00:00.000Z';
    const path = '/api/v5/account/balance?ccy=USDT';
    const h = (key: string, extra: Record<string, string> = {}) => ({
      'ok-access-key': key,
      'ok-access-passphrase': 'p',
      'ok-access-timestamp': ts,
      'ok-access-sign': okxSign('s', ts, 'GET', path, ''),
      ...extra,
    });
    expect(verifyOkx(e, h('live'), 'GET', path, '', now)).toHaveProperty('account');
    expect(verifyOkx(e, h('demo', { 'x-simulated-trading': '1' }), 'GET', path, '', now)).toHaveProperty(
      'account',
    );
    expect(verifyOkx(e, h('demo'), 'GET', path, '', now)).toMatchObject({ error: { code: '50101' } });
    expect(verifyOkx(e, h('live', { 'x-simulated-trading': '1' }), 'GET', path, '', now)).toMatchObject({
      error: { code: '50101' },
    });
    expect(verifyOkx(e, h('nope'), 'GET', path, '', now)).toMatchObject({ error: { code: '50111' } });
    expect(verifyOkx(e, h('live', { 'ok-access-passphrase': 'x' }), 'GET', path, '', now)).toMatchObject({
      error: { code: '50105' },
    });
    expect(verifyOkx(e, h('live'), 'GET', path, '', now + 31_000)).toMatchObject({
      error: { code: '50102' },
    });
    expect(verifyOkx(e, h('live'), 'GET', '/api/v5/account/balance', '', now)).toMatchObject({
      error: { code: '50113' },
    });
  });
});
