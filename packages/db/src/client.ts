import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';

/**
 * pg waits for ever for a connection by default: with Postgres unreachable (stopped mid-shutdown, network gone)
 * every request would hang instead of failing fast into a 503 that TradingView resends.
 */
const CONNECT_TIMEOUT_MS = 5_000;

/** Prisma 7 client over node-postgres (docs/decisions/0007-prisma-offline.md: no native query engine). */
export function createPrisma(databaseUrl: string, options: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  return new PrismaClient({ adapter });
}

/** Where a pool reports the error of an idle connection (e.g. Postgres restarted or shut down). */
export type PoolErrorListener = (err: Error) => void;

/**
 * Plain pg pool for hot-path statements Prisma cannot express in one round trip. It always has an 'error'
 * listener: an idle client's error (server shutdown, "terminating connection due to administrator command")
 * is emitted on the pool, and without a listener Node kills the process. The broken client is dropped; the
 * next query opens a new connection once Postgres is back.
 */
export function createPgPool(
  databaseUrl: string,
  options: { max?: number; onError?: PoolErrorListener; commit?: 'durable' | 'deferred' } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // 'deferred' (docs/decisions/0027-deferred-commits.md): commits return before the WAL is on disk. Only for
    // writes that a later durable commit of the same work always follows before anything leaves the process:
    // WAL is flushed in order, so that commit makes them durable too.
    ...(options.commit === 'deferred' ? { options: '-c synchronous_commit=off' } : {}),
  });
  pool.on('error', options.onError ?? ((err) => console.error(`postgres pool error: ${err.message}`)));
  return pool;
}

export type { PrismaClient };
export { pg };
