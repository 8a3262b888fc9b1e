// Per-account rate limits, as GOV.UK Pay documents and implements them (§3): per second, 15
// POSTs creating payments, 15 captures, 15 other POSTs, 75 of anything else, each account in
// its own buckets. Counts live in PostgreSQL (one upsert per request) or, with REDIS_URL, in
// Redis (rate-counter.ts), so the limit holds however many nodes serve the account. Each
// account's limits can be raised or lowered.
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
  const limits = limitsFor(ctx, await accountSettings(ctx, accountId));
  const windowStart = new Date(now - (now % WINDOW_MS));
  const count = await rateCounterFor(ctx).increment(`${bucket}:${accountId}`, windowStart, WINDOW_MS);
  if (count > limits[bucket]) {
    await observeRateLimitRefusal(ctx, accountId, bucket);
    throw paymentError('P0900');
  }
}
