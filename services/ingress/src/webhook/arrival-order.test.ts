import { describe, expect, it } from 'vitest';
import { ArrivalOrder } from './arrival-order.ts';

describe('ArrivalOrder', () => {
  it('gives each key its turns in arrival order; other keys do not wait', async () => {
    const order = new ArrivalOrder();
    const log: string[] = [];
    const run = async (key: string, name: string, holdMs: number) => {
      const release = await order.enter(key);
      log.push(`${name} start`);
      await new Promise((r) => setTimeout(r, holdMs));
      log.push(`${name} end`);
      release();
    };
    await Promise.all([run('k', 'a', 30), run('k', 'b', 0), run('other', 'x', 0), run('k', 'c', 0)]);
    expect(log.filter((l) => !l.startsWith('x'))).toEqual([
      'a start',
      'a end',
      'b start',
      'b end',
      'c start',
      'c end',
    ]);
    expect(log.indexOf('x end')).toBeLessThan(log.indexOf('a end'));
    expect(order.size).toBe(0);
  });

  it('lets a successor go after maxWaitMs when its predecessor never finishes', async () => {
    const order = new ArrivalOrder(40);
    await order.enter('k'); // never released
    const started = Date.now();
    const release = await order.enter('k');
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    release();
  });
});
