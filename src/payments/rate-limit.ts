// Per-account rate limits, as GOV.UK Pay documents and implements them (§3): per second, 15
// POSTs creating payments, 15 captures, 15 other POSTs, 75 of anything else, each account in
// its own buckets. Counts live in PostgreSQL (one upsert per request), so the limit holds
// however many nodes serve the account. Each account's limits can be raised or lowered.
import type { AppContext } from '../platform/context.js';
import type { Database } from '../store/schema.js';
import type { Kysely } from 'kysely';
import { paymentError } from './payment.errors.js';
import { countRequest, findSettings } from './payment.repo.js';

export type RateBucket = 'create_payment' | 'capture_payment' | 'post' | 'get';

export const DEFAULT_LIMITS: Record<RateBucket, number> = { create_payment: 15, capture_payment: 15, post: 15, get: 75 };
const WINDOW_MS = 1000;
const SETTINGS_TTL_MS = 5000;

interface CachedLimits {
  loadedAt: number;
  limits: Record<RateBucket, number>;
}

// Limits change rarely and a few seconds' lag is harmless; cached per store (tests open several).
const caches = new WeakMap<Kysely<Database>, Map<string, CachedLimits>>();

async function limitsFor(ctx: AppContext, accountId: string, nowMs: number): Promise<Record<RateBucket, number>> {
  let cache = caches.get(ctx.db);
  if (!cache) caches.set(ctx.db, (cache = new Map()));
  const hit = cache.get(accountId);
  if (hit && nowMs - hit.loadedAt < SETTINGS_TTL_MS && nowMs >= hit.loadedAt) return hit.limits;
  const settings = await findSettings(ctx.db, accountId);
  const defaults = ctx.payments?.defaultRateLimits ?? DEFAULT_LIMITS;
  const limits = {
    create_payment: settings?.rate_limit_create_per_second ?? defaults.create_payment,
    capture_payment: settings?.rate_limit_capture_per_second ?? defaults.capture_payment,
    post: settings?.rate_limit_post_per_second ?? defaults.post,
    get: settings?.rate_limit_get_per_second ?? defaults.get,
  };
  if (cache.size > 10_000) cache.clear();
  cache.set(accountId, { loadedAt: nowMs, limits });
  return limits;
}

/** Forgets cached limits, so a change made on this node applies at once. */
export function forgetRateLimits(ctx: AppContext, accountId: string): void {
  caches.get(ctx.db)?.delete(accountId);
}

/** Counts the request; throws 429 P0900 once the account's bucket is full for this second. */
export async function takeRequest(ctx: AppContext, accountId: string, bucket: RateBucket): Promise<void> {
  const now = ctx.clock.now().getTime();
  const limits = await limitsFor(ctx, accountId, now);
  const windowStart = new Date(now - (now % WINDOW_MS));
  const count = await countRequest(ctx.db, `${bucket}:${accountId}`, windowStart);
  if (count > limits[bucket]) throw paymentError('P0900');
}
