import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix, testQueuePrefix, TEST_REDIS_URL } from '../../../tests/support/index.ts';
import { createRedis, openQueue, queueDefinitions, type QueueDefinition } from './index.ts';

const prefix = testQueuePrefix();
const redis = createRedis(TEST_REDIS_URL, 'worker');
afterAll(async () => {
  await deleteRedisPrefix(prefix);
  redis.disconnect();
});

/** The options a job gets when added, with nothing set by the producer. */
async function optionsOfAJob(definition: QueueDefinition<unknown>) {
  const queue = openQueue(definition, redis, prefix);
  try {
    const job = await queue.add('j', {}, { delay: 60_000 });
    return job.opts;
  } finally {
    await queue.close();
  }
}

describe('queue declarations', () => {
  it('order jobs carry their retry policy and retention from the declaration', async () => {
    const opts = await optionsOfAJob(queueDefinitions.orders('okx', 3));
    expect(opts).toMatchObject({
      attempts: 3,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 86_400, count: 10_000 },
    });
  });

  it('signals jobs are tried once (risk retries inside), account requests are kept briefly', async () => {
    expect((await optionsOfAJob(queueDefinitions.signals)).attempts).toBe(1);
    expect(await optionsOfAJob(queueDefinitions.accountRequests('binance'))).toMatchObject({
      removeOnComplete: { age: 3600, count: 1000 },
    });
  });

  it('limit entry follow-ups are retried with backoff and kept like order jobs', async () => {
    expect(await optionsOfAJob(queueDefinitions.limitEntries('okx'))).toMatchObject({
      attempts: 8,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 86_400, count: 10_000 },
    });
    expect(queueDefinitions.limitEntries('binance').name).toBe('limit-entries-binance');
  });

  it('names each queue once, with its job schema', () => {
    expect(queueDefinitions.orders('binance').name).toBe('orders-binance');
    expect(queueDefinitions.signals.schema.safeParse({ signalId: 'x' }).success).toBe(false);
  });
});
