// The adapters live in adapter/ (base.ts + one folder per venue); this module keeps the old import path.
export * from './adapter/index.ts';
