// SQL for second factors: the TOTP columns on the user, recovery codes and passkeys.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { PasskeyRow } from '../console.tables.js';

type Db = Kysely<Database>;

export async function setPendingTotp(db: Db, userId: string, sealed: string | null): Promise<void> {
  await db.updateTable('console_users').set({ totp_pending_sealed: sealed }).where('id', '=', userId).execute();
}

/** Moves the pending secret into place, once, remembering the step its confirming code used. */
export async function confirmTotp(db: Db, userId: string, pendingSealed: string, step: number, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('console_users')
    .set((eb) => ({ totp_secret_sealed: pendingSealed, totp_pending_sealed: null, totp_last_step: step, totp_enabled_at: at, version: eb('version', '+', 1) }))
    .where('id', '=', userId)
    .where('totp_pending_sealed', '=', pendingSealed)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Records a TOTP step as used; false if it (or a later one) was used already: a replay. */
export async function useTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('console_users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function removeTotp(db: Db, userId: string): Promise<void> {
  await db
    .updateTable('console_users')
    .set((eb) => ({ totp_secret_sealed: null, totp_pending_sealed: null, totp_enabled_at: null, version: eb('version', '+', 1) }))
    .where('id', '=', userId)
    .execute();
}

export async function replaceRecoveryCodes(db: Db, userId: string, hashes: string[], at: Date): Promise<void> {
  await db.deleteFrom('console_recovery_codes').where('user_id', '=', userId).execute();
  await db.insertInto('console_recovery_codes').values(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: at, used_at: null }))).execute();
}

/** Spends a recovery code, once. */
export async function useRecoveryCode(db: Db, userId: string, hash: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('console_recovery_codes')
    .set({ used_at: at })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countUnusedRecoveryCodes(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('console_recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertPasskey(db: Db, row: PasskeyRow): Promise<void> {
  await db.insertInto('console_passkeys').values(row).execute();
}

export async function listPasskeys(db: Db, userId: string): Promise<PasskeyRow[]> {
  return db.selectFrom('console_passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

export async function findPasskeyByCredential(db: Db, userId: string, credentialId: string): Promise<PasskeyRow | undefined> {
  return db.selectFrom('console_passkeys').selectAll().where('user_id', '=', userId).where('credential_id', '=', credentialId).executeTakeFirst();
}

/** Moves the signature counter forward only (a clone would replay an old one). */
export async function recordPasskeyUse(db: Db, id: string, counter: number, oldCounter: number, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('console_passkeys')
    .set({ counter, last_used_at: at })
    .where('id', '=', id)
    .where('counter', '=', oldCounter)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deletePasskey(db: Db, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('console_passkeys').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}
