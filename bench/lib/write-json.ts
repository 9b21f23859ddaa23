import { writeFileSync } from 'node:fs';
import * as prettier from 'prettier';

/** Writes JSON formatted the way the repository's Prettier check expects, so a bench run keeps `pnpm lint` green. */
export async function writeFormattedJson(file: string, value: unknown): Promise<void> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(
    file,
    await prettier.format(JSON.stringify(value), { ...options, parser: 'json', filepath: file }),
  );
}
