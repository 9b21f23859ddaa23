import * as ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { withSharedEndpointTables } from './endpoint-tables.ts';

const implicit = (ex: object) =>
  Object.getOwnPropertyNames(ex)
    .filter((k) => typeof (ex as Record<string, unknown>)[k] === 'function')
    .sort();

describe.each([
  ['binanceusdm', ccxt.binanceusdm],
  ['okx', ccxt.okx],
  ['pro binanceusdm', ccxt.pro.binanceusdm],
  ['pro okx', ccxt.pro.okx],
] as const)('shared endpoint tables: %s', (_name, Base) => {
  it('a later instance has the same implicit API as a plain ccxt instance, bound to itself', async () => {
    const Shared = withSharedEndpointTables(Base);
    expect(withSharedEndpointTables(Base)).toBe(Shared);
    new Shared({});
    const later = new Shared({ apiKey: 'k', secret: 's' });
    const plain = new Base({});
    expect(implicit(later)).toEqual(implicit(plain));
    expect(later).toBeInstanceOf(Base);
    const seen: unknown[][] = [];
    (later as unknown as { request: (...a: unknown[]) => Promise<unknown> }).request = async (...a) => {
      seen.push(a);
      return {};
    };
    const name = implicit(plain).find((k) => /^(fapi)?[pP]ublicGet/.test(k))!;
    const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    await (later as unknown as Record<string, (p: object) => Promise<unknown>>)[name]!({ a: 1 });
    await (later as unknown as Record<string, (p: object) => Promise<unknown>>)[snake]?.({ a: 2 });
    expect(seen[0]!.slice(2, 4)).toEqual(['GET', { a: 1 }]);
    if (seen[1]) expect(seen[1].slice(0, 3)).toEqual(seen[0]!.slice(0, 3));
  });
});
