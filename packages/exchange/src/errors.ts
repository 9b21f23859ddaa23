import * as ccxt from 'ccxt';

/**
 * How an exchange error affects an order job:
 * - `retryable`: the outcome is uncertain or temporary (network, timeout, 5xx, 429, clock skew); retry with
 *   backoff, and look every order up by its client id before sending it again.
 * - `final`: the exchange said no (funds, invalid order, auth, permissions); retrying cannot help.
 */
export type ErrorClass = 'retryable' | 'final';

export function classifyExchangeError(err: unknown): ErrorClass {
  if (err instanceof OrderNotSettled) return 'retryable';
  // ccxt reports Binance -2015 ("Invalid API-key, IP, or permissions for action.") as DDoSProtection once a key
  // has worked, guessing a temporary ban. A revoked key or a removed IP allow-list entry answers the same, and
  // retrying them only adds weight against the IP: final for that account.
  if (err instanceof ccxt.DDoSProtection && /"code":\s*-2015\b/.test(err.message)) return 'final';
  // -5028: the matching engine refused a request that reached it after its recvWindow: never executed, and a
  // fresh request (new timestamp) may go. ccxt maps it to BadRequest.
  if (isLateForMatchingEngine(err)) return 'retryable';
  if (err instanceof ccxt.NetworkError) return 'retryable'; // RequestTimeout, ExchangeNotAvailable, DDoS, RateLimit, InvalidNonce
  if (err instanceof ccxt.BadResponse) return 'retryable';
  if (err instanceof ccxt.ExchangeError) return 'final';
  if (err instanceof OrderSizeError) return 'final';
  // Anything else (a bug, a socket reset outside ccxt): treat as uncertain.
  return 'retryable';
}

/**
 * A trigger order refused because the market is already past its level: Binance -2021 "Order would
 * immediately trigger", OKX 51277–51280 (trigger on the wrong side of the last price).
 */
export function isTriggerThroughMarket(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    /"code":\s*-2021\b/.test(err.message) || /"sCode":\s*"5127[7-9]"|"sCode":\s*"51280"/.test(err.message)
  );
}

/**
 * A trailing stop refused because the market already passed its activation price: Binance -4135 "Invalid
 * activation price", OKX 51258 / 51259 (a sell's active price below, a buy's above the last price).
 */
export function isActivationPassed(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return /"code":\s*-4135\b/.test(err.message) || /"sCode":\s*"5125[89]"/.test(err.message);
}

function isLateForMatchingEngine(err: unknown): boolean {
  return err instanceof ccxt.BadRequest && /"code":\s*-5028\b/.test(err.message);
}

/** Clock skew: re-sync the time difference before the next attempt. */
export function isClockSkew(err: unknown): boolean {
  return err instanceof ccxt.InvalidNonce;
}

export function isOrderNotFound(err: unknown): boolean {
  return err instanceof ccxt.OrderNotFound;
}

/**
 * The request was refused before it could execute (rate limit or ban, timestamp outside the window, bad
 * credentials, any explicit refusal): it can never land, so nothing needs looking up before the next send.
 */
export function provesNotExecuted(err: unknown): boolean {
  if (err instanceof ccxt.RateLimitExceeded || err instanceof ccxt.DDoSProtection) return true;
  if (err instanceof ccxt.InvalidNonce || isLateForMatchingEngine(err)) return true;
  return classifyExchangeError(err) === 'final';
}

/** An order the exchange accepted but has not shown in a final state within the settle bound. */
export class OrderNotSettled extends Error {
  override readonly name = 'OrderNotSettled';
}

/** A size that cannot be sent (rounds to zero, below the minimum quantity or notional). */
export class OrderSizeError extends Error {
  override readonly name = 'OrderSizeError';
}

/** Readable message of an exchange error, without the URL/query ccxt sometimes prepends. */
export function exchangeErrorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const name = err.constructor?.name && err.constructor.name !== 'Error' ? `${err.constructor.name}: ` : '';
  // ccxt messages look like `binanceusdm {"code":-2019,"msg":"Margin is insufficient."}`.
  let msg = err.message.replace(/^(binanceusdm|binance|okx)\s+/, '');
  const json = /\{.*\}/.exec(msg);
  if (json) {
    try {
      const body = JSON.parse(json[0]) as {
        code?: unknown;
        msg?: unknown;
        data?: Array<{ sCode?: unknown; sMsg?: unknown }>;
      };
      const inner = body.data?.[0];
      if (inner?.sCode !== undefined && inner.sCode !== '0')
        msg = `${String(inner.sCode)} ${String(inner.sMsg ?? '')}`.trim();
      else if (body.code !== undefined) msg = `${String(body.code)} ${String(body.msg ?? '')}`.trim();
    } catch {
      // not JSON: keep the text
    }
  }
  // Never echo a signature or key that might be in a URL.
  msg = msg.replace(/(signature|apiKey|api_key|sign)=[^&\s]+/gi, '$1=***');
  return `${name}${msg}`.slice(0, 500);
}
