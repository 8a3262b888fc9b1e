// Console users and their per-service roles. A user has one account (unique by email, whatever
// its case) and a role in each service they belong to; `authorise` is the one check every
// console action goes through: membership of the service (none → not found, so another
// service's data is never even acknowledged), then the role's permission, then step-up.
import { recordAudit } from '../../audit/audit.service.js';
import type { AppContext } from '../../platform/context.js';
import { conflict, notFound, unprocessable } from '../../platform/errors.js';
import { prefixedId } from '../../platform/random.js';
import { requireService } from '../../services/service.service.js';
import type { MembershipRow, UserRow } from '../console.tables.js';
import { consoleErrors } from '../errors.js';
import { requireRecentMfa, type ConsoleSession } from '../sessions/session.service.js';
import { can, isAssignableRole, STEP_UP_PERMISSIONS, type Permission, type Role } from './roles.js';
import * as repo from './user.repo.js';

// Deliberately loose (RFC 5322 allows nearly anything): one @, something either side, a dot in
// the domain, no spaces or angle brackets. Delivery proves the rest.
const EMAIL = /^[^\s@<>]{1,64}@[^\s@<>]+\.[^\s@<>.]+$/;

export function normaliseEmail(email: string): string {
  const trimmed = email.trim();
  if (trimmed.length > 254 || !EMAIL.test(trimmed)) throw unprocessable('Enter an email address in the correct format, like name@example.org', 'email');
  return trimmed;
}

export function requireAssignableRole(role: string): Role {
  if (!isAssignableRole(role)) throw unprocessable('Choose a role: administrator, view-and-refund, view-only or developer', 'role');
  return role;
}

export async function findUser(ctx: AppContext, userId: string): Promise<UserRow> {
  const user = await repo.findUserById(ctx.db, userId);
  if (!user) throw notFound();
  return user;
}

export interface Membership {
  serviceId: string;
  serviceName: string;
  role: Role;
}

export async function membershipsOf(ctx: AppContext, userId: string): Promise<Membership[]> {
  return (await repo.listMembershipsOfUser(ctx.db, userId)).map((m) => ({ serviceId: m.service_id, serviceName: m.service_name, role: m.role as Role }));
}

export interface Authorised {
  session: ConsoleSession;
  serviceId: string;
  role: Role;
}

/**
 * The server-side check behind every console action: the session's user must belong to the
 * service, their role must allow the permission, and sensitive permissions need a recent MFA.
 */
export async function authorise(ctx: AppContext, session: ConsoleSession, serviceId: string, permission: Permission): Promise<Authorised> {
  if (session.stage !== 'full') throw consoleErrors.mfaRequired();
  const membership = await repo.findMembership(ctx.db, serviceId, session.userId);
  if (!membership) throw notFound();
  const role = membership.role as Role;
  if (!can(role, permission)) throw consoleErrors.forbidden();
  if (STEP_UP_PERMISSIONS.has(permission)) requireRecentMfa(session);
  return { session, serviceId, role };
}

/** Changes a member's role (team:manage). The last administrator cannot be demoted. */
export async function changeRole(ctx: AppContext, actor: Authorised, userId: string, role: string): Promise<void> {
  const newRole = requireAssignableRole(role);
  await ctx.db.transaction().execute(async (trx) => {
    const membership = await repo.findMembership(trx, actor.serviceId, userId);
    if (!membership) throw notFound();
    if (membership.role === 'administrator' && newRole !== 'administrator' && (await repo.countAdministrators(trx, actor.serviceId)) <= 1) {
      throw conflict('A service needs at least one administrator');
    }
    await repo.updateMembershipRole(trx, actor.serviceId, userId, newRole);
    await recordAudit(trx, { actor: { type: 'user', id: actor.session.userId }, action: 'user.role_change', object: { type: 'user', id: userId }, serviceId: actor.serviceId, at: ctx.clock.now(), details: { from: membership.role, to: newRole } });
  });
}

export async function addMembership(ctx: AppContext, input: { userId: string; serviceId: string; role: Role; by: string }): Promise<MembershipRow> {
  const row: MembershipRow = { user_id: input.userId, service_id: input.serviceId, role: input.role, created_at: ctx.clock.now(), created_by: input.by };
  await repo.upsertMembership(ctx.db, row);
  return row;
}

export async function teamOf(ctx: AppContext, actor: Authorised): Promise<{ userId: string; email: string; role: Role; status: string; lastSignInAt: Date | null }[]> {
  await requireService(ctx, actor.serviceId);
  return (await repo.listMembersOfService(ctx.db, actor.serviceId)).map((m) => ({
    userId: m.user.id,
    email: m.user.email,
    role: m.role as Role,
    status: m.user.status,
    lastSignInAt: m.user.last_sign_in_at,
  }));
}

export function newUserRow(input: { email: string; passwordHash: string | null; createdBy: string; at: Date }): UserRow {
  return {
    id: prefixedId('usr'),
    email: input.email,
    password_hash: input.passwordHash,
    status: 'active',
    created_at: input.at,
    created_by: input.createdBy,
    disabled_at: null,
    disabled_by: null,
    disabled_reason: null,
    last_sign_in_at: null,
    failed_count: 0,
    locked_until: null,
    totp_secret_sealed: null,
    totp_pending_sealed: null,
    totp_last_step: null,
    totp_enabled_at: null,
    version: 1,
  };
}
