// Webhook endpoints, their signing secrets (sealed), the messages fanned out from the domain
// events outbox, and one row per delivery attempt.
//
// The fan-out cursor follows (tx_id, seq) rather than seq alone: identity values are handed out
// before commit, so with concurrent writers seq 11 can commit (and be read) before seq 10, and a
// seq-only cursor would skip 10 for ever. An event whose writing transaction id is below the
// oldest transaction still running (pg_snapshot_xmin) can no longer appear or change, so the
// cursor only ever moves over events that are final.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table domain_events add column tx_id xid8 not null default pg_current_xact_id();
    create index domain_events_by_tx on domain_events (tx_id, seq);

    create table webhook_endpoints (
      id text primary key,
      service_id text not null references services (id),
      account_id text not null references accounts (id),
      mode text not null check (mode in ('test', 'live')),
      url text not null check (length(url) between 1 and 2048),
      description text not null default '' check (length(description) <= 500),
      event_types text[] not null check (cardinality(event_types) >= 1),
      -- active and inactive are the service's choice; disabled is Coffer's, after failures.
      status text not null check (status in ('active', 'inactive', 'disabled')),
      disabled_reason text,
      disabled_at timestamptz,
      failing_since timestamptz,
      last_success_at timestamptz,
      created_by text not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      version integer not null default 1,
      check ((status = 'disabled') = (disabled_at is not null))
    );
    create index webhook_endpoints_by_account on webhook_endpoints (account_id, created_at desc, id);

    -- Every secret an endpoint signs with; during a rotation's overlap there are two.
    create table webhook_secrets (
      id text primary key,
      endpoint_id text not null references webhook_endpoints (id),
      sealed text not null,
      created_at timestamptz not null,
      expires_at timestamptz
    );
    create index webhook_secrets_by_endpoint on webhook_secrets (endpoint_id, created_at);

    create table webhook_fanout_cursor (
      name text primary key,
      last_tx_id xid8 not null,
      last_seq bigint not null
    );
    insert into webhook_fanout_cursor (name, last_tx_id, last_seq) values ('webhooks', '0', 0);

    create table webhook_messages (
      id text primary key check (id ~ '^[0-9a-v]{26}$'),
      endpoint_id text not null references webhook_endpoints (id),
      service_id text not null references services (id),
      account_id text not null references accounts (id),
      event_id text not null references domain_events (id),
      event_type text not null,
      resource_type text not null,
      resource_id text not null,
      body text not null,
      event_date timestamptz not null,
      created_at timestamptz not null,
      -- pending (waiting for its next attempt, or leased to a worker) | delivered | abandoned
      status text not null check (status in ('pending', 'delivered', 'abandoned')),
      attempt_count integer not null default 0,
      -- The retry schedule runs from here: creation, or the last manual re-send.
      schedule_start timestamptz not null,
      schedule_attempts integer not null default 0,
      next_attempt_at timestamptz,
      -- A worker that claims the message writes a fresh claim id and pushes next_attempt_at past
      -- the lease; its outcome counts only while the claim id is still its own.
      claim_id text,
      last_attempt_at timestamptz,
      last_status_code integer,
      delivered_at timestamptz,
      updated_at timestamptz not null,
      unique (endpoint_id, event_id),
      check ((status = 'pending') = (next_attempt_at is not null))
    );
    create index webhook_messages_due on webhook_messages (next_attempt_at) where status = 'pending';
    create index webhook_messages_by_endpoint on webhook_messages (endpoint_id, created_at desc, id);
    create index webhook_messages_by_resource on webhook_messages (account_id, resource_type, resource_id, created_at);

    create table webhook_attempts (
      id text primary key,
      message_id text not null references webhook_messages (id),
      endpoint_id text not null references webhook_endpoints (id),
      account_id text not null references accounts (id),
      attempt_number integer not null,
      attempted_at timestamptz not null,
      url text not null,
      address text,
      status_code integer,
      duration_ms integer not null,
      outcome text not null check (outcome in ('succeeded', 'failed')),
      error text,
      retry_after_ms bigint,
      next_attempt_at timestamptz
    );
    create index webhook_attempts_by_message on webhook_attempts (message_id, attempted_at);
    create index webhook_attempts_by_endpoint on webhook_attempts (endpoint_id, attempted_at desc);
  `.execute(db);
}
