export * from './client.ts';
export * from './migrations.ts';
export { Prisma } from './generated/client.ts';
export type * from './generated/models.ts';
export * from './repositories/risk-limits.ts';
export * from './repositories/fills-pnl.ts';
export * from './repositories/accounts.ts';
export * from './repositories/signals.ts';
