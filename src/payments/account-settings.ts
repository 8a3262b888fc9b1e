// An account's payment features and limits, read on every create and every rate-limited
// request, so cached per node for a few seconds: a change applies everywhere within
// SETTINGS_TTL_MS, and at once on the node that made it (forgetAccountSettings).
import type { Kysely } from 'kysely';
import type { AppContext } from '../platform/context.js';
import type { Database } from '../store/schema.js';
import { findSettings, upsertSettings } from './payment.repo.js';
import type { NewPaymentAccountSettings, PaymentAccountSettingsRow } from './payment.tables.js';

export const SETTINGS_TTL_MS = 5000;
const MAX_ENTRIES = 10_000;

const defaults = (accountId: string): PaymentAccountSettingsRow => ({
  account_id: accountId,
  allow_moto: false,
  allow_moto_api: false,
  allow_recurring: false,
  allow_zero_amount: false,
  payments_disabled: false,
  rate_limit_create_per_second: null,
  rate_limit_capture_per_second: null,
  rate_limit_post_per_second: null,
  rate_limit_get_per_second: null,
});

interface Cached {
  loadedAt: number;
  settings: PaymentAccountSettingsRow;
}

// One cache per open store: tests open several in one process.
const caches = new WeakMap<Kysely<Database>, Map<string, Cached>>();

export async function accountSettings(ctx: AppContext, accountId: string): Promise<PaymentAccountSettingsRow> {
  let cache = caches.get(ctx.db);
  if (!cache) caches.set(ctx.db, (cache = new Map()));
  const now = ctx.clock.now().getTime();
  const hit = cache.get(accountId);
  if (hit && now - hit.loadedAt < SETTINGS_TTL_MS && now >= hit.loadedAt) return hit.settings;
  const settings = (await findSettings(ctx.db, accountId)) ?? defaults(accountId);
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(accountId, { loadedAt: now, settings });
  return settings;
}

export function forgetAccountSettings(ctx: AppContext, accountId: string): void {
  caches.get(ctx.db)?.delete(accountId);
}

/** Changes an account's payment features or limits (operators and tests). */
export async function configureAccount(
  ctx: AppContext,
  accountId: string,
  changes: Partial<Omit<NewPaymentAccountSettings, 'account_id'>>,
): Promise<PaymentAccountSettingsRow> {
  await upsertSettings(ctx.db, { account_id: accountId, ...changes });
  forgetAccountSettings(ctx, accountId);
  return accountSettings(ctx, accountId);
}
