import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsOpener, CredentialsSealer } from '../../packages/credentials/src/index.ts';
import { initSecrets } from '../../deploy/init-secrets.ts';
import { ensureLocalSecrets, readEnvFile, SecretsError } from '../../deploy/secrets.ts';
import { serviceEnv } from '../../scripts/start-all.ts';
import { REPO_ROOT } from './compose-file.ts';

/** First-start secrets: compose init step, local `pnpm start`, and the container entrypoint. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'th-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const postgres = { user: 'tradehook', db: 'tradehook', host: 'postgres', port: '5432' };

describe('compose init step', () => {
  it('generates every secret once, owner-only, into per-service volumes, and never logs a value', () => {
    const lines: string[] = [];
    const first = initSecrets({ dir, postgres, log: (l) => lines.push(l) });
    expect(first.generated).toEqual(
      expect.arrayContaining([
        'WEBHOOK_SECRET',
        'ADMIN_TOKEN',
        'CREDENTIALS_PUBLIC_KEY',
        'CREDENTIALS_PRIVATE_KEY',
      ]),
    );
    const ingress = readEnvFile(join(dir, 'ingress/ingress.env'));
    const worker = readEnvFile(join(dir, 'worker/worker.env'));
    const db = readEnvFile(join(dir, 'db/db.env'));
    expect(Object.keys(ingress).sort()).toEqual(['ADMIN_TOKEN', 'CREDENTIALS_PUBLIC_KEY', 'WEBHOOK_SECRET']);
    expect(Object.keys(worker)).toEqual(['CREDENTIALS_PRIVATE_KEY']);
    const password = readFileSync(join(dir, 'db/postgres_password'), 'utf8');
    expect(db.DATABASE_URL).toBe(`postgresql://tradehook:${password}@postgres:5432/tradehook`);
    for (const f of ['ingress/ingress.env', 'worker/worker.env', 'db/db.env', 'db/postgres_password']) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
    // The pair belongs together: what the ingress seals, a worker opens.
    const box = new CredentialsSealer(ingress.CREDENTIALS_PUBLIC_KEY!).seal(
      { apiKey: 'k', apiSecret: 's' },
      'aad',
    );
    expect(new CredentialsOpener(worker.CREDENTIALS_PRIVATE_KEY!).open(box, 'aad')).toEqual({
      apiKey: 'k',
      apiSecret: 's',
    });
    const log = lines.join('\n');
    for (const value of [...Object.values(ingress), ...Object.values(worker), password])
      expect(log).not.toContain(value);
    expect(log).toContain('docker compose exec ingress cat /secrets/ingress/ingress.env');

    // Second start: nothing changes.
    const second = initSecrets({ dir, postgres, log: () => undefined });
    expect(second.generated).toEqual([]);
    expect(readEnvFile(join(dir, 'ingress/ingress.env'))).toEqual(ingress);
    expect(readEnvFile(join(dir, 'worker/worker.env'))).toEqual(worker);
  });

  it('refuses to replace half of a lost key pair (that would orphan every stored credential)', () => {
    initSecrets({ dir, postgres, log: () => undefined });
    const before = readFileSync(join(dir, 'ingress/ingress.env'), 'utf8');
    unlinkSync(join(dir, 'worker/worker.env'));
    expect(() => initSecrets({ dir, postgres, log: () => undefined })).toThrow(SecretsError);
    expect(readFileSync(join(dir, 'ingress/ingress.env'), 'utf8')).toBe(before);
  });

  it('fills a missing token without touching the key pair', () => {
    initSecrets({ dir, postgres, log: () => undefined });
    const file = join(dir, 'ingress/ingress.env');
    const { ADMIN_TOKEN: _dropped, ...rest } = readEnvFile(file);
    writeFileSync(
      file,
      Object.entries(rest)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      { mode: 0o600 },
    );
    expect(initSecrets({ dir, postgres, log: () => undefined }).generated).toEqual(['ADMIN_TOKEN']);
    const after = readEnvFile(file);
    expect(after.CREDENTIALS_PUBLIC_KEY).toBe(rest.CREDENTIALS_PUBLIC_KEY);
    expect(after.WEBHOOK_SECRET).toBe(rest.WEBHOOK_SECRET);
    expect(after.ADMIN_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('container entrypoint', () => {
  const run = (env: Record<string, string>) =>
    spawnSync(
      '/bin/sh',
      ['deploy/docker-entrypoint.sh', 'sh', '-c', 'printf "%s|%s|%s" "$A" "$B" "${C-unset}"'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TRADEHOOK_SECRETS_DIR: dir, ...env },
        encoding: 'utf8',
      },
    );

  it('exports the mounted secrets files; a non-empty variable from the environment wins', () => {
    mkdirSync(join(dir, 'ingress'));
    writeFileSync(join(dir, 'ingress/ingress.env'), '# comment\nA=from=file\nB=file-b\nbad-key=x\n');
    expect(run({}).stdout).toBe('from=file|file-b|unset');
    expect(run({ B: 'from-env' }).stdout).toBe('from=file|from-env|unset');
    // Compose passes `${B:-}` as an empty string: the file fills it.
    expect(run({ B: '' }).stdout).toBe('from=file|file-b|unset');
  });

  it('runs the command unchanged when nothing is mounted', () => {
    expect(run({ A: 'a' })).toMatchObject({ status: 0, stdout: 'a||unset' });
  });
});

describe('local secrets (pnpm start)', () => {
  it('generates missing secrets into one file, keeps them, and lets the environment win', () => {
    const file = join(dir, '.data/secrets.env');
    const first = ensureLocalSecrets(file, {});
    expect(first.generated).toHaveLength(4);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = ensureLocalSecrets(file, { ADMIN_TOKEN: 'operator-chosen-token-123' });
    expect(again.generated).toEqual([]);
    expect(again.values.ADMIN_TOKEN).toBe('operator-chosen-token-123');
    expect(again.values.WEBHOOK_SECRET).toBe(first.values.WEBHOOK_SECRET);
    // The operator's value is not written to the file.
    expect(readEnvFile(file).ADMIN_TOKEN).toBe(first.values.ADMIN_TOKEN);
  });

  it('gives each service only the secrets it needs', () => {
    const secrets = {
      WEBHOOK_SECRET: 'w',
      ADMIN_TOKEN: 'a',
      CREDENTIALS_PUBLIC_KEY: 'pub',
      CREDENTIALS_PRIVATE_KEY: 'priv',
    };
    const base = { DATABASE_URL: 'postgresql://x', CREDENTIALS_PRIVATE_KEY: 'leaked-from-shell' };
    const ingress = serviceEnv(base, secrets, 'ingress');
    expect(ingress).toMatchObject({ WEBHOOK_SECRET: 'w', ADMIN_TOKEN: 'a', CREDENTIALS_PUBLIC_KEY: 'pub' });
    expect(ingress.CREDENTIALS_PRIVATE_KEY).toBeUndefined();
    const worker = serviceEnv(base, secrets, 'worker');
    expect(worker).toMatchObject({ CREDENTIALS_PRIVATE_KEY: 'priv', DATABASE_URL: 'postgresql://x' });
    expect([worker.WEBHOOK_SECRET, worker.ADMIN_TOKEN, worker.CREDENTIALS_PUBLIC_KEY]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(Object.keys(serviceEnv(base, secrets, 'risk'))).toEqual(['DATABASE_URL']);
  });
});
