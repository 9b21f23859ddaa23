import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Real HTTP receivers for tests: a fake Telegram Bot API (what grammY talks to through `apiRoot`), a
 * Discord-style incoming webhook and a plain webhook receiver. Each records every request and answers from a
 * script of failures (429 with retry_after, 5xx, 4xx) before answering success.
 */
export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
}

export interface Failure {
  status: number;
  /** Seconds, sent the way the receiver kind does (Telegram parameters.retry_after, Discord body + header). */
  retryAfter?: number;
  description?: string;
}

export interface Receiver {
  url: string;
  requests: Received[];
  /** Answers the next requests with these failures, in order. */
  fail(...failures: Failure[]): void;
  close(): Promise<void>;
}

type Kind = 'telegram' | 'discord' | 'webhook';

function answer(kind: Kind, failure: Failure | undefined, body: Record<string, unknown>) {
  if (kind === 'telegram') {
    if (!failure) {
      const chat = { id: Number(body['chat_id']) || 0, type: 'private' };
      return {
        status: 200,
        json: { ok: true, result: { message_id: 1, date: 0, chat, text: body['text'] } },
      };
    }
    return {
      status: failure.status,
      json: {
        ok: false,
        error_code: failure.status,
        description:
          failure.description ?? (failure.status === 429 ? 'Too Many Requests' : 'Internal Server Error'),
        ...(failure.retryAfter !== undefined ? { parameters: { retry_after: failure.retryAfter } } : {}),
      },
    };
  }
  if (!failure) return { status: kind === 'discord' ? 204 : 200, json: undefined };
  return {
    status: failure.status,
    json:
      failure.retryAfter !== undefined
        ? { message: 'rate limited', retry_after: failure.retryAfter }
        : { message: 'error' },
    retryAfter: failure.retryAfter,
  };
}

export async function startReceiver(kind: Kind): Promise<Receiver> {
  const requests: Received[] = [];
  const script: Failure[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        /* recorded raw */
      }
      requests.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, raw, body });
      const a = answer(kind, script.shift(), body);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if ('retryAfter' in a && a.retryAfter !== undefined)
        headers['retry-after'] = String(Math.ceil(a.retryAfter));
      res.writeHead(a.status, headers).end(a.json === undefined ? '' : JSON.stringify(a.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail: (...failures) => void script.push(...failures),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls until `predicate` holds (the test's own timeout bounds the wait). */
export async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
