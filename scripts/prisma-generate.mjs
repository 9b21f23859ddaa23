// Generates the Prisma client offline: PRISMA_SCHEMA_ENGINE_BINARY points at a stub that fails if it
// is ever executed, which stops the CLI from downloading the engine (docs/decisions/0007-prisma-offline.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prismaBin = join(root, 'node_modules/.bin/prisma');
if (!existsSync(prismaBin)) {
  console.log('prisma CLI not installed yet; skipping client generation');
  process.exit(0);
}
const result = spawnSync(prismaBin, ['generate'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: join(root, 'scripts/prisma-engine-stub.sh'),
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);
