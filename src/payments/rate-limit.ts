// Per-account rate limits, as GOV.UK Pay documents and implements them (§3): per second, 15
// POSTs creating payments, 15 captures, 15 other POSTs, 75 of anything else, each account in
// its own buckets. Counts live in PostgreSQL (one upsert per request) or, with REDIS_URL, in
// Redis (rate-counter.ts), so the limit holds however many nodes serve the account. Each
// account's limits can be raised or lowered.
//
// Leases, for raised limits: at LEASE_FROM a second or more, a node takes its share of the
// count a lease at a time (a hundredth of the limit, at most MAX_LEASE) and answers from it
// until it is spent, so a busy account costs one shared write per lease instead of one per
// request, and its requests do not all queue on the one row (or key) of its window. The shared
// count is then the requests leased, so the limit still holds across nodes, never exceeded; what
// it costs is that a node's unspent lease ends with its window, so with several nodes an account
// may be refused up to a hundredth of its limit early, per node. GOV.UK Pay's defaults, and any
// limit below LEASE_FROM, are counted request by request as before: exact.
import type { AppContext } from '../platform/context.js';
import { accountSettings } from './account-settings.js';
import { paymentError } from './payment.errors.js';
import { rateCounterFor } from './rate-counter.js';
import type { PaymentAccountSettingsRow } from './payment.tables.js';
import { observeRateLimitRefusal } from '../alerts/detectors/rate-limit.js';

export type RateBucket = 'create_payment' | 'capture_payment' | 'post' | 'get';

export const DEFAULT_LIMITS: Record<RateBucket, number> = { create_payment: 15, capture_payment: 15, post: 15, get: 75 };
const WINDOW_MS = 1000;

function limitsFor(ctx: AppContext, settings: PaymentAccountSettingsRow): Record<RateBucket, number> {
  const defaults = ctx.payments?.defaultRateLimits ?? DEFAULT_LIMITS;
  return {
    create_payment: settings.rate_limit_create_per_second ?? defaults.create_payment,
    capture_payment: settings.rate_limit_capture_per_second ?? defaults.capture_payment,
    post: settings.rate_limit_post_per_second ?? defaults.post,
    get: settings.rate_limit_get_per_second ?? defaults.get,
  };
}

/** Counts the request; throws 429 P0900 once the account's bucket is full for this second. */
export async function takeRequest(ctx: AppContext, accountId: string, bucket: RateBucket): Promise<void> {
  const now = ctx.clock.now().getTime();
  const limit = limitsFor(ctx, await accountSettings(ctx, accountId))[bucket];
  const windowStart = now - (now % WINDOW_MS);
  const key = `${bucket}:${accountId}`;
  const allowed = leaseSize(limit) === 1 ? (await rateCounterFor(ctx).increment(key, new Date(windowStart), WINDOW_MS, 1)) <= limit : await takeFromLease(ctx, key, windowStart, limit);
  if (!allowed) {
    await observeRateLimitRefusal(ctx, accountId, bucket);
    throw paymentError('P0900');
  }
}

export const LEASE_FROM = 200;
const MAX_LEASE = 10_000;

/** How many requests a node counts at once against a limit of `limit` a second: 1 below LEASE_FROM. */
export function leaseSize(limit: number): number {
  return limit < LEASE_FROM ? 1 : Math.min(MAX_LEASE, Math.floor(limit / 100));
}

/** A node's lease on one bucket's window: requests it may still let through, and the one reservation in flight. */
interface Lease {
  windowStart: number;
  limit: number;
  left: number;
  /** The shared count is spent for this window: nothing more to lease. */
  spent: boolean;
  reserving: Promise<void> | undefined;
}

// Per open store (tests run several nodes in one process): each bucket's lease for its current window.
interface Leases {
  byBucket: Map<string, Lease>;
  sweptWindow: number;
}
const leasesByStore = new WeakMap<object, Leases>();

async function takeFromLease(ctx: AppContext, key: string, windowStart: number, limit: number): Promise<boolean> {
  const lease = leaseFor(ctx, key, windowStart, limit);
  for (;;) {
    if (lease.left > 0) {
      lease.left -= 1;
      return true;
    }
    if (lease.spent) return false;
    // Requests arriving while a lease is being taken wait for it rather than each taking one.
    lease.reserving ??= reserve(ctx, key, lease);
    await lease.reserving;
  }
}

function leaseFor(ctx: AppContext, key: string, windowStart: number, limit: number): Lease {
  let leases = leasesByStore.get(ctx.db);
  if (!leases) leasesByStore.set(ctx.db, (leases = { byBucket: new Map(), sweptWindow: windowStart }));
  const known = leases.byBucket.get(key);
  if (known && known.windowStart === windowStart && known.limit === limit) return known;
  // A new window, or a limit changed under a lease (lowered, it must bite at once): a new lease.
  const lease: Lease = { windowStart, limit, left: 0, spent: false, reserving: undefined };
  // A request that waited past its window's end leases from its own window, and leaves the newer one be.
  if (known && known.windowStart > windowStart) return lease;
  leases.byBucket.set(key, lease);
  // Once a window, the leases of buckets no longer in use are dropped.
  if (windowStart > leases.sweptWindow) {
    leases.sweptWindow = windowStart;
    for (const [bucket, old] of leases.byBucket) if (old.windowStart < windowStart) leases.byBucket.delete(bucket);
  }
  return lease;
}

async function reserve(ctx: AppContext, key: string, lease: Lease): Promise<void> {
  try {
    const size = leaseSize(lease.limit);
    const count = await rateCounterFor(ctx).increment(key, new Date(lease.windowStart), WINDOW_MS, size);
    // What was left of the limit before this lease is all that can be granted of it.
    const granted = Math.max(0, Math.min(size, lease.limit - (count - size)));
    lease.left += granted;
    if (granted < size) lease.spent = true;
  } finally {
    lease.reserving = undefined;
  }
}
