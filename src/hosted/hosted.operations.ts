// Operator operations for the payment page settings of a service's test or live account, run by
// the CLI directly or through a running server's operator socket.
import type { AppContext } from '../platform/context.js';
import type { AccountMode } from '../store/schema.js';
import { findAccountByServiceAndMode } from '../services/service.repo.js';
import { notFound } from '../platform/errors.js';
import { getPageSettings, updatePageSettings } from './hosted.settings.js';
import type { EmailCollection } from './hosted.tables.js';

type Args = Record<string, unknown>;
type Operation = (ctx: AppContext, args: Args, actor: string) => Promise<unknown>;

const text = (args: Args, name: string): string => {
  const value = args[name];
  if (typeof value !== 'string') throw new TypeError(`operation argument ${name} must be a string`);
  return value;
};

async function accountOf(ctx: AppContext, args: Args): Promise<string> {
  const mode = text(args, 'mode');
  if (mode !== 'test' && mode !== 'live') throw new TypeError('mode must be test or live');
  const account = await findAccountByServiceAndMode(ctx.db, text(args, 'serviceId'), mode as AccountMode);
  if (!account) throw notFound();
  return account.id;
}

export const hostedOperations: Record<string, Operation> = {
  'payment-page.show': async (ctx, args) => getPageSettings(ctx, await accountOf(ctx, args)),
  'payment-page.set': async (ctx, args) => {
    const email = args.emailCollection;
    if (email !== undefined && email !== 'mandatory' && email !== 'optional' && email !== 'off') throw new TypeError('email must be mandatory, optional or off');
    return updatePageSettings(ctx, await accountOf(ctx, args), {
      collectBillingAddress: typeof args.collectBillingAddress === 'boolean' ? args.collectBillingAddress : undefined,
      emailCollection: email as EmailCollection | undefined,
      acceptedBrands: Array.isArray(args.acceptedBrands) ? args.acceptedBrands.map(String) : undefined,
    });
  },
};
