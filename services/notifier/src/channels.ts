import { createHmac } from 'node:crypto';
import type { NotificationEvent } from '@tradehook/contracts';
import { Api, GrammyError, HttpError } from 'grammy';
import { renderBatch, renderEvent, type Locale } from './templates.ts';

/**
 * The three kinds of destination. A channel sends one batch as one message (one HTTP request) and throws a
 * {@link DeliveryError} that says whether and when to try again. Credentials stay inside the channel: every error
 * text is scrubbed of them before it leaves, because failure reasons are logged and kept in Redis.
 */
export type ChannelType = 'telegram' | 'discord' | 'webhook';

export interface Channel {
  /** Routing and batching key, e.g. `telegram:-1001234`, `discord`, `webhook`; never contains a secret. */
  readonly key: string;
  readonly type: ChannelType;
  send(events: NotificationEvent[]): Promise<void>;
}

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    /** false: retrying cannot help (bad token, unknown chat, 4xx). */
    readonly retryable: boolean,
    /** The receiver's own wait (Telegram `retry_after`, `Retry-After`), ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Replaces every secret (and its URL-encoded form) in a text. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    out = out.split(s).join('[redacted]').split(encodeURIComponent(s)).join('[redacted]');
  }
  return out;
}

function fromStatus(what: string, status: number, retryAfterS: number | undefined): DeliveryError {
  const retryAfterMs =
    retryAfterS !== undefined && retryAfterS >= 0 ? Math.ceil(retryAfterS * 1000) : undefined;
  const retryable = status === 429 || status >= 500;
  return new DeliveryError(
    `${what} answered ${status}`,
    retryable,
    status === 429 ? retryAfterMs : undefined,
  );
}

export interface TelegramOptions {
  token: string;
  chatId: string;
  locale: Locale;
  /** Bot API server (a self-hosted one, or a local fake in tests); default https://api.telegram.org. */
  apiRoot?: string;
  timeoutSeconds?: number;
}

/** Telegram through grammY's Api (no polling: the bot only sends). */
export function telegramChannel(o: TelegramOptions): Channel {
  const api = new Api(o.token, {
    ...(o.apiRoot ? { apiRoot: o.apiRoot } : {}),
    timeoutSeconds: o.timeoutSeconds ?? 10,
  });
  const secrets = [o.token];
  return {
    key: `telegram:${o.chatId}`,
    type: 'telegram',
    async send(events) {
      const text = renderBatch(events, o.locale, 4096);
      try {
        await api.sendMessage(o.chatId, text, { link_preview_options: { is_disabled: true } });
      } catch (err) {
        if (err instanceof GrammyError)
          throw fromStatus(
            scrub(`telegram (${err.description})`, secrets),
            err.error_code,
            err.parameters.retry_after,
          );
        const message = err instanceof HttpError ? err.message : String(err);
        throw new DeliveryError(scrub(`telegram: ${message}`, secrets), true);
      }
    },
  };
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
}

function retryAfterHeader(res: Response): number | undefined {
  const v = Number(res.headers.get('retry-after'));
  return Number.isFinite(v) ? v : undefined;
}

export interface DiscordOptions {
  /** Incoming webhook URL; its path holds the webhook token, so the URL is a secret. */
  url: string;
  locale: Locale;
  timeoutMs?: number;
}

/** Discord incoming webhook: `{ content }`, at most 2000 characters, mentions disabled. */
export function discordChannel(o: DiscordOptions): Channel {
  const secrets = [o.url, new URL(o.url).pathname];
  return {
    key: 'discord',
    type: 'discord',
    async send(events) {
      const body = JSON.stringify({
        content: renderBatch(events, o.locale, 2000),
        allowed_mentions: { parse: [] },
      });
      let res: Response;
      try {
        res = await post(o.url, body, {}, o.timeoutMs ?? 10_000);
      } catch (err) {
        throw new DeliveryError(scrub(`discord: ${(err as Error).message}`, secrets), true);
      }
      if (res.ok) return;
      // Discord puts the wait in the JSON body (seconds, fractional) as well as in Retry-After.
      const json = (await res.json().catch(() => ({}))) as { retry_after?: unknown };
      const after = typeof json.retry_after === 'number' ? json.retry_after : retryAfterHeader(res);
      throw fromStatus('discord', res.status, after);
    },
  };
}

export interface WebhookOptions {
  url: string;
  /** HMAC-SHA256 key of the `X-Tradehook-Signature` header; the receiver recomputes it over timestamp.body. */
  secret?: string;
  locale: Locale;
  timeoutMs?: number;
}

/** `X-Tradehook-Signature: sha256=<hex of HMAC(secret, "<timestamp>.<body>")>`, timestamp in X-Tradehook-Timestamp. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Generic outgoing webhook: the events as JSON, each with its rendered text, signed when a secret is set. */
export function webhookChannel(o: WebhookOptions): Channel {
  const secrets = [o.url, ...(o.secret ? [o.secret] : [])];
  return {
    key: 'webhook',
    type: 'webhook',
    async send(events) {
      const timestamp = String(Date.now());
      const body = JSON.stringify({
        source: 'tradehook',
        sent_at: new Date(Number(timestamp)).toISOString(),
        events: events.map((e) => ({ ...e, text: renderEvent(e, o.locale) })),
      });
      const headers: Record<string, string> = { 'x-tradehook-timestamp': timestamp };
      if (o.secret) headers['x-tradehook-signature'] = signWebhook(o.secret, timestamp, body);
      let res: Response;
      try {
        res = await post(o.url, body, headers, o.timeoutMs ?? 10_000);
      } catch (err) {
        throw new DeliveryError(scrub(`webhook: ${(err as Error).message}`, secrets), true);
      }
      if (!res.ok) throw fromStatus('webhook', res.status, retryAfterHeader(res));
    },
  };
}
