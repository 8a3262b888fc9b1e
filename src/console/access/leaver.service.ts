// Leavers (PCI DSS 8.2.5): removing someone from a service, or disabling their account, ends
// their console sessions at once and revokes the API keys they created, after the person doing
// it has been shown exactly which keys those are. The caller passes back the key ids it showed;
// if the set has changed since (a key was created meanwhile), nothing happens and it must look
// again, so no key is revoked unseen and none is left behind unseen.
import { changeWithAudit, recordAudit } from '../../audit/audit.service.js';
import type { AppContext } from '../../platform/context.js';
import { conflict, notFound } from '../../platform/errors.js';
import { listKeysForService, revokeKey, type KeyView } from '../../keys/key.service.js';
import { type Authorised } from '../identity/user.service.js';
import * as users from '../identity/user.repo.js';
import * as signin from '../identity/signin.repo.js';
import { endAllSessionsOfUser } from '../sessions/session.service.js';

export const userActor = (userId: string): string => `user:${userId}`;

/** Keys still working that the user created in the service. */
export async function keysCreatedBy(ctx: AppContext, serviceId: string, userId: string): Promise<KeyView[]> {
  const keys = await listKeysForService(ctx, serviceId);
  return keys.filter((k) => k.created_by === userActor(userId) && (k.status === 'active' || k.status === 'expiring'));
}

export interface LeaverPreview {
  userId: string;
  email: string;
  role: string;
  keys: KeyView[];
}

export async function previewRemoval(ctx: AppContext, actor: Authorised, userId: string): Promise<LeaverPreview> {
  const membership = await users.findMembership(ctx.db, actor.serviceId, userId);
  const user = await users.findUserById(ctx.db, userId);
  if (!membership || !user) throw notFound();
  return { userId, email: user.email, role: membership.role, keys: await keysCreatedBy(ctx, actor.serviceId, userId) };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((v, i) => v === right[i]);
}

async function revokeAll(ctx: AppContext, keys: KeyView[], by: string, reason: string): Promise<string[]> {
  const revoked: string[] = [];
  for (const key of keys) {
    try {
      await revokeKey(ctx, key.id, { by, reason });
      revoked.push(key.id);
    } catch (err) {
      // Revoked by someone else meanwhile: the outcome we wanted.
      if (!(err instanceof Error && 'status' in err && err.status === 409)) throw err;
    }
  }
  return revoked;
}

/** Removes the user from the actor's service (team:manage, with step-up already checked). */
export async function removeMember(ctx: AppContext, actor: Authorised, userId: string, confirmedKeyIds: readonly string[]): Promise<{ revokedKeyIds: string[]; endedSessions: number }> {
  const preview = await previewRemoval(ctx, actor, userId);
  if (!sameSet(preview.keys.map((k) => k.id), confirmedKeyIds)) throw conflict('The keys this person created have changed; review them again before removing them');
  const ended = await ctx.db.transaction().execute(async (trx) => {
    const membership = await users.findMembership(trx, actor.serviceId, userId);
    if (!membership) throw notFound();
    if (membership.role === 'administrator' && (await users.countAdministrators(trx, actor.serviceId)) <= 1) {
      throw conflict('A service needs at least one administrator');
    }
    await users.deleteMembership(trx, actor.serviceId, userId);
    await recordAudit(trx, { actor: { type: 'user', id: actor.session.userId }, action: 'user.remove', object: { type: 'user', id: userId }, serviceId: actor.serviceId, at: ctx.clock.now(), details: { role: membership.role, keys_to_revoke: confirmedKeyIds.length } });
    return endAllSessionsOfUser(trx, ctx, userId, 'removed-from-service');
  });
  const revokedKeyIds = await revokeAll(ctx, preview.keys, userActor(actor.session.userId), `leaver: ${preview.email} removed from the service`);
  return { revokedKeyIds, endedSessions: ended };
}

/** Every key the user created, in every service they belong to. */
export async function previewDisable(ctx: AppContext, userId: string): Promise<{ email: string; keys: KeyView[] }> {
  const user = await users.findUserById(ctx.db, userId);
  if (!user) throw notFound();
  const memberships = await users.listMembershipsOfUser(ctx.db, userId);
  const keys = (await Promise.all(memberships.map((m) => keysCreatedBy(ctx, m.service_id, userId)))).flat();
  return { email: user.email, keys };
}

/**
 * Disables the account everywhere: no sign-in, every session ended, known devices forgotten,
 * and the keys it created revoked. `by` is the operator or user doing it.
 */
export async function disableUser(
  ctx: AppContext,
  userId: string,
  input: { by: string; reason: string; confirmedKeyIds: readonly string[] },
): Promise<{ revokedKeyIds: string[]; endedSessions: number }> {
  const preview = await previewDisable(ctx, userId);
  if (!sameSet(preview.keys.map((k) => k.id), input.confirmedKeyIds)) throw conflict('The keys this person created have changed; review them again before disabling the account');
  const now = ctx.clock.now();
  const ended = await ctx.db.transaction().execute(async (trx) => {
    if (!(await users.markDisabled(trx, userId, { at: now, by: input.by, reason: input.reason.slice(0, 500) }))) throw conflict('The account is already disabled');
    await signin.revokeDevicesOfUser(trx, userId, now);
    await recordAudit(trx, { actor: input.by, action: 'user.disable', object: { type: 'user', id: userId }, at: now, details: { reason: input.reason.slice(0, 500), keys_to_revoke: input.confirmedKeyIds.length } });
    return endAllSessionsOfUser(trx, ctx, userId, 'user-disabled');
  });
  const revokedKeyIds = await revokeAll(ctx, preview.keys, input.by, `leaver: ${preview.email} disabled`);
  return { revokedKeyIds, endedSessions: ended };
}

export async function enableUser(ctx: AppContext, userId: string): Promise<void> {
  const enabled = await changeWithAudit(ctx.db, (trx) => users.markEnabled(trx, userId), (ok) => (ok ? { action: 'user.enable', object: { type: 'user', id: userId }, at: ctx.clock.now() } : undefined));
  if (!enabled) throw conflict('The account is not disabled');
}
