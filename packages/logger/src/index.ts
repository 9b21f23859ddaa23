import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';

/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEYS = new Set([
  'secret',
  'webhook_secret',
  'api_key',
  'apikey',
  'api_secret',
  'apisecret',
  'passphrase',
  'password',
  'authorization',
  'signature',
  'token',
  'admin_token',
  'credentials',
  'private_key',
  'x-mbx-apikey',
  'ok-access-key',
  'ok-access-sign',
  'ok-access-passphrase',
]);

export const REDACTED = '[redacted]';

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** Masks secrets that sneak into free text, e.g. a JSON body quoted in an error message. */
export function redactText(text: string): string {
  return text.replace(
    /("?(?:secret|api_secret|api_key|passphrase|password|webhook_secret|signature)"?\s*[:=]\s*)("[^"]*"|[^\s,&}]+)/gi,
    `$1"${REDACTED}"`,
  );
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.has(key.toLowerCase())) info[key] = REDACTED;
    else if (key !== 'level' && key !== 'message') info[key] = redact(info[key]);
  }
  if (typeof info.message === 'string') info.message = redactText(info.message);
  if (typeof info.stack === 'string') info.stack = redactText(info.stack);
  return info;
});

/**
 * `level` and `message` lead every line (then the time and the service), so a reader scanning a terminal
 * sees what happened before the details. Rebuilds the object: JSON keeps insertion order.
 */
const leadingKeysFormat = winston.format((info) => {
  const { level, message, timestamp, service, ...rest } = info;
  const ordered = Object.assign(
    {
      level,
      message,
      ...(timestamp === undefined ? {} : { timestamp }),
      ...(service === undefined ? {} : { service }),
    },
    rest,
  );
  // winston's own bookkeeping lives under symbols, which the rest spread above copies too.
  return ordered as typeof info;
});

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Directory for app.log; empty/undefined = stdout only. */
  logDir?: string;
  /** Extra transport (tests capture output through it). */
  transports?: winston.transport[];
  silent?: boolean;
}

export type Logger = winston.Logger;

/** JSON lines to stdout and to `<logDir>/app.log`; `requestId` travels through child loggers. */
export function createLogger(options: LoggerOptions): Logger {
  const format = winston.format.combine(
    winston.format.errors({ stack: true }),
    redactFormat(),
    winston.format.timestamp(),
    leadingKeysFormat(),
    // deterministic: false keeps that order (the default sorts keys alphabetically).
    winston.format.json({ deterministic: false }),
  );
  const transports: winston.transport[] = [new winston.transports.Console({ silent: options.silent })];
  if (options.logDir) {
    mkdirSync(options.logDir, { recursive: true });
    transports.push(
      new winston.transports.File({
        filename: join(options.logDir, 'app.log'),
        maxsize: 50 * 1024 * 1024,
        maxFiles: 5,
        tailable: true,
      }),
    );
  }
  transports.push(...(options.transports ?? []));
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service },
    format,
    transports,
  });
}

export { winston };
