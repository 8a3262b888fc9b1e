// The console's identity and access tables: users, their per-service roles, invites, MFA
// factors, sessions, known devices, sign-in failures, OIDC providers and access reviews.
// Every secret a browser or a person holds (session, invite, device and recovery tokens) is
// stored as its SHA-256 only; passwords as argon2id; TOTP and OIDC client secrets sealed with
// keys derived from the master key.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table console_users (
      id text primary key,
      email text not null check (length(email) between 3 and 254),
      password_hash text,
      status text not null check (status in ('active', 'disabled')),
      created_at timestamptz not null,
      created_by text not null,
      disabled_at timestamptz,
      disabled_by text,
      disabled_reason text,
      last_sign_in_at timestamptz,
      failed_count integer not null default 0,
      locked_until timestamptz,
      totp_secret_sealed text,
      totp_pending_sealed text,
      totp_last_step bigint,
      totp_enabled_at timestamptz,
      version integer not null default 1,
      check ((status = 'disabled') = (disabled_at is not null))
    );
    -- One account per address, whatever its case.
    create unique index console_users_by_email on console_users (lower(email));

    create table console_memberships (
      user_id text not null references console_users (id),
      service_id text not null references services (id),
      role text not null,
      created_at timestamptz not null,
      created_by text not null,
      primary key (service_id, user_id)
    );
    create index console_memberships_by_user on console_memberships (user_id);

    create table console_invites (
      id text primary key,
      token_hash text not null unique,
      email text not null,
      service_id text not null references services (id),
      role text not null,
      created_by text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      accepted_at timestamptz,
      accepted_by_user_id text references console_users (id)
    );
    create index console_invites_by_service on console_invites (service_id, created_at desc);

    create table console_recovery_codes (
      user_id text not null references console_users (id),
      code_hash text not null,
      created_at timestamptz not null,
      used_at timestamptz,
      primary key (user_id, code_hash)
    );

    create table console_passkeys (
      id text primary key,
      user_id text not null references console_users (id),
      credential_id text not null unique,
      public_key text not null,
      counter bigint not null,
      transports text[] not null default '{}',
      name text not null,
      created_at timestamptz not null,
      last_used_at timestamptz
    );
    create index console_passkeys_by_user on console_passkeys (user_id);

    -- A session is 'enrol' (password given, no MFA method yet), 'mfa' (password given, second
    -- factor awaited) or 'full'. Only a full session reaches service data.
    create table console_sessions (
      id text primary key,
      token_hash text not null unique,
      user_id text not null references console_users (id),
      stage text not null check (stage in ('enrol', 'mfa', 'full')),
      created_at timestamptz not null,
      last_seen_at timestamptz not null,
      expires_at timestamptz not null,
      mfa_at timestamptz,
      ip text not null,
      user_agent text not null,
      via text not null,
      webauthn_challenge text,
      ended_at timestamptz,
      ended_reason text
    );
    create index console_sessions_by_user on console_sessions (user_id) where ended_at is null;

    -- Browsers that completed a full sign-in for a user. A known device is not held back by
    -- the account lockout or the per-IP throttle (it has its own failure count), so an
    -- attacker who keeps an account locked cannot keep its owner out.
    create table console_known_devices (
      id text primary key,
      user_id text not null references console_users (id),
      token_hash text not null unique,
      created_at timestamptz not null,
      last_used_at timestamptz not null,
      failed_count integer not null default 0,
      revoked_at timestamptz
    );

    -- Every failed sign-in step, for the per-IP throttle and for alerting.
    create table console_auth_failures (
      seq bigint generated always as identity primary key,
      at timestamptz not null,
      email text,
      user_id text,
      ip text not null,
      reason text not null,
      known_device boolean not null default false
    );
    create index console_auth_failures_by_ip on console_auth_failures (ip, at);
    create index console_auth_failures_by_at on console_auth_failures (at);

    create table console_oidc_providers (
      id text primary key,
      service_id text not null references services (id),
      name text not null,
      issuer text not null,
      client_id text not null,
      client_secret_sealed text not null,
      allowed_domains text[] not null,
      new_user_role text,
      created_at timestamptz not null,
      created_by text not null
    );

    create table console_oidc_flows (
      id text primary key,
      state_hash text not null unique,
      provider_id text not null references console_oidc_providers (id),
      nonce text not null,
      code_verifier text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz
    );

    create table console_access_reviews (
      id text primary key,
      service_id text not null references services (id),
      reviewed_by text not null,
      reviewed_at timestamptz not null,
      notes text not null,
      snapshot jsonb not null
    );
    create index console_access_reviews_by_service on console_access_reviews (service_id, reviewed_at desc);
  `.execute(db);
}
