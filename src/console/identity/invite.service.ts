// Invitations: a single-use link, valid 24 hours, whose 256-bit token is stored only as its
// SHA-256. Accepting one either creates the account (with the password the invitee chooses)
// or, for someone who already has an account, adds the service to it once they are signed in.
import { changeWithAudit, recordAudit } from '../../audit/audit.service.js';
import type { AppContext } from '../../platform/context.js';
import { conflict, unprocessable } from '../../platform/errors.js';
import { sha256Hex } from '../../platform/hashing.js';
import { prefixedId, randomToken } from '../../platform/random.js';
import { requireService } from '../../services/service.service.js';
import type { InviteRow } from '../console.tables.js';
import { consoleErrors } from '../errors.js';
import { createSession, type ConsoleSession } from '../sessions/session.service.js';
import { LIMITS } from '../settings.js';
import { checkPassword, hashPassword, PASSWORD_MESSAGES } from './password.js';
import type { Role } from './roles.js';
import * as repo from './user.repo.js';
import { newUserRow, normaliseEmail, requireAssignableRole } from './user.service.js';

export interface CreatedInvite {
  id: string;
  link: string;
  email: string;
  serviceId: string;
  role: Role;
  expiresAt: Date;
}

export function inviteLink(ctx: AppContext, token: string): string {
  return `${ctx.baseUrl}/console/invite/${token}`;
}

/** Creates an invite; `createdBy` is `user:<id>` from the console or `operator:<name>` from the CLI. */
export async function createInvite(ctx: AppContext, input: { email: string; serviceId: string; role: string; createdBy: string }): Promise<CreatedInvite> {
  const email = normaliseEmail(input.email);
  const role = requireAssignableRole(input.role);
  await requireService(ctx, input.serviceId);
  const existing = await repo.findUserByEmail(ctx.db, email);
  if (existing && (await repo.findMembership(ctx.db, input.serviceId, existing.id))) throw conflict(`${email} is already a member of this service`);
  const now = ctx.clock.now();
  const token = randomToken(32);
  const row: InviteRow = {
    id: prefixedId('inv'),
    token_hash: sha256Hex(token),
    email,
    service_id: input.serviceId,
    role,
    created_by: input.createdBy,
    created_at: now,
    expires_at: new Date(now.getTime() + LIMITS.inviteLifetimeMs),
    accepted_at: null,
    accepted_by_user_id: null,
  };
  await changeWithAudit(ctx.db, (trx) => repo.insertInvite(trx, row), () => ({ actor: input.createdBy, action: 'user.invite', object: { type: 'invite', id: row.id }, serviceId: row.service_id, at: now, details: { email, role } }));
  return { id: row.id, link: inviteLink(ctx, token), email, serviceId: row.service_id, role, expiresAt: row.expires_at };
}

export interface InviteView {
  email: string;
  serviceId: string;
  serviceName: string;
  role: Role;
  /** The invitee already has an account: they accept by signing in, not by choosing a password. */
  existingUser: boolean;
}

async function liveInvite(ctx: AppContext, token: string): Promise<InviteRow> {
  if (token.length < 20 || token.length > 100) throw consoleErrors.linkInvalid();
  const invite = await repo.findInviteByHash(ctx.db, sha256Hex(token));
  if (!invite || invite.accepted_at !== null || invite.expires_at.getTime() <= ctx.clock.now().getTime()) throw consoleErrors.linkInvalid();
  return invite;
}

export async function viewInvite(ctx: AppContext, token: string): Promise<InviteView> {
  const invite = await liveInvite(ctx, token);
  const service = await requireService(ctx, invite.service_id);
  return {
    email: invite.email,
    serviceId: invite.service_id,
    serviceName: service.name,
    role: invite.role as Role,
    existingUser: (await repo.findUserByEmail(ctx.db, invite.email)) !== undefined,
  };
}

/**
 * A new user accepts: the account is created with their password, the membership added and
 * the invite spent in one transaction, and a session starts at the MFA-enrolment stage (MFA is
 * mandatory, so nothing else is reachable until a factor is enrolled).
 */
export async function acceptInviteAsNewUser(
  ctx: AppContext,
  token: string,
  input: { password: string; ip: string; userAgent: string },
): Promise<{ userId: string; token: string; session: ConsoleSession }> {
  const invite = await liveInvite(ctx, token);
  const problem = checkPassword(input.password, { email: invite.email });
  if (problem) throw unprocessable(PASSWORD_MESSAGES[problem], 'password');
  if (await repo.findUserByEmail(ctx.db, invite.email)) throw conflict('You already have an account: sign in to accept this invitation');
  const passwordHash = await hashPassword(input.password);
  const now = ctx.clock.now();
  const user = newUserRow({ email: invite.email, passwordHash, createdBy: `invite:${invite.id}`, at: now });
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.insertUser(trx, user))) throw conflict('You already have an account: sign in to accept this invitation');
    if (!(await repo.markInviteAccepted(trx, invite.id, user.id, now))) throw consoleErrors.linkInvalid();
    await repo.upsertMembership(trx, { user_id: user.id, service_id: invite.service_id, role: invite.role, created_at: now, created_by: invite.created_by });
    await recordAudit(trx, { actor: { type: 'user', id: user.id }, action: 'user.invite_accept', object: { type: 'invite', id: invite.id }, serviceId: invite.service_id, at: now, details: { role: invite.role, new_user: true } });
    const started = await createSession(trx, ctx, { userId: user.id, stage: 'enrol', ip: input.ip, userAgent: input.userAgent, via: 'invite' });
    return { userId: user.id, ...started };
  });
}

/** An existing, signed-in user accepts an invite addressed to their own email. */
export async function acceptInviteAsExistingUser(ctx: AppContext, token: string, session: ConsoleSession): Promise<{ serviceId: string }> {
  if (session.stage !== 'full') throw consoleErrors.mfaRequired();
  const invite = await liveInvite(ctx, token);
  const user = await repo.findUserById(ctx.db, session.userId);
  if (!user || user.email.toLowerCase() !== invite.email.toLowerCase()) throw consoleErrors.linkInvalid();
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.markInviteAccepted(trx, invite.id, user.id, now))) throw consoleErrors.linkInvalid();
    await repo.upsertMembership(trx, { user_id: user.id, service_id: invite.service_id, role: invite.role, created_at: now, created_by: invite.created_by });
    await recordAudit(trx, { actor: { type: 'user', id: user.id }, action: 'user.invite_accept', object: { type: 'invite', id: invite.id }, serviceId: invite.service_id, at: now, details: { role: invite.role, new_user: false } });
  });
  return { serviceId: invite.service_id };
}
