// SQL for console sessions. A session is found only by the SHA-256 of its token; ending one is
// a compare-and-set on ended_at, and rotation swaps the hash only if it is still the old one.
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { ConsoleSessionsTable, SessionRow, SessionStage, UserRow } from '../console.tables.js';

type Db = Kysely<Database>;

export async function insertSession(db: Db, row: Insertable<ConsoleSessionsTable>): Promise<void> {
  await db.insertInto('console_sessions').values(row).execute();
}

export async function findLiveSessionByHash(db: Db, tokenHash: string): Promise<{ session: SessionRow; userStatus: UserRow['status'] } | undefined> {
  const row = await db
    .selectFrom('console_sessions')
    .innerJoin('console_users', 'console_users.id', 'console_sessions.user_id')
    .selectAll('console_sessions')
    .select('console_users.status as user_status')
    .where('console_sessions.token_hash', '=', tokenHash)
    .where('console_sessions.ended_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  const { user_status, ...session } = row;
  return { session, userStatus: user_status };
}

export async function findSessionById(db: Db, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('console_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function touch(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('console_sessions').set({ last_seen_at: at }).where('id', '=', id).where('ended_at', 'is', null).where('last_seen_at', '<', at).execute();
}

export async function endSession(db: Db, id: string, at: Date, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('console_sessions')
    .set({ ended_at: at, ended_reason: reason, webauthn_challenge: null })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function endSessionsOfUser(db: Db, userId: string, at: Date, reason: string, exceptId?: string): Promise<number> {
  let query = db
    .updateTable('console_sessions')
    .set({ ended_at: at, ended_reason: reason, webauthn_challenge: null })
    .where('user_id', '=', userId)
    .where('ended_at', 'is', null);
  if (exceptId !== undefined) query = query.where('id', '<>', exceptId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Gives the session a new token (and optionally a new stage, MFA time and expiry). */
export async function rotate(
  db: Db,
  id: string,
  oldHash: string,
  changes: { tokenHash: string; at: Date; stage?: SessionStage; mfaAt?: Date; expiresAt?: Date },
): Promise<boolean> {
  const result = await db
    .updateTable('console_sessions')
    .set({
      token_hash: changes.tokenHash,
      last_seen_at: changes.at,
      webauthn_challenge: null,
      ...(changes.stage ? { stage: changes.stage } : {}),
      ...(changes.mfaAt ? { mfa_at: changes.mfaAt } : {}),
      ...(changes.expiresAt ? { expires_at: changes.expiresAt } : {}),
    })
    .where('id', '=', id)
    .where('token_hash', '=', oldHash)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function setChallenge(db: Db, id: string, challenge: string | null): Promise<void> {
  await db.updateTable('console_sessions').set({ webauthn_challenge: challenge }).where('id', '=', id).where('ended_at', 'is', null).execute();
}

/** Takes the pending WebAuthn challenge, once: a second read finds none. */
export async function takeChallenge(db: Db, id: string): Promise<string | undefined> {
  const row = await db
    .updateTable('console_sessions as s')
    .set({ webauthn_challenge: null })
    .from('console_sessions as prev')
    .whereRef('prev.id', '=', 's.id')
    .where('s.id', '=', id)
    .where('s.webauthn_challenge', 'is not', null)
    .where('s.ended_at', 'is', null)
    .returning('prev.webauthn_challenge as challenge')
    .executeTakeFirst();
  return row?.challenge ?? undefined;
}

export async function listLiveSessionsOfUser(db: Db, userId: string): Promise<SessionRow[]> {
  return db
    .selectFrom('console_sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('ended_at', 'is', null)
    .orderBy('last_seen_at', 'desc')
    .execute();
}
