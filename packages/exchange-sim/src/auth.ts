/** Request authentication, as strict as the real exchanges. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Account, Engine } from './engine.ts';

export interface AuthFailure {
  status: number;
  code: number | string;
  msg: string;
}

/** Binance: lowercase hex HMAC-SHA256 over the exact payload bytes. */
export function binanceSign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
}

/** OKX: base64 HMAC-SHA256 over timestamp + METHOD + requestPath(+?query) + body. */
export function okxSign(
  secret: string,
  timestamp: string,
  method: string,
  requestPath: string,
  body: string,
): string {
  return createHmac('sha256', secret)
    .update(timestamp + method.toUpperCase() + requestPath + body, 'utf8')
    .digest('base64');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Binance signed request. `query` is the raw query string, `body` the raw form body. Binance concatenates
 * query + body when both are present (totalParams); ccxt sends one or the other.
 */
export function verifyBinance(
  engine: Engine,
  headers: IncomingHttpHeaders,
  query: string,
  body: string,
  nowMs = engine.clock.now(),
): { account: Account } | { error: AuthFailure } {
  const apiKey = header(headers, 'x-mbx-apikey');
  if (!apiKey) return { error: { status: 401, code: -2014, msg: 'API-key format invalid.' } };
  const account = engine.account('binance', apiKey);
  if (!account)
    return { error: { status: 401, code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' } };
  const total = query && body ? `${query}${body}` : query || body;
  const idx = total.lastIndexOf('signature=');
  const isBoundary = idx === 0 || (idx > 0 && total[idx - 1] === '&');
  if (idx < 0 || !isBoundary) {
    return {
      error: {
        status: 400,
        code: -1102,
        msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
      },
    };
  }
  const signed = total.slice(0, Math.max(0, idx - 1));
  const signature = total.slice(idx + 'signature='.length).split('&')[0] ?? '';
  const params = new URLSearchParams(signed);
  const tsRaw = params.get('timestamp');
  if (!tsRaw)
    return {
      error: {
        status: 400,
        code: -1102,
        msg: "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
      },
    };
  const ts = Number(tsRaw);
  const recvWindow = Number(params.get('recvWindow') ?? 5000);
  if (!Number.isFinite(ts) || ts > nowMs + 1000) {
    return {
      error: {
        status: 400,
        code: -1021,
        msg: "Timestamp for this request was 1000ms ahead of the server's time.",
      },
    };
  }
  if (nowMs - ts > recvWindow) {
    return {
      error: { status: 400, code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' },
    };
  }
  const expected = binanceSign(account.apiSecret, signed);
  if (!safeEqual(expected, signature)) {
    return { error: { status: 400, code: -1022, msg: 'Signature for this request is not valid.' } };
  }
  return { account };
}

/** OKX signed request. `requestPath` is `/api/v5/...` plus `?query` when present. */
export function verifyOkx(
  engine: Engine,
  headers: IncomingHttpHeaders,
  method: string,
  requestPath: string,
  body: string,
  nowMs = engine.clock.now(),
): { account: Account } | { error: AuthFailure } {
  const key = header(headers, 'ok-access-key');
  const pass = header(headers, 'ok-access-passphrase');
  const ts = header(headers, 'ok-access-timestamp');
  const sign = header(headers, 'ok-access-sign');
  if (!key)
    return { error: { status: 401, code: '50103', msg: 'Request header OK-ACCESS-KEY cannot be empty.' } };
  if (!pass)
    return {
      error: { status: 401, code: '50104', msg: 'Request header OK-ACCESS-PASSPHRASE cannot be empty.' },
    };
  if (!sign)
    return { error: { status: 401, code: '50106', msg: 'Request header OK-ACCESS-SIGN cannot be empty.' } };
  if (!ts)
    return {
      error: { status: 401, code: '50107', msg: 'Request header OK-ACCESS-TIMESTAMP cannot be empty.' },
    };
  const account = engine.account('okx', key);
  if (!account) return { error: { status: 401, code: '50111', msg: 'Invalid OK-ACCESS-KEY.' } };
  const simulated = header(headers, 'x-simulated-trading') === '1';
  if (simulated !== account.testnet) {
    return { error: { status: 401, code: '50101', msg: 'APIKey does not match current environment.' } };
  }
  const tsMs = Date.parse(ts);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(ts) || !Number.isFinite(tsMs)) {
    return { error: { status: 401, code: '50112', msg: 'Invalid OK-ACCESS-TIMESTAMP.' } };
  }
  if (Math.abs(nowMs - tsMs) > 30_000) {
    return { error: { status: 401, code: '50102', msg: 'Timestamp request expired.' } };
  }
  if (pass !== account.passphrase) {
    return { error: { status: 401, code: '50105', msg: 'OK-ACCESS-PASSPHRASE incorrect.' } };
  }
  const expected = okxSign(account.apiSecret, ts, method, requestPath, body);
  if (!safeEqual(expected, sign)) return { error: { status: 401, code: '50113', msg: 'Invalid Sign.' } };
  return { account };
}
