// Rate limits per account (GOV.UK Pay's buckets, counted in PostgreSQL so they hold across
// nodes, each account's limits configurable), and Idempotency-Key on every payments POST:
// keys are scoped by operation and remember the resource they produced.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table payment_account_settings
      add column rate_limit_create_per_second integer check (rate_limit_create_per_second > 0),
      add column rate_limit_capture_per_second integer check (rate_limit_capture_per_second > 0),
      add column rate_limit_post_per_second integer check (rate_limit_post_per_second > 0),
      add column rate_limit_get_per_second integer check (rate_limit_get_per_second > 0);

    -- One row per bucket per one-second window; old windows are swept.
    create table rate_limit_counters (
      bucket text not null,
      window_start timestamptz not null,
      count integer not null,
      primary key (bucket, window_start)
    );
    create index rate_limit_counters_by_window on rate_limit_counters (window_start);

    alter table payment_idempotency_keys
      add column operation text not null default 'create_payment',
      add column resource_id text;
    alter table payment_idempotency_keys drop constraint payment_idempotency_keys_pkey;
    alter table payment_idempotency_keys add primary key (account_id, operation, idempotency_key);
  `.execute(db);
}
