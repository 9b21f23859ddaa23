/* global fetch, AbortSignal */
// Container health probe: GET a URL, healthy on 2xx. Default: the ingress health route, which answers 503
// when Redis or Postgres is unreachable. Usage: node deploy/healthcheck.mjs [url]  (or HEALTHCHECK_URL).
const url =
  process.argv[2] ??
  process.env.HEALTHCHECK_URL ??
  `http://127.0.0.1:${process.env.PORT ?? '8001'}/api/v1/webhook/health`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4_000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
