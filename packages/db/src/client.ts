import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';

/** Prisma 7 client over node-postgres (DESIGN.md decision 7: no native query engine). */
export function createPrisma(databaseUrl: string, options: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}

/**
 * Plain pg pool for hot-path statements Prisma cannot express in one round trip. It always has an 'error'
 * listener: an idle client whose connection the server ends (restart, failover, "terminating connection due to
 * administrator command") emits 'error' on the pool, and an EventEmitter 'error' without a listener kills the
 * process. The pool drops that client and connects anew on the next query, so the service rides out an outage.
 */
export function createPgPool(
  databaseUrl: string,
  options: { max?: number; onError?: (err: Error) => void } = {},
): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
  const onError = options.onError ?? ((err: Error) => console.error(`postgres pool error: ${err.message}`));
  pool.on('error', onError);
  return pool;
}

export type { PrismaClient };
export { pg };
