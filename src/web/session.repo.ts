// SQL for browser sessions. Sessions are found by the hash of their cookie value only.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { SessionPurpose, WebSessionRow } from './web.tables.js';

type Db = Kysely<Database>;

export async function insertSession(db: Db, row: { idHash: string; purpose: SessionPurpose; at: Date; expiresAt: Date }): Promise<void> {
  await db
    .insertInto('web_sessions')
    .values({ id_hash: row.idHash, purpose: row.purpose, created_at: row.at, last_seen_at: row.at, expires_at: row.expiresAt })
    .execute();
}

export async function findLiveSession(db: Db, idHash: string, purpose: SessionPurpose, now: Date): Promise<WebSessionRow | undefined> {
  return db
    .selectFrom('web_sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('purpose', '=', purpose)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export async function touchSession(db: Db, idHash: string, at: Date, expiresAt: Date): Promise<void> {
  await db.updateTable('web_sessions').set({ last_seen_at: at, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('web_sessions').where('id_hash', '=', idHash).execute();
}

/** Removes sessions that expired before `before`; returns how many. */
export async function deleteExpiredSessions(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('web_sessions')
    .where('id_hash', 'in', (eb) => eb.selectFrom('web_sessions').select('id_hash').where('expires_at', '<', before).limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
