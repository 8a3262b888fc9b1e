// The audit log, its hash chain and signed checkpoints; and the per-account network
// allow-lists. The log is append-only: a trigger refuses to change a sealed entry or to delete
// one outside the retention worker, and the hash chain makes any change that bypasses the
// trigger (a superuser, a restored backup, a disabled trigger) visible to `coffer audit verify`.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- id is the insertion order (an identity, so it says nothing about commit order); seq is
    -- the position in the hash chain, given by the chaining worker once the entry is visible.
    create table audit_log (
      id bigint generated always as identity primary key,
      entry_id text not null unique,
      occurred_at timestamptz not null,
      actor_type text not null check (actor_type in ('key', 'user', 'operator', 'system', 'anonymous')),
      actor_id text not null,
      action text not null check (action ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$'),
      object_type text,
      object_id text,
      service_id text,
      account_id text,
      ip text,
      user_agent text,
      outcome text not null check (outcome in ('success', 'failure', 'denied')),
      request_id text,
      details jsonb not null default '{}',
      seq bigint unique,
      prev_hash text,
      hash text,
      check ((seq is null) = (hash is null) and (seq is null) = (prev_hash is null))
    );
    -- The chaining worker's queue: entries not yet sealed, oldest first.
    create index audit_log_unsealed on audit_log (id) where seq is null;
    -- Searches are per account, newest first; export and retention go by time.
    create index audit_log_by_account on audit_log (account_id, id desc);
    create index audit_log_by_time on audit_log (occurred_at, id);

    -- One row: the head of the chain. The chaining worker locks it (FOR UPDATE SKIP LOCKED),
    -- so exactly one node seals at a time and the others move on.
    create table audit_chain_head (
      id integer primary key check (id = 1),
      seq bigint not null,
      hash text not null
    );
    insert into audit_chain_head (id, seq, hash) values (1, 0, repeat('0', 64));

    -- Signed tree heads: (size, head hash, time) signed with the log's Ed25519 key. A 'cut'
    -- checkpoint marks where retention removed older entries; verification starts from it.
    create table audit_checkpoints (
      id bigint generated always as identity primary key,
      kind text not null check (kind in ('periodic', 'cut')),
      size bigint not null,
      head_hash text not null,
      signed_at timestamptz not null,
      key_id text not null,
      signature text not null
    );
    create index audit_checkpoints_by_size on audit_checkpoints (size desc, id desc);

    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' then
        -- The only change ever allowed: sealing an unsealed entry, leaving its content alone.
        if old.seq is null and new.seq is not null
           and (new.entry_id, new.occurred_at, new.actor_type, new.actor_id, new.action, new.object_type, new.object_id,
                new.service_id, new.account_id, new.ip, new.user_agent, new.outcome, new.request_id, new.details)
               is not distinct from
               (old.entry_id, old.occurred_at, old.actor_type, old.actor_id, old.action, old.object_type, old.object_id,
                old.service_id, old.account_id, old.ip, old.user_agent, old.outcome, old.request_id, old.details) then
          return new;
        end if;
        raise exception 'audit_log is append-only';
      end if;
      if tg_op = 'DELETE' then
        if current_setting('coffer.audit_retention', true) = 'on' and old.seq is not null then
          return old;
        end if;
        raise exception 'audit_log entries are removed only by retention';
      end if;
      return null;
    end
    $$;
    create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_append_only();

    create table network_allow_lists (
      id text primary key,
      service_id text not null references services (id),
      account_id text not null references accounts (id),
      purpose text not null check (purpose in ('api', 'console')),
      cidr text not null,
      created_by text not null,
      created_at timestamptz not null,
      unique (account_id, purpose, cidr)
    );
  `.execute(db);
}
