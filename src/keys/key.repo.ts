// SQL for API keys. Finders name their scope; state changes are compare-and-set, and zero
// rows updated means the key was not in the state the caller expected.
import type { Kysely } from 'kysely';
import type { ApiKeyRow, ApiKeysTable, Database } from '../store/schema.js';
import type { Insertable } from 'kysely';

export async function insertKey(db: Kysely<Database>, key: Insertable<ApiKeysTable>): Promise<void> {
  await db.insertInto('api_keys').values(key).execute();
}

export interface KeyWithOwner extends ApiKeyRow {
  service_name: string;
}

/** The one lookup behind every authenticated request: by the unique hash index. */
export async function findKeyByHash(db: Kysely<Database>, tokenHash: string): Promise<KeyWithOwner | undefined> {
  return db
    .selectFrom('api_keys')
    .innerJoin('services', 'services.id', 'api_keys.service_id')
    .selectAll('api_keys')
    .select('services.name as service_name')
    .where('api_keys.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function findKeyById(db: Kysely<Database>, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findKeyByAccountAndId(db: Kysely<Database>, accountId: string, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function lockKeyById(db: Kysely<Database>, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function listKeysByService(db: Kysely<Database>, serviceId: string): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('service_id', '=', serviceId).orderBy('created_at', 'desc').orderBy('id').execute();
}

export async function listKeysByAccount(db: Kysely<Database>, accountId: string): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').orderBy('id').execute();
}

/** Revokes an unrevoked key; false when it was already revoked (or does not exist). */
export async function markRevoked(
  db: Kysely<Database>,
  id: string,
  revocation: { at: Date; by: string; reason: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set((eb) => ({
      revoked_at: revocation.at,
      revoked_by: revocation.by,
      revoked_reason: revocation.reason,
      version: eb('version', '+', 1),
    }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Records the replacement and cuts the old key's life short; false if already rolled or revoked. */
export async function markRolled(
  db: Kysely<Database>,
  id: string,
  roll: { toKeyId: string; expiresAt: Date },
): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set((eb) => ({ rolled_to_key_id: roll.toKeyId, expires_at: roll.expiresAt, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('rolled_to_key_id', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function recordUse(db: Kysely<Database>, id: string, at: Date, ip: string): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: at, last_used_ip: ip })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
    .execute();
}
