export * from './types.ts';
export * from './errors.ts';
export * from './client.ts';
export * from './adapter.ts';
export * from './budget.ts';
export * from './live/account-state.ts';
export * from './live/price-feed.ts';
export type { TradeCursor } from './trade-history.ts';
export type { FundingBatch, FundingCursor, FundingInfo } from './funding-history.ts';
