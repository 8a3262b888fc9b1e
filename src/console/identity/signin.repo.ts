// SQL for what sign-in remembers: failure counts and locks on the user, known devices, and the
// log of failures that feeds the per-IP throttle and alerting.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { KnownDeviceRow } from '../console.tables.js';

type Db = Kysely<Database>;

export interface FailureRecord {
  at: Date;
  email: string | null;
  userId: string | null;
  ip: string;
  reason: string;
  knownDevice: boolean;
}

export async function recordFailure(db: Db, f: FailureRecord): Promise<void> {
  await db
    .insertInto('console_auth_failures')
    .values({ at: f.at, email: f.email === null ? null : f.email.slice(0, 254), user_id: f.userId, ip: f.ip, reason: f.reason, known_device: f.knownDevice })
    .execute();
}

export async function countFailuresFromIp(db: Db, ip: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('console_auth_failures')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('ip', '=', ip)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listFailuresSince(db: Db, since: Date, limit: number) {
  return db.selectFrom('console_auth_failures').selectAll().where('at', '>', since).orderBy('seq').limit(limit).execute();
}

/**
 * Counts one more failure against the account; the tenth locks it until `lockUntil` and
 * starts the count again. Returns whether this failure locked it. Atomic in one statement.
 */
export async function countAccountFailure(db: Db, userId: string, max: number, lockUntil: Date): Promise<boolean> {
  const row = await db
    .updateTable('console_users')
    .set((eb) => ({
      failed_count: eb.case().when('failed_count', '>=', max - 1).then(0).else(eb('failed_count', '+', 1)).end(),
      locked_until: eb.case().when('failed_count', '>=', max - 1).then(lockUntil).else(eb.ref('locked_until')).end(),
    }))
    .where('id', '=', userId)
    .returning(['failed_count', 'locked_until'])
    .executeTakeFirst();
  return row !== undefined && row.failed_count === 0 && row.locked_until !== null && row.locked_until.getTime() === lockUntil.getTime();
}

export async function clearAccountFailures(db: Db, userId: string, at: Date): Promise<void> {
  await db.updateTable('console_users').set({ failed_count: 0, locked_until: null, last_sign_in_at: at }).where('id', '=', userId).execute();
}

export async function findDevice(db: Db, userId: string, tokenHash: string, now: Date, lifetimeMs: number): Promise<KnownDeviceRow | undefined> {
  return db
    .selectFrom('console_known_devices')
    .selectAll()
    .where('user_id', '=', userId)
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .where('last_used_at', '>', new Date(now.getTime() - lifetimeMs))
    .executeTakeFirst();
}

export async function insertDevice(db: Db, row: KnownDeviceRow): Promise<void> {
  await db.insertInto('console_known_devices').values(row).execute();
}

/** One more failure from a known device; at the limit the device is forgotten. */
export async function countDeviceFailure(db: Db, id: string, max: number, at: Date): Promise<void> {
  await db
    .updateTable('console_known_devices')
    .set((eb) => ({
      failed_count: eb('failed_count', '+', 1),
      revoked_at: eb.case().when('failed_count', '>=', max - 1).then(sql<Date>`cast(${at} as timestamptz)`).else(null).end(),
    }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function deviceSucceeded(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('console_known_devices').set({ failed_count: 0, last_used_at: at }).where('id', '=', id).execute();
}

export async function revokeDevicesOfUser(db: Db, userId: string, at: Date): Promise<void> {
  await db.updateTable('console_known_devices').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}
