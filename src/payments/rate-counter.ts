// Where the per-account request counts of rate-limit.ts live. Every node must see the same
// count, so it is never a node's memory: PostgreSQL (one upsert per request, the default), or
// Redis when REDIS_URL is set (one round trip to an in-memory INCR, and no write for
// PostgreSQL to carry on every API call).
//
// With Redis, a request whose count cannot be taken there (Redis down, restarting, too slow)
// is counted in PostgreSQL instead, so the limits keep holding across nodes and no payment is
// refused or let through unchecked because an optional cache went away. While Redis is partly
// reachable the two counts are separate, so an account may pass up to twice its limit in that
// second; a limit is never skipped.
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { AppContext } from '../platform/context.js';
import type { Database } from '../store/schema.js';
import { metricsFor } from '../metrics/metrics.js';
import { countRequest } from './payment.repo.js';

export interface RateCounter {
  /** Adds `by` (one request, or a node's lease of several: rate-limit.ts) to the bucket's count for the window starting at windowStart; resolves with the new count. */
  increment(bucket: string, windowStart: Date, windowMs: number, by: number): Promise<number>;
}

const postgresCounter = (db: Kysely<Database>): RateCounter => ({
  increment: (bucket, windowStart, _windowMs, by) => countRequest(db, bucket, windowStart, by),
});

// INCRBY and its expiry in one atomic step: a window's key never lives for ever because a node
// died between two commands. It is kept for ten windows, not one: a node whose clock runs a
// little behind still counts into the same window as the others, and Redis holds at most ten
// keys per account and bucket.
const INCREMENT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

const WINDOWS_KEPT = 10;

interface CountingRedis extends Redis {
  cofferCountRequest(key: string, ttlMs: number, by: number): Promise<number>;
}

function redisCounter(redis: Redis, fallback: RateCounter, onFallback: (err: unknown) => void): RateCounter {
  const client = redis as CountingRedis;
  // ioredis sends the script by its SHA-1 (EVALSHA) and loads it again if Redis lost it.
  if (typeof client.cofferCountRequest !== 'function') client.defineCommand('cofferCountRequest', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
  return {
    async increment(bucket, windowStart, windowMs, by) {
      try {
        return Number(await client.cofferCountRequest(`coffer:rate:${bucket}:${windowStart.getTime()}`, windowMs * WINDOWS_KEPT, by));
      } catch (err) {
        onFallback(err);
        return fallback.increment(bucket, windowStart, windowMs, by);
      }
    },
  };
}

// One counter per open store (tests run several in one process), rebuilt if its Redis changes.
const counters = new WeakMap<Kysely<Database>, { redis: Redis | undefined; counter: RateCounter }>();

/** The counter of this Coffer: Redis (falling back to PostgreSQL) when configured, else PostgreSQL. */
export function rateCounterFor(ctx: AppContext): RateCounter {
  const known = counters.get(ctx.db);
  if (known && known.redis === ctx.redis) return known.counter;
  const inPostgres = postgresCounter(ctx.db);
  const counter = ctx.redis
    ? redisCounter(ctx.redis, inPostgres, (err) => {
        metricsFor(ctx).rateLimitFallbacks.inc();
        ctx.log.debug({ err: { message: (err as Error).message } }, 'rate limit counted in PostgreSQL: Redis did not answer');
      })
    : inPostgres;
  counters.set(ctx.db, { redis: ctx.redis, counter });
  return counter;
}
