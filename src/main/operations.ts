// What an operator can do from the CLI, as named operations over the same service functions
// the API and console use. The CLI runs them directly against the store, or, when `coffer
// serve` holds the embedded store, asks the server to run them through its operator socket.
import type { AppContext } from '../platform/context.js';
import { pendingMigrations, migrateToLatest } from '../store/migrate.js';
import * as services from '../services/service.service.js';
import * as keys from '../keys/key.service.js';
import { createInvite } from '../console/identity/invite.service.js';
import { disableUser, previewDisable } from '../console/access/leaver.service.js';
import { findUserByEmail } from '../console/identity/user.repo.js';
import type { AccountMode } from '../store/schema.js';
import { webhookOperations } from '../webhooks/webhook.operations.js';
import { hostedOperations } from '../hosted/hosted.operations.js';
import { paymentOperations } from '../payments/payment.operations.js';
import { auditOperations, runAudited } from '../audit/audit.operations.js';
import { networkOperations } from '../network/network.operations.js';
import { oidcOperations } from '../console/oidc/oidc.operations.js';

type Args = Record<string, unknown>;
type Operation = (ctx: AppContext, args: Args, actor: string) => Promise<unknown>;

const text = (args: Args, name: string): string => {
  const value = args[name];
  if (typeof value !== 'string') throw new TypeError(`operation argument ${name} must be a string`);
  return value;
};
const optionalText = (args: Args, name: string): string | undefined => (args[name] === undefined ? undefined : text(args, name));
const list = (args: Args, name: string): string[] => (Array.isArray(args[name]) ? (args[name] as unknown[]).map(String) : []);
const optionalNumber = (args: Args, name: string): number | undefined => (typeof args[name] === 'number' ? args[name] : undefined);

export const operations: Record<string, Operation> = {
  'migrate': async (ctx) => ({ applied: await migrateToLatest(ctx.db), pending: await pendingMigrations(ctx.db) }),
  'service.create': (ctx, args) => services.createService(ctx, { name: text(args, 'name') }),
  'service.list': (ctx) => services.listServices(ctx),
  'service.enable-live': (ctx, args) => services.enableLiveAccount(ctx, text(args, 'serviceId')),
  'key.create': (ctx, args, actor) =>
    keys.createKey(ctx, {
      serviceId: text(args, 'serviceId'),
      mode: text(args, 'mode') as AccountMode,
      name: text(args, 'name'),
      scopes: list(args, 'scopes'),
      expiresInMs: optionalNumber(args, 'expiresInMs'),
      allowedIps: list(args, 'allowedIps'),
      createdBy: actor,
    }),
  'key.list': (ctx, args) => keys.listKeysForService(ctx, text(args, 'serviceId')),
  'key.revoke': (ctx, args, actor) => keys.revokeKey(ctx, text(args, 'keyId'), { by: actor, reason: optionalText(args, 'reason') }),
  'key.roll': (ctx, args, actor) => keys.rollKey(ctx, text(args, 'keyId'), { overlapMs: optionalNumber(args, 'overlapMs') ?? 0, by: actor }),
  'user.invite': async (ctx, args, actor) => {
    const invite = await createInvite(ctx, { email: text(args, 'email'), serviceId: text(args, 'serviceId'), role: text(args, 'role'), createdBy: actor });
    return { link: invite.link, expiresAt: invite.expiresAt, email: invite.email, role: invite.role };
  },
  'user.leaver-preview': async (ctx, args) => {
    const user = await findUserByEmail(ctx.db, text(args, 'email'));
    if (!user) return { found: false, keys: [] };
    const preview = await previewDisable(ctx, user.id);
    return { found: true, userId: user.id, status: user.status, keys: preview.keys };
  },
  'user.disable': async (ctx, args, actor) => {
    const user = await findUserByEmail(ctx.db, text(args, 'email'));
    if (!user) throw new TypeError('no console user with that email');
    return disableUser(ctx, user.id, { by: actor, reason: optionalText(args, 'reason') ?? 'disabled by an operator', confirmedKeyIds: list(args, 'confirmedKeyIds') });
  },
  ...auditOperations,
  ...networkOperations,
  ...webhookOperations,
  ...hostedOperations,
  ...paymentOperations,
  ...oidcOperations,
};

export async function runOperation(ctx: AppContext, name: string, args: Args, actor: string): Promise<unknown> {
  const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
  if (!operation) throw new TypeError(`unknown operation ${name}`);
  // Results cross a socket as JSON; run locally they take the same form, so output is identical.
  // Every command is recorded in the audit log, under the operator who ran it.
  return runAudited(ctx, name, args, actor, async () => JSON.parse(JSON.stringify(await operation(ctx, args, actor))));
}
