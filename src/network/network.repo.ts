// SQL for the per-account network allow-lists.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { NetworkAllowRow, NetworkPurpose } from './network.tables.js';

/** Inserts the range unless the account already allows it for that purpose; false if it did. */
export async function insertRange(db: Kysely<Database>, row: NetworkAllowRow): Promise<boolean> {
  const result = await db
    .insertInto('network_allow_lists')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'purpose', 'cidr']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function deleteRange(db: Kysely<Database>, accountId: string, purpose: NetworkPurpose, cidr: string): Promise<boolean> {
  const result = await db
    .deleteFrom('network_allow_lists')
    .where('account_id', '=', accountId)
    .where('purpose', '=', purpose)
    .where('cidr', '=', cidr)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function listByAccount(db: Kysely<Database>, accountId: string, purpose?: NetworkPurpose): Promise<NetworkAllowRow[]> {
  let query = db.selectFrom('network_allow_lists').selectAll().where('account_id', '=', accountId);
  if (purpose) query = query.where('purpose', '=', purpose);
  return query.orderBy('purpose').orderBy('created_at').orderBy('cidr').execute();
}

/** The ranges of one account and purpose: the one lookup behind enforcement (cached). */
export async function cidrsFor(db: Kysely<Database>, accountId: string, purpose: NetworkPurpose): Promise<string[]> {
  const rows = await db
    .selectFrom('network_allow_lists')
    .select('cidr')
    .where('account_id', '=', accountId)
    .where('purpose', '=', purpose)
    .execute();
  return rows.map((r) => r.cidr);
}
