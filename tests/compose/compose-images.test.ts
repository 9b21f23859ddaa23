import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCompose, readEnvFile, REPO_ROOT } from './compose-file.ts';

/**
 * What keeps a second `docker compose up` (or `--scale`) from recreating containers, and the demo and a real
 * installation from stepping on each other — checked on the file, so it holds on machines without Docker.
 */
const demoEnv = readEnvFile(join(REPO_ROOT, 'deploy/demo.env'));
const real = loadCompose({});
const demo = loadCompose(demoEnv);
const appServices = (file: typeof real) =>
  Object.entries(file.services).filter(([, s]) => s.image?.startsWith('tradehook:'));

describe('compose images', () => {
  it('builds the app image once (one service has build:), every other app service only runs it', () => {
    const apps = appServices(demo);
    expect(apps.map(([n]) => n).sort()).toEqual(
      [
        'demo',
        'ingress',
        'init',
        'migrate',
        'notifier',
        'risk',
        'sim',
        'worker-binance',
        'worker-okx',
      ].sort(),
    );
    const builders = apps.filter(([, s]) => s.build !== undefined).map(([n]) => n);
    expect(builders).toEqual(['init']);
    for (const [name, s] of apps) {
      expect(s.image, name).toBe(apps[0]![1].image);
      if (name !== 'init') expect(s.pull_policy, name).toBe('never');
    }
  });

  it('gives the demo its own image tag, so a demo build never retags the real installation', () => {
    const realImage = appServices(real)[0]![1].image;
    const demoImage = appServices(demo)[0]![1].image;
    expect(realImage).toBe('tradehook:local');
    expect(demoImage).not.toBe(realImage);
  });

  it('never takes a generated secret from the shell or .env (an exported demo secret would silently win)', () => {
    const text = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
    const interpolated = [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]);
    const secrets = ['WEBHOOK_SECRET', 'ADMIN_TOKEN', 'CREDENTIALS_PUBLIC_KEY', 'CREDENTIALS_PRIVATE_KEY'];
    expect(interpolated.filter((name) => secrets.includes(name!))).toEqual([]);
    // Nor set by the file at all: the entrypoint fills them from the secrets volumes.
    const shellLike = { WEBHOOK_SECRET: 'from-the-shell', ADMIN_TOKEN: 'from-the-shell-token' };
    for (const [name, s] of Object.entries(loadCompose({ ...demoEnv, ...shellLike }).services)) {
      expect(
        Object.keys(s.environment ?? {}).filter((k) => secrets.includes(k)),
        name,
      ).toEqual([]);
    }
  });

  it('never tells the user to export the secrets (compose would take them as overrides in later runs)', () => {
    for (const doc of ['README.md', 'docs/guide.ko.md']) {
      const text = readFileSync(join(REPO_ROOT, doc), 'utf8');
      // The commands a reader copies: every fenced code block.
      const commands = [...text.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].flatMap((m) => m[1]!.split('\n'));
      expect(commands.length, doc).toBeGreaterThan(20);
      const exporting = commands.filter(
        (l) => /WEBHOOK_SECRET|ADMIN_TOKEN/.test(l) && /\bexport\b|set -a|sed 's\/\^\/export/.test(l),
      );
      expect(exporting, doc).toEqual([]);
    }
  });
});
