// Browser sessions (payment pages now, the console later), the binding of a payment to the
// payer's session, per-account page settings, and authorisation attempts for card-testing
// limits. Nothing here can hold a card number or CVC: sessions keep only a hash of the cookie,
// attempts keep keyed hashes of the card and the client address.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table web_sessions (
      id_hash text primary key check (id_hash ~ '^[0-9a-f]{64}$'),
      purpose text not null check (purpose in ('payer', 'console')),
      created_at timestamptz not null,
      last_seen_at timestamptz not null,
      expires_at timestamptz not null
    );
    create index web_sessions_by_expiry on web_sessions (expires_at);

    create table hosted_payment_bindings (
      payment_id text primary key references payments (id),
      session_id_hash text not null references web_sessions (id_hash) on delete cascade,
      bound_at timestamptz not null
    );
    create index hosted_payment_bindings_by_session on hosted_payment_bindings (session_id_hash);

    create table hosted_account_settings (
      account_id text primary key references accounts (id),
      collect_billing_address boolean not null,
      email_collection text not null check (email_collection in ('mandatory', 'optional', 'off')),
      accepted_brands text[] not null,
      updated_at timestamptz not null
    );

    create table hosted_authorisation_attempts (
      id bigint generated always as identity primary key,
      payment_id text not null references payments (id),
      account_id text not null references accounts (id),
      ip_hash text not null check (ip_hash ~ '^[0-9a-f]{64}$'),
      card_fingerprint text not null check (card_fingerprint ~ '^[0-9a-f]{64}$'),
      outcome text not null check (outcome in ('authorised', 'requires_3ds', 'declined', 'error', 'refused_limit')),
      created_at timestamptz not null
    );
    create index hosted_attempts_by_payment on hosted_authorisation_attempts (payment_id, created_at);
    create index hosted_attempts_by_ip on hosted_authorisation_attempts (ip_hash, created_at);
    create index hosted_attempts_by_card on hosted_authorisation_attempts (card_fingerprint, created_at);
  `.execute(db);
}
