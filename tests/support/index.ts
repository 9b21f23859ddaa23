export * from './env.ts';
export * from './db.ts';
export * from './redis.ts';
