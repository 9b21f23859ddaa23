import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './env.ts';

/** A queue prefix of its own per test file (with a cluster hash tag like production), and its cleanup. */
export function testQueuePrefix(): string {
  return `{th-test-${randomBytes(5).toString('hex')}}`;
}

/** Removes every key under `prefix` (also used by the benchmarks, with their own Redis URL). */
export async function deleteRedisPrefix(prefix: string, redisUrl: string = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
