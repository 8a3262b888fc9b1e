// Tables of the payments domain (payments, payer tokens, refunds, idempotency keys, per-account
// payment settings), joined into the store's Database type. Kept in step with 0002_payments.
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type AuthorisationMode = 'web' | 'moto_api' | 'agreement';
export type AgreementPaymentType = 'instalment' | 'recurring' | 'unscheduled';

export interface PaymentsTable {
  id: string;
  service_id: string;
  account_id: string;
  mode: 'test' | 'live';
  status: string;
  amount: number;
  currency: string;
  description: string;
  reference: string;
  language: 'en' | 'cy';
  return_url: string | null;
  delayed_capture: boolean;
  moto: boolean;
  authorisation_mode: AuthorisationMode;
  agreement_id: string | null;
  set_up_agreement: string | null;
  agreement_payment_type: AgreementPaymentType | null;
  metadata: Json<Record<string, string | number | boolean>> | null;
  /** Personal data, sealed with AES-256-GCM bound to (payment id, column). */
  email_sealed: string | null;
  email_index: string | null;
  prefilled_sealed: string | null;
  cardholder_name_sealed: string | null;
  cardholder_name_index: string | null;
  billing_address_sealed: string | null;
  personal_data_key_version: number;
  card_brand: string | null;
  card_type: string | null;
  card_first_digits: string | null;
  card_last_digits: string | null;
  card_expiry: string | null;
  card_corporate: boolean | null;
  card_prepaid: string | null;
  three_ds_required: boolean | null;
  three_ds_challenge_id: string | null;
  payment_provider: string;
  processor_reference: string | null;
  capture_submitted_at: Timestamp | null;
  captured_at: Timestamp | null;
  /** Amount refunded or being refunded (submitted + success); kept in step under the row lock. */
  refunded_amount: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Generated<number>;
}

export interface PaymentTokensTable {
  token_hash: string;
  payment_id: string;
  account_id: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface RefundsTable {
  id: string;
  payment_id: string;
  service_id: string;
  account_id: string;
  amount: number;
  /** submitted (in flight at the processor) | success | error */
  status: 'submitted' | 'success' | 'error';
  processor_reference: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type IdempotentOperation = 'create_payment' | 'cancel' | 'capture' | 'refund';

export interface PaymentIdempotencyKeysTable {
  account_id: string;
  /** Keys are scoped by operation: one key may create a payment and, separately, refund it. */
  operation: ColumnType<IdempotentOperation, IdempotentOperation | undefined, never>;
  idempotency_key: string;
  request_hash: string;
  payment_id: string;
  /** What the operation produced when that is not the payment itself (a refund's id). */
  resource_id: string | null;
  created_at: Timestamp;
}

export interface RateLimitCountersTable {
  bucket: string;
  window_start: Timestamp;
  count: number;
}

type Flag = ColumnType<boolean, boolean | undefined, boolean>;
type OptionalLimit = ColumnType<number | null, number | null | undefined, number | null>;

/** Per-account payment features, all off by default (a missing row means defaults). */
export interface PaymentAccountSettingsTable {
  account_id: string;
  allow_moto: Flag;
  allow_moto_api: Flag;
  allow_recurring: Flag;
  allow_zero_amount: Flag;
  payments_disabled: Flag;
  /** Per-second limits; null means GOV.UK Pay's defaults. */
  rate_limit_create_per_second: OptionalLimit;
  rate_limit_capture_per_second: OptionalLimit;
  rate_limit_post_per_second: OptionalLimit;
  rate_limit_get_per_second: OptionalLimit;
}

export interface PaymentTables {
  payments: PaymentsTable;
  payment_tokens: PaymentTokensTable;
  refunds: RefundsTable;
  payment_idempotency_keys: PaymentIdempotencyKeysTable;
  payment_account_settings: PaymentAccountSettingsTable;
  rate_limit_counters: RateLimitCountersTable;
}

export type PaymentRow = Selectable<PaymentsTable>;
export type RefundRow = Selectable<RefundsTable>;
export type PaymentAccountSettingsRow = Selectable<PaymentAccountSettingsTable>;
export type NewPaymentAccountSettings = Insertable<PaymentAccountSettingsTable>;
