import { createRequire } from 'node:module';
import type SodiumModule from 'libsodium-wrappers';

// The package's ESM build imports a file it does not ship (libsodium-wrappers 0.7.16), so load the CJS build.
const sodium = createRequire(import.meta.url)('libsodium-wrappers') as typeof SodiumModule;
await sodium.ready;

export { sodium };
