// SQL for console users, their memberships and invites. Emails are matched case-insensitively
// through the lower(email) unique index.
import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { ConsoleInvitesTable, ConsoleUsersTable, InviteRow, MembershipRow, UserRow } from '../console.tables.js';

type Db = Kysely<Database>;

export async function insertUser(db: Db, user: Insertable<ConsoleUsersTable>): Promise<boolean> {
  const result = await db
    .insertInto('console_users')
    .values(user)
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('console_users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('console_users')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .executeTakeFirst();
}

export async function setPasswordHash(db: Db, userId: string, hash: string): Promise<void> {
  await db.updateTable('console_users').set((eb) => ({ password_hash: hash, version: eb('version', '+', 1) })).where('id', '=', userId).execute();
}

/** active → disabled; false when the user was not active. */
export async function markDisabled(db: Db, userId: string, d: { at: Date; by: string; reason: string }): Promise<boolean> {
  const result = await db
    .updateTable('console_users')
    .set((eb) => ({ status: 'disabled', disabled_at: d.at, disabled_by: d.by, disabled_reason: d.reason, version: eb('version', '+', 1) }))
    .where('id', '=', userId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markEnabled(db: Db, userId: string): Promise<boolean> {
  const result = await db
    .updateTable('console_users')
    .set((eb) => ({ status: 'active', disabled_at: null, disabled_by: null, disabled_reason: null, failed_count: 0, locked_until: null, version: eb('version', '+', 1) }))
    .where('id', '=', userId)
    .where('status', '=', 'disabled')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Users (active) whose last sign-in, or creation if never signed in, is before `before`. */
export async function claimInactiveUsers(db: Db, before: Date, limit: number): Promise<UserRow[]> {
  return db
    .selectFrom('console_users')
    .selectAll()
    .where('status', '=', 'active')
    .where((eb) => eb(eb.fn.coalesce('last_sign_in_at', 'created_at'), '<', before))
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

// ---- memberships

export async function upsertMembership(db: Db, m: MembershipRow): Promise<void> {
  await db
    .insertInto('console_memberships')
    .values(m)
    .onConflict((oc) => oc.columns(['service_id', 'user_id']).doUpdateSet({ role: m.role }))
    .execute();
}

export async function findMembership(db: Db, serviceId: string, userId: string): Promise<MembershipRow | undefined> {
  return db.selectFrom('console_memberships').selectAll().where('service_id', '=', serviceId).where('user_id', '=', userId).executeTakeFirst();
}

export async function updateMembershipRole(db: Db, serviceId: string, userId: string, role: string): Promise<boolean> {
  const result = await db.updateTable('console_memberships').set({ role }).where('service_id', '=', serviceId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteMembership(db: Db, serviceId: string, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('console_memberships').where('service_id', '=', serviceId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function listMembershipsOfUser(db: Db, userId: string): Promise<(MembershipRow & { service_name: string })[]> {
  return db
    .selectFrom('console_memberships')
    .innerJoin('services', 'services.id', 'console_memberships.service_id')
    .selectAll('console_memberships')
    .select('services.name as service_name')
    .where('console_memberships.user_id', '=', userId)
    .orderBy('services.name')
    .execute();
}

export async function listMembersOfService(db: Db, serviceId: string): Promise<(MembershipRow & { user: UserRow })[]> {
  const rows = await db
    .selectFrom('console_memberships')
    .innerJoin('console_users', 'console_users.id', 'console_memberships.user_id')
    .selectAll('console_users')
    .select(['console_memberships.role', 'console_memberships.service_id', 'console_memberships.created_at as member_since', 'console_memberships.created_by as member_by'])
    .where('console_memberships.service_id', '=', serviceId)
    .orderBy('console_users.email')
    .execute();
  return rows.map(({ role, service_id, member_since, member_by, ...user }) => ({
    user_id: user.id,
    service_id,
    role,
    created_at: member_since,
    created_by: member_by,
    user,
  }));
}

export async function countAdministrators(db: Db, serviceId: string): Promise<number> {
  const row = await db
    .selectFrom('console_memberships')
    .innerJoin('console_users', 'console_users.id', 'console_memberships.user_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('console_memberships.service_id', '=', serviceId)
    .where('console_memberships.role', '=', 'administrator')
    .where('console_users.status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---- invites

export async function insertInvite(db: Db, invite: Insertable<ConsoleInvitesTable>): Promise<void> {
  await db.insertInto('console_invites').values(invite).execute();
}

export async function findInviteByHash(db: Db, tokenHash: string): Promise<InviteRow | undefined> {
  return db.selectFrom('console_invites').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Single use: only an unaccepted, unexpired invite can be taken. */
export async function markInviteAccepted(db: Db, id: string, userId: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('console_invites')
    .set({ accepted_at: at, accepted_by_user_id: userId })
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function listPendingInvites(db: Db, serviceId: string, now: Date): Promise<InviteRow[]> {
  return db
    .selectFrom('console_invites')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('accepted_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
}
