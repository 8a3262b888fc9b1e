// Services and their accounts. Every service has a test account from birth; a live account is
// enabled deliberately, and only where acknowledged money is safe: on PostgreSQL, with a
// master key the operator supplied (not one generated into the data directory).
import { conflict, notFound, unprocessable } from '../platform/errors.js';
import { prefixedId } from '../platform/random.js';
import type { AppContext } from '../platform/context.js';
import type { AccountRow, ServiceRow } from '../store/schema.js';
import * as repo from './service.repo.js';
import { recordAudit } from '../audit/audit.service.js';

export interface ServiceSummary {
  id: string;
  name: string;
  createdAt: Date;
  liveEnabled: boolean;
}

export async function createService(ctx: AppContext, input: { name: string }): Promise<ServiceSummary> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw unprocessable('name must be 1 to 200 characters', 'name');
  const now = ctx.clock.now();
  const service: ServiceRow = { id: prefixedId('svc'), name, created_at: now };
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertService(trx, service);
    const testAccountId = prefixedId('acct');
    await repo.insertAccount(trx, { id: testAccountId, service_id: service.id, mode: 'test', created_at: now });
    await recordAudit(trx, {
      action: 'service.create',
      object: { type: 'service', id: service.id },
      serviceId: service.id,
      accountId: testAccountId,
      at: now,
      details: { name },
    });
  });
  return { id: service.id, name, createdAt: now, liveEnabled: false };
}

/** Renames a service (its name is on the console and on every payment page of both accounts). */
export async function renameService(ctx: AppContext, serviceId: string, input: { name: string }): Promise<ServiceRow> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw unprocessable('name must be 1 to 200 characters', 'name');
  const service = await requireService(ctx, serviceId);
  if (service.name === name) return service;
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.updateServiceName(trx, serviceId, name))) throw notFound();
    await recordAudit(trx, { action: 'service.rename', object: { type: 'service', id: serviceId }, serviceId, at: ctx.clock.now(), details: { from: service.name, to: name } });
  });
  return { ...service, name };
}

export async function listServices(ctx: AppContext): Promise<ServiceSummary[]> {
  const services = await repo.listServices(ctx.db);
  return Promise.all(
    services.map(async (s) => ({
      id: s.id,
      name: s.name,
      createdAt: s.created_at,
      liveEnabled: (await repo.findAccountByServiceAndMode(ctx.db, s.id, 'live')) !== undefined,
    })),
  );
}

export async function requireService(ctx: AppContext, serviceId: string): Promise<ServiceRow> {
  const service = await repo.findServiceById(ctx.db, serviceId);
  if (!service) throw notFound();
  return service;
}

export const LIVE_NEEDS_POSTGRES =
  'Live accounts need PostgreSQL: the embedded store does not fsync, so an acknowledged payment could be lost in a power cut. Set DATABASE_URL to a PostgreSQL server.';
export const LIVE_NEEDS_MASTER_KEY =
  'Live accounts need COFFER_MASTER_KEY set by the operator (32 random bytes, base64), kept outside the data directory.';

/** Why this installation cannot hold a live account, or undefined when it can. */
export function liveAccountRefusal(ctx: AppContext): string | undefined {
  if (ctx.storeKind === 'embedded') return LIVE_NEEDS_POSTGRES;
  if (!ctx.masterKey.fromEnvironment) return LIVE_NEEDS_MASTER_KEY;
  return undefined;
}

export async function enableLiveAccount(ctx: AppContext, serviceId: string): Promise<AccountRow> {
  await requireService(ctx, serviceId);
  const refusal = liveAccountRefusal(ctx);
  if (refusal !== undefined) throw unprocessable(refusal);
  const account: AccountRow = { id: prefixedId('acct'), service_id: serviceId, mode: 'live', created_at: ctx.clock.now() };
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.insertAccount(trx, account))) throw conflict('The live account is already enabled');
    await recordAudit(trx, {
      action: 'service.enable_live',
      object: { type: 'account', id: account.id },
      serviceId,
      accountId: account.id,
      at: account.created_at,
    });
  });
  return account;
}
