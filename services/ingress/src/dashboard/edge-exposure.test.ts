import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The HTTPS edge publishes only the webhook and its health check: never /app or the admin API. */
describe('deploy/Caddyfile', () => {
  const caddyfile = readFileSync(new URL('../../../../deploy/Caddyfile', import.meta.url), 'utf8');
  const routed = [...caddyfile.matchAll(/^\s*(?:path|handle)\s+(\/\S*)/gm)].map((m) => m[1]);

  it('routes only the webhook and the health check to the ingress, everything else answers 404', () => {
    expect(routed.sort()).toEqual(['/api/v1/webhook/health', '/api/v1/webhook/tradingview']);
    expect(caddyfile).toMatch(/handle \{\s*respond "not found" 404/);
  });
});
