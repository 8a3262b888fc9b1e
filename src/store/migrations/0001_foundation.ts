// Services, their test and live accounts, and API keys.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table services (
      id text primary key,
      name text not null check (length(name) between 1 and 200),
      created_at timestamptz not null
    );

    create table accounts (
      id text primary key,
      service_id text not null references services (id),
      mode text not null check (mode in ('test', 'live')),
      created_at timestamptz not null,
      unique (service_id, mode)
    );

    create table api_keys (
      id text primary key,
      service_id text not null references services (id),
      account_id text not null references accounts (id),
      mode text not null check (mode in ('test', 'live')),
      name text not null check (length(name) between 1 and 100),
      token_hash text not null unique,
      token_start text not null,
      token_end text not null,
      scopes text[] not null,
      allowed_ips text[] not null default '{}',
      created_by text not null,
      created_at timestamptz not null,
      expires_at timestamptz,
      last_used_at timestamptz,
      last_used_ip text,
      revoked_at timestamptz,
      revoked_by text,
      revoked_reason text,
      rolled_from_key_id text references api_keys (id),
      rolled_to_key_id text references api_keys (id),
      version integer not null default 1,
      check ((revoked_at is null) = (revoked_by is null))
    );

    create index api_keys_by_service on api_keys (service_id, created_at desc);

    -- The outbox: every domain change that others must hear about (webhooks, alerts), written
    -- in the same transaction as the change. seq gives consumers a total order to follow.
    create table domain_events (
      seq bigint generated always as identity primary key,
      id text not null unique,
      service_id text not null references services (id),
      account_id text not null references accounts (id),
      resource_type text not null,
      resource_id text not null,
      event_type text not null,
      occurred_at timestamptz not null,
      data jsonb not null default '{}'
    );
    create index domain_events_by_resource on domain_events (account_id, resource_type, resource_id, seq);
  `.execute(db);
}
