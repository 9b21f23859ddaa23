import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnvSchema } from '../../packages/config/src/index.ts';
import { riskDefaultsEnvSchema } from '../../packages/risk/src/defaults.ts';
import { ingressEnvSchema } from '../../services/ingress/src/config.ts';
import { notifierEnvSchema } from '../../services/notifier/src/config.ts';
import { riskEnvSchema } from '../../services/risk/src/config.ts';
import { workerEnvSchema } from '../../services/worker/src/config.ts';
import { loadCompose, REPO_ROOT, serviceEnvironment } from './compose-file.ts';

/** The README promises every environment variable: a setting added to a service's schema must be documented. */
describe('README environment variables', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const schemas = {
    baseEnvSchema,
    riskDefaultsEnvSchema,
    ingressEnvSchema,
    riskEnvSchema,
    workerEnvSchema,
    notifierEnvSchema,
  };

  for (const [name, schema] of Object.entries(schemas)) {
    it(`documents every variable of ${name}`, () => {
      const missing = Object.keys(schema.shape).filter((key) => !readme.includes(`\`${key}\``));
      expect(missing).toEqual([]);
    });
  }

  it('documents every variable docker-compose.yml reads or sets', () => {
    const text = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
    const interpolated = [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1] as string);
    const compose = loadCompose({});
    const set = Object.entries(compose.services)
      .filter(([name]) => !['postgres', 'redis', 'caddy', 'init', 'sim', 'demo'].includes(name))
      .flatMap(([, svc]) => Object.keys(serviceEnvironment(svc)));
    const missing = [...new Set([...interpolated, ...set])].filter((key) => !readme.includes(`\`${key}\``));
    expect(missing).toEqual([]);
  });
});
