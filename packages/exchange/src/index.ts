export * from './types.ts';
export * from './errors.ts';
export * from './client.ts';
export * from './adapter.ts';
export * from './budget.ts';
export type { TradeCursor } from './trade-history.ts';
export type { FundingBatch, FundingCursor, FundingInfo } from './funding-history.ts';
export { withRequestPriority, type BudgetConfig } from './budget-hook.ts';
export { RedisBudgetStore, type RedisEval } from './budget-redis.ts';
