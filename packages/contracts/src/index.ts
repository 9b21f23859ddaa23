export * from './symbols.ts';
export * from './webhook.ts';
export * from './jobs.ts';
export * from './orders.ts';
export * from './api.ts';
export * from './risk.ts';
export * from './pine.ts';
export * from './issues.ts';
