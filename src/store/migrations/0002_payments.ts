// Payments, the single-use tokens that let a payer in, refunds, idempotency keys and the
// per-account payment features. Card data is only ever a summary (first six, last four,
// expiry, brand); personal data is sealed ciphertext plus keyed blind indexes for search.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table payment_account_settings (
      account_id text primary key references accounts (id),
      allow_moto boolean not null default false,
      allow_moto_api boolean not null default false,
      allow_recurring boolean not null default false,
      allow_zero_amount boolean not null default false,
      payments_disabled boolean not null default false
    );

    create table payments (
      id text primary key check (id ~ '^[0-9a-v]{26}$'),
      service_id text not null references services (id),
      account_id text not null references accounts (id),
      mode text not null check (mode in ('test', 'live')),
      status text not null,
      amount bigint not null check (amount between 0 and 10000000),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      description text not null,
      reference text not null,
      language text not null check (language in ('en', 'cy')),
      return_url text,
      delayed_capture boolean not null,
      moto boolean not null,
      authorisation_mode text not null check (authorisation_mode in ('web', 'moto_api', 'agreement')),
      agreement_id text,
      set_up_agreement text,
      agreement_payment_type text,
      metadata jsonb,
      email_sealed text,
      email_index text,
      prefilled_sealed text,
      cardholder_name_sealed text,
      cardholder_name_index text,
      billing_address_sealed text,
      personal_data_key_version integer not null,
      card_brand text,
      card_type text,
      card_first_digits text check (card_first_digits ~ '^[0-9]{6}$'),
      card_last_digits text check (card_last_digits ~ '^[0-9]{4}$'),
      card_expiry text check (card_expiry ~ '^[0-9]{2}/[0-9]{2}$'),
      card_corporate boolean,
      card_prepaid text,
      three_ds_required boolean,
      three_ds_challenge_id text,
      payment_provider text not null,
      processor_reference text,
      capture_submitted_at timestamptz,
      captured_at timestamptz,
      refunded_amount bigint not null default 0 check (refunded_amount >= 0 and refunded_amount <= amount),
      created_at timestamptz not null,
      updated_at timestamptz not null,
      version integer not null default 1
    );
    create index payments_by_account on payments (account_id, created_at desc, id desc);
    create index payments_by_reference on payments (account_id, lower(reference));
    create index payments_by_email on payments (account_id, email_index) where email_index is not null;
    create index payments_by_cardholder on payments (account_id, cardholder_name_index) where cardholder_name_index is not null;
    create index payments_by_agreement on payments (account_id, agreement_id) where agreement_id is not null;
    -- What the expiry and reconciling workers look for: only unfinished or in-flight payments.
    create index payments_unfinished on payments (status, created_at)
      where status not in ('captured', 'authorisation_rejected', 'authorisation_error', 'expired',
                           'user_cancelled', 'system_cancelled', 'capture_error');

    -- The payer's way in: a single-use random token, stored only as its SHA-256.
    create table payment_tokens (
      token_hash text primary key,
      payment_id text not null references payments (id),
      account_id text not null references accounts (id),
      created_at timestamptz not null,
      used_at timestamptz
    );
    create index payment_tokens_by_created on payment_tokens (created_at);

    create table refunds (
      id text primary key check (id ~ '^[0-9a-v]{26}$'),
      payment_id text not null references payments (id),
      service_id text not null references services (id),
      account_id text not null references accounts (id),
      amount bigint not null check (amount between 1 and 10000000),
      status text not null check (status in ('submitted', 'success', 'error')),
      processor_reference text,
      created_at timestamptz not null,
      updated_at timestamptz not null
    );
    create index refunds_by_payment on refunds (payment_id, created_at);
    create index refunds_by_account on refunds (account_id, created_at desc, id desc);
    create index refunds_in_flight on refunds (updated_at) where status = 'submitted';

    create table payment_idempotency_keys (
      account_id text not null references accounts (id),
      idempotency_key text not null,
      request_hash text not null,
      payment_id text not null references payments (id),
      created_at timestamptz not null,
      primary key (account_id, idempotency_key)
    );
    create index payment_idempotency_keys_by_created on payment_idempotency_keys (created_at);
  `.execute(db);
}
