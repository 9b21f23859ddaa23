import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, redact, redactText, winston } from './index.ts';

function capture() {
  const lines: string[] = [];
  const transport = new winston.transports.Stream({
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const logger = createLogger({ service: 'test', level: 'debug', transports: [transport] });
  logger.transports[0]!.silent = true;
  return { logger, text: () => lines.join('') };
}

describe('logger redaction', () => {
  it('masks secret-named keys at any depth and in child logger metadata', () => {
    const { logger, text } = capture();
    logger.child({ requestId: 'r1', api_key: 'KEY-AAAA' }).info('registering', {
      body: { account_id: 'a', api_secret: 'SECRET-BBBB', nested: [{ passphrase: 'PASS-CCCC' }] },
      headers: { Authorization: 'Bearer TOKEN-DDDD', 'OK-ACCESS-SIGN': 'SIGN-EEEE' },
      secret: 'WEBHOOK-FFFF',
    });
    const out = text();
    for (const s of ['KEY-AAAA', 'SECRET-BBBB', 'PASS-CCCC', 'TOKEN-DDDD', 'SIGN-EEEE', 'WEBHOOK-FFFF']) {
      expect(out).not.toContain(s);
    }
    const line = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      service: 'test',
      requestId: 'r1',
      message: 'registering',
      secret: REDACTED,
    });
    expect(line.body).toEqual({ account_id: 'a', api_secret: REDACTED, nested: [{ passphrase: REDACTED }] });
  });

  it('masks secrets quoted in messages and error stacks', () => {
    const { logger, text } = capture();
    logger.warn('bad body {"secret":"WEBHOOK-1111","action":"long"} from api_key=KEY-2222&x=1');
    logger.error(new Error('parse failed near passphrase: PASS-3333'));
    const out = text();
    for (const s of ['WEBHOOK-1111', 'KEY-2222', 'PASS-3333']) expect(out).not.toContain(s);
    expect(out).toContain('"action\\":\\"long\\"');
  });

  it('redact() and redactText() leave ordinary data alone', () => {
    expect(redact({ a: 1, b: { c: 'x' }, d: [1, 2] })).toEqual({ a: 1, b: { c: 'x' }, d: [1, 2] });
    expect(redact({ Secret: 's' })).toEqual({ Secret: REDACTED });
    expect(redactText('nothing to hide here')).toBe('nothing to hide here');
  });
});

describe('logger line layout', () => {
  it('puts level and message first on every line, whatever the metadata', () => {
    const { logger, text } = capture();
    logger.child({ requestId: 'r1', account: 'acc' }).info('signal finished', { aaa: 1, symbol: 'BTCUSDT' });
    logger.error(new Error('boom'));
    const lines = text().trim().split('\n');
    expect(lines[0]).toMatch(/^\{"level":"info","message":"signal finished",/);
    expect(lines[1]).toMatch(/^\{"level":"error","message":"boom",/);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      requestId: 'r1',
      account: 'acc',
      aaa: 1,
      symbol: 'BTCUSDT',
    });
  });
});
