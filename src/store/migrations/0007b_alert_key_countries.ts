// The countries each API key has been used from, for the new-country detector (beside the
// networks of 0007_alerts).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table alert_key_countries (
      key_id text not null references api_keys (id),
      country text not null,
      first_seen_at timestamptz not null,
      primary key (key_id, country)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table alert_key_countries`.execute(db);
}
