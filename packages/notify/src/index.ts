export * from './emitter.ts';
export * from './events.ts';
