/** Shared set-up for the ingress tests: a real database, a real Redis prefix, and captured log output. */
import { Writable } from 'node:stream';
import { generateCredentialsKeyPair } from '@tradehook/credentials';
import { createLogger, winston } from '@tradehook/logger';
import { Redis } from '@tradehook/queue';
import {
  createTestDatabase,
  deleteRedisPrefix,
  testQueuePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '../../../tests/support/index.ts';
import { createApp } from '../src/app.ts';
import { loadIngressConfig } from '../src/config.ts';
import { buildIngressDeps, type BuildDepsOptions, type IngressDeps } from '../src/deps.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const WEBHOOK_SECRET = 'global-webhook-secret-Zq7xP2';
export const adminHeaders = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** Collects every formatted log line (after redaction) so tests can search them. */
export class CaptureTransport {
  readonly lines: string[] = [];
  readonly transport = new winston.transports.Stream({
    stream: new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  text(): string {
    return this.lines.join('');
  }
}

export interface IngressHarness {
  db: TestDatabase;
  prefix: string;
  deps: IngressDeps;
  app: ReturnType<typeof createApp>;
  logs: CaptureTransport;
  credentialsPrivateKey: string;
  close(): Promise<void>;
}

export async function startIngressHarness(
  env: Record<string, string> = {},
  options: Omit<BuildDepsOptions, 'logger'> = {},
): Promise<IngressHarness> {
  const db = await createTestDatabase();
  const prefix = testQueuePrefix();
  const keys = generateCredentialsKeyPair();
  const config = loadIngressConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ADMIN_TOKEN,
    WEBHOOK_SECRET,
    CREDENTIALS_PUBLIC_KEY: keys.publicKey,
    LOG_DIR: '',
    LOG_LEVEL: 'debug',
    ACCOUNT_REQUEST_TIMEOUT_MS: '2000',
    ...env,
  });
  const logs = new CaptureTransport();
  const logger = createLogger({ service: 'ingress-test', level: 'debug', transports: [logs.transport] });
  // Console output off, capture on.
  logger.transports[0]!.silent = true;
  const deps = await buildIngressDeps(config, { ...options, logger });
  return {
    db,
    prefix,
    deps,
    app: createApp(deps),
    logs,
    credentialsPrivateKey: keys.privateKey,
    close: async () => {
      await deps.close(5000);
      await deleteRedisPrefix(prefix);
      await db.drop();
    },
  };
}

/** Every value stored under a key prefix, as text (strings, hashes, lists, sets, sorted sets, streams). */
export async function dumpRedisPrefix(prefix: string): Promise<string> {
  const redis = new Redis(TEST_REDIS_URL);
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? await redis.hgetall(key)
              : type === 'list'
                ? await redis.lrange(key, 0, -1)
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'zset'
                    ? await redis.zrange(key, 0, -1)
                    : type === 'stream'
                      ? await redis.xrange(key, '-', '+')
                      : null;
        out.push(`${key} ${JSON.stringify(value)}`);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return out.join('\n');
}
