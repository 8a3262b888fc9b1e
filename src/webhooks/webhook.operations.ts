// Operator operations for webhooks, run by the CLI directly or through a running server's
// operator socket. The signing secret is in the result of create and rotate-secret only.
import type { AppContext } from '../platform/context.js';
import type { AccountMode } from '../store/schema.js';
import { findAccountByServiceAndMode } from '../services/service.repo.js';
import { notFound } from '../platform/errors.js';
import * as webhooks from './webhook.service.js';

type Args = Record<string, unknown>;
type Operation = (ctx: AppContext, args: Args, actor: string) => Promise<unknown>;

const text = (args: Args, name: string): string => {
  const value = args[name];
  if (typeof value !== 'string') throw new TypeError(`operation argument ${name} must be a string`);
  return value;
};
const list = (args: Args, name: string): string[] => (Array.isArray(args[name]) ? (args[name] as unknown[]).map(String) : []);

async function accountOf(ctx: AppContext, serviceId: string, mode: AccountMode): Promise<string> {
  const account = await findAccountByServiceAndMode(ctx.db, serviceId, mode);
  if (!account) throw notFound();
  return account.id;
}

export const webhookOperations: Record<string, Operation> = {
  'webhook.create': (ctx, args, actor) =>
    webhooks.createEndpoint(ctx, {
      serviceId: text(args, 'serviceId'),
      mode: text(args, 'mode') as AccountMode,
      url: text(args, 'url'),
      description: typeof args.description === 'string' ? args.description : undefined,
      eventTypes: list(args, 'eventTypes'),
      createdBy: actor,
    }),
  'webhook.list': (ctx, args) => webhooks.listEndpointsForService(ctx, text(args, 'serviceId')),
  'webhook.rotate-secret': async (ctx, args) => {
    const mode = text(args, 'mode') as AccountMode;
    const accountId = await accountOf(ctx, text(args, 'serviceId'), mode);
    return webhooks.rotateSecret(ctx, accountId, text(args, 'webhookId'), typeof args.overlapMs === 'number' ? args.overlapMs : undefined);
  },
};
