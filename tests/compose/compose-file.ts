import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * Reads docker-compose.yml the way Compose does for what the parity test needs: YAML merge keys,
 * `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$` interpolation from an env file, and each service's
 * command, environment, volumes and dependencies.
 */
export const REPO_ROOT = join(import.meta.dirname, '../..');

export interface ComposeService {
  image?: string;
  build?: unknown;
  pull_policy?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  restart?: string;
  container_name?: string;
  stop_grace_period?: string;
  init?: boolean;
  healthcheck?: { test?: string[]; disable?: boolean };
  networks?: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g,
    (match, name, colon, fallback) => {
      if (match === '$$') return '$';
      const v = env[name as string];
      if (fallback === undefined) return v ?? '';
      if (colon === ':') return v ? v : (fallback as string);
      return v === undefined ? (fallback as string) : v;
    },
  );
}

function interpolateDeep(node: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateDeep(n, env));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateDeep(v, env)]));
  }
  return node;
}

/** KEY=VALUE lines of an env file such as deploy/demo.env. */
export function readEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}

export function loadCompose(
  env: Record<string, string | undefined> = {},
  file = 'docker-compose.yml',
): ComposeFile {
  const raw = parse(readFileSync(join(REPO_ROOT, file), 'utf8'), { merge: true }) as ComposeFile;
  return interpolateDeep(raw, env) as ComposeFile;
}

/** The `ENV` settings of the Dockerfile's runtime stage (what every container starts with). */
export function dockerfileRuntimeEnv(): Record<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/\\\r?\n/g, ' ');
  const runtime = text.slice(text.search(/^FROM .* AS runtime$/m));
  const env: Record<string, string> = {};
  for (const line of runtime.split(/\r?\n/)) {
    if (!line.startsWith('ENV ')) continue;
    for (const m of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
      env[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

export function serviceEnvironment(service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
  );
}

/** Named-volume mounts as {volume, target}. */
export function volumeMounts(
  service: ComposeService,
): Array<{ volume: string; target: string; readOnly: boolean }> {
  return (service.volumes ?? []).map((spec) => {
    const [volume = '', target = '', mode] = spec.split(':');
    return { volume, target, readOnly: mode === 'ro' };
  });
}
