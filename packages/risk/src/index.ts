export * from './defaults.ts';
export * from './day-window.ts';
export * from './effective-limits.ts';
export * from './decide.ts';
export * from './evaluate.ts';
export * from './sizing.ts';
export * from './protection-plan.ts';
