export * from './symbols.ts';
export * from './webhook.ts';
export * from './jobs.ts';
export * from './orders.ts';
export * from './api.ts';
