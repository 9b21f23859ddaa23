// `pnpm db:migrate`: applies prisma/migrations to DATABASE_URL (the compose `migrate` service runs this too).
import { applyMigrations } from './migrations.ts';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/tradehook)');
  process.exit(2);
}
try {
  const { applied, alreadyApplied } = await applyMigrations(url, { log: (m) => console.log(m) });
  console.log(`migrations: ${applied.length} applied, ${alreadyApplied.length} already applied`);
} catch (err) {
  console.error(`migration failed: ${(err as Error).message}`);
  process.exit(1);
}
