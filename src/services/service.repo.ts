// SQL for services and their accounts.
import type { Kysely } from 'kysely';
import type { AccountMode, AccountRow, Database, ServiceRow } from '../store/schema.js';

export async function insertService(db: Kysely<Database>, service: ServiceRow): Promise<void> {
  await db.insertInto('services').values(service).execute();
}

/** Inserts the account unless the service already has one in that mode; false if it had. */
export async function insertAccount(db: Kysely<Database>, account: AccountRow): Promise<boolean> {
  const result = await db
    .insertInto('accounts')
    .values(account)
    .onConflict((oc) => oc.columns(['service_id', 'mode']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function findServiceById(db: Kysely<Database>, id: string): Promise<ServiceRow | undefined> {
  return db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Renames a service; false when there is no such service. */
export async function updateServiceName(db: Kysely<Database>, id: string, name: string): Promise<boolean> {
  const result = await db.updateTable('services').set({ name }).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function listServices(db: Kysely<Database>): Promise<ServiceRow[]> {
  return db.selectFrom('services').selectAll().orderBy('created_at', 'asc').orderBy('id').execute();
}

export async function findAccountByServiceAndMode(
  db: Kysely<Database>,
  serviceId: string,
  mode: AccountMode,
): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('service_id', '=', serviceId).where('mode', '=', mode).executeTakeFirst();
}

export async function findAccountById(db: Kysely<Database>, id: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countLiveAccounts(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('mode', '=', 'live').executeTakeFirstOrThrow();
  return Number(row.n);
}
