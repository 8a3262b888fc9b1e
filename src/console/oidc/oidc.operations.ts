// Operator operations for sign-in through an organisation's identity provider: each service
// names the providers its staff may use, with the email domains each may vouch for.
import type { AppContext } from '../../platform/context.js';
import { addOidcProvider, listOidcProviders, removeOidcProvider } from './oidc.service.js';

type Args = Record<string, unknown>;

const text = (args: Args, name: string): string => {
  const value = args[name];
  if (typeof value !== 'string') throw new TypeError(`operation argument ${name} must be a string`);
  return value;
};

export const oidcOperations = {
  'oidc.add': (ctx: AppContext, args: Args, actor: string) =>
    addOidcProvider(ctx, {
      serviceId: text(args, 'serviceId'),
      name: text(args, 'name'),
      issuer: text(args, 'issuer'),
      clientId: text(args, 'clientId'),
      clientSecret: text(args, 'clientSecret'),
      allowedDomains: Array.isArray(args.allowedDomains) ? args.allowedDomains.map(String) : [],
      newUserRole: typeof args.newUserRole === 'string' ? args.newUserRole : null,
      createdBy: actor,
    }),
  'oidc.list': (ctx: AppContext, args: Args) => listOidcProviders(ctx, typeof args.serviceId === 'string' ? args.serviceId : undefined),
  'oidc.remove': async (ctx: AppContext, args: Args) => {
    await removeOidcProvider(ctx, text(args, 'serviceId'), text(args, 'providerId'));
    return { removed: text(args, 'providerId') };
  },
};
