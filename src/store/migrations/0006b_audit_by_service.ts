// The console's audit page reads an account's entries together with its service's entries that
// belong to no account (team changes, invites). The latter had no index: this partial one keeps
// that half of the search from scanning the log. Small, since few entries lack an account.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists audit_log_by_service_without_account on audit_log (service_id, id desc) where account_id is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists audit_log_by_service_without_account`.execute(db);
}
