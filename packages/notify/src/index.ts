export * from './emitter.ts';
export * from './events.ts';
export * from './outage.ts';
