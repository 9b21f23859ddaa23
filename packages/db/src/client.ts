import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';

/** Prisma 7 client over node-postgres (docs/decisions/0007-prisma-offline.md: no native query engine). */
export function createPrisma(databaseUrl: string, options: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}

/** Plain pg pool for hot-path statements Prisma cannot express in one round trip. */
export function createPgPool(databaseUrl: string, options: { max?: number } = {}): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
}

export type { PrismaClient };
export { pg };
