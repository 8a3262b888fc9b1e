// Operator operations on an account's payment features and rate limits, run by the CLI
// directly or through a running server's operator socket (so the server's cache is cleared).
import type { AppContext } from '../platform/context.js';
import { notFound, unprocessable } from '../platform/errors.js';
import { findAccountByServiceAndMode } from '../services/service.repo.js';
import type { AccountMode } from '../store/schema.js';
import { accountSettings, configureAccount } from './account-settings.js';
import { DEFAULT_LIMITS } from './rate-limit.js';

type Args = Record<string, unknown>;
type Operation = (ctx: AppContext, args: Args, actor: string) => Promise<unknown>;

async function accountOf(ctx: AppContext, args: Args): Promise<string> {
  const serviceId = args.serviceId;
  const mode = args.mode;
  if (typeof serviceId !== 'string' || (mode !== 'test' && mode !== 'live')) throw new TypeError('serviceId and mode (test or live) are needed');
  const account = await findAccountByServiceAndMode(ctx.db, serviceId, mode as AccountMode);
  if (!account) throw notFound();
  return account.id;
}

const flag = (args: Args, name: string): boolean | undefined => (typeof args[name] === 'boolean' ? args[name] : undefined);

/** A limit: a positive whole number per second, or null to go back to the default. */
function limit(args: Args, name: string): number | null | undefined {
  const value = args[name];
  if (value === undefined) return undefined;
  if (value === null || value === 'default') return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw unprocessable(`${name} must be a whole number of requests per second from 1 to 1000000, or "default"`, name);
  }
  return value;
}

async function view(ctx: AppContext, accountId: string) {
  const s = await accountSettings(ctx, accountId);
  const defaults = ctx.payments?.defaultRateLimits ?? DEFAULT_LIMITS;
  return {
    account_id: accountId,
    allow_moto: s.allow_moto,
    allow_zero_amount: s.allow_zero_amount,
    payments_disabled: s.payments_disabled,
    rate_limits_per_second: {
      create_payment: s.rate_limit_create_per_second ?? defaults.create_payment,
      capture_payment: s.rate_limit_capture_per_second ?? defaults.capture_payment,
      other_post: s.rate_limit_post_per_second ?? defaults.post,
      get: s.rate_limit_get_per_second ?? defaults.get,
    },
  };
}

export const paymentOperations: Record<string, Operation> = {
  'payments.show': async (ctx, args) => view(ctx, await accountOf(ctx, args)),
  'payments.set': async (ctx, args) => {
    const accountId = await accountOf(ctx, args);
    const changes = {
      allow_moto: flag(args, 'allowMoto'),
      allow_zero_amount: flag(args, 'allowZeroAmount'),
      payments_disabled: flag(args, 'paymentsDisabled'),
      rate_limit_create_per_second: limit(args, 'rateLimitCreate'),
      rate_limit_capture_per_second: limit(args, 'rateLimitCapture'),
      rate_limit_post_per_second: limit(args, 'rateLimitPost'),
      rate_limit_get_per_second: limit(args, 'rateLimitGet'),
    };
    await configureAccount(ctx, accountId, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)));
    return view(ctx, accountId);
  },
};
