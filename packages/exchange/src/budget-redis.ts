/**
 * The request budget's host-wide window in Redis, shared by every replica on one egress IP
 * (docs/decisions/0020-request-budget-shared-through-redis.md). A hash of per-bucket weight sums
 * (bucket = window / 60) under one key per (venue, IP); each reservation is one Lua script, so check and
 * spend are atomic across replicas. The window counted is the buckets overlapping (now − window, now],
 * i.e. up to one bucket more than the exchange counts: errs towards fewer requests. Redis's own clock
 * (TIME) is used, so replicas need no synchronised clocks. Weights are floats (HINCRBYFLOAT): ccxt prices some
 * endpoints below 1 (e.g. 0.1), and HINCRBY's refusal of those looked like an unreachable Redis.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SharedWindow } from './budget.ts';

/** What we need of an ioredis client. */
export interface RedisEval {
  eval(script: string, numkeys: number, ...args: Array<string | number>): Promise<unknown>;
  evalsha(sha: string, numkeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/**
 * EVAL the first time a connection runs a script (which caches it in Redis), EVALSHA after that, and EVAL again
 * when Redis no longer knows it (NOSCRIPT: a restart, SCRIPT FLUSH): every request of the hot path reserves
 * through one of these, and sending the whole script each time was ~1 KiB per call.
 */
function runScript(
  redis: RedisEval,
  loaded: Set<string>,
  script: Script,
  numkeys: number,
  args: Array<string | number>,
): Promise<unknown> {
  const full = () => redis.eval(script.body, numkeys, ...args).then((r) => (loaded.add(script.sha), r));
  if (!loaded.has(script.sha)) return full();
  return redis.evalsha(script.sha, numkeys, ...args).catch((err: unknown) => {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return full();
  });
}

interface Script {
  body: string;
  sha: string;
}
const script = (body: string): Script => ({ body, sha: createHash('sha1').update(body).digest('hex') });

const WINDOW_SUM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local windowMs = tonumber(ARGV[1])
local bucketMs = tonumber(ARGV[2])
local nowB = math.floor(now / bucketMs)
local firstB = math.floor((now - windowMs) / bucketMs)
local fields = {}
for b = firstB, nowB do fields[#fields + 1] = tostring(b) end
local vals = redis.call('HMGET', KEYS[1], unpack(fields))
local sum = 0
for i = 1, #vals do if vals[i] then sum = sum + tonumber(vals[i]) end end
`;

/** KEYS: window, pause. ARGV: windowMs, bucketMs, weight, limit → {1, used} | {0, waitMs}. */
const RESERVE = script(`${WINDOW_SUM}
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused - now} end
local weight = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
if sum + weight > limit then
  local need = sum + weight - limit
  local freed = 0
  for i = 1, #vals do
    if vals[i] then
      freed = freed + tonumber(vals[i])
      if freed >= need then return {0, (firstB + i) * bucketMs + windowMs - now} end
    end
  end
  return {0, windowMs}
end
if weight > 0 then redis.call('HINCRBYFLOAT', KEYS[1], tostring(nowB), weight) end
redis.call('PEXPIRE', KEYS[1], windowMs + 2 * bucketMs)
if redis.call('HLEN', KEYS[1]) > nowB - firstB + 16 then
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    if tonumber(f) < firstB then redis.call('HDEL', KEYS[1], f) end
  end
end
return {1, sum + weight}
`);

/** KEYS: window. ARGV: windowMs, bucketMs, used → raises the window to the exchange's counter. */
const OBSERVE = script(`${WINDOW_SUM}
local used = tonumber(ARGV[3])
if used > sum then
  redis.call('HINCRBYFLOAT', KEYS[1], tostring(nowB), used - sum)
  redis.call('PEXPIRE', KEYS[1], windowMs + 2 * bucketMs)
end
return sum
`);

/** KEYS: window, pause. ARGV: windowMs, bucketMs, weight → 0 after adding without a check | pause left. */
const SPEND = script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local bucketMs = tonumber(ARGV[2])
redis.call('HINCRBYFLOAT', KEYS[1], tostring(math.floor(now / bucketMs)), tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + 2 * bucketMs)
return 0
`);

/** KEYS: pause. ARGV: ms → pause until Redis-now + ms, never shortening a longer pause. */
const PAUSE = script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > cur then redis.call('SET', KEYS[1], tostring(untilMs), 'PX', tonumber(ARGV[1]) + 1000) end
return untilMs
`);

export class RedisBudgetStore {
  /** Distinguishes the process-local budgets that coordinate through this store (see `sharedBudget`). */
  readonly scope = `redis-${randomUUID()}`;
  /** Scripts this connection has run (so Redis has them cached): EVALSHA from then on. */
  private readonly loaded = new Set<string>();

  constructor(
    private readonly redis: RedisEval,
    private readonly prefix = 'tradehook',
  ) {}

  window(venue: string, egressIp: string, windowMs: number): SharedWindow {
    // One hash tag for both keys: the script touches them together (same slot on a cluster).
    const base = `${this.prefix}:budget:{${venue}:${egressIp}}`;
    const bucketMs = Math.max(1, Math.floor(windowMs / 60));
    const redis = this.redis;
    const loaded = this.loaded;
    // The shared window's count as the last reservation saw it: an exchange counter not above it has nothing
    // to raise (OBSERVE would be a no-op), so the round trip is skipped — one Redis call less per request.
    let seen = { used: 0, at: 0 };
    return {
      async reserve(weight, limit) {
        const r = (await runScript(redis, loaded, RESERVE, 2, [
          `${base}:w`,
          `${base}:pause`,
          windowMs,
          bucketMs,
          weight,
          limit,
        ])) as [number, number];
        if (r[0] !== 1) return { granted: false, waitMs: Math.max(1, Number(r[1])) };
        seen = { used: Number(r[1]), at: Date.now() };
        return { granted: true };
      },
      async spend(weight) {
        return Number(
          await runScript(redis, loaded, SPEND, 2, [
            `${base}:w`,
            `${base}:pause`,
            windowMs,
            bucketMs,
            weight,
          ]),
        );
      },
      async observe(used) {
        // Not above what a reservation saw less than a bucket ago: at most one bucket has left our window
        // since, and the exchange's own minute no longer counts those requests either.
        if (used <= seen.used && Date.now() - seen.at < bucketMs) return;
        await runScript(redis, loaded, OBSERVE, 1, [`${base}:w`, windowMs, bucketMs, used]);
      },
      async pause(ms) {
        await runScript(redis, loaded, PAUSE, 1, [`${base}:pause`, Math.ceil(ms)]);
      },
    };
  }
}
