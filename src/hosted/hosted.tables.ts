// Tables of the payment pages: which browser session a payment is bound to, the per-account
// page settings, and the authorisation attempts that feed the card-testing limits. No card
// number or CVC has a column anywhere; the card fingerprint is a keyed hash (PCI DSS 3.5.1.1).
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface HostedPaymentBindingsTable {
  payment_id: string;
  session_id_hash: string;
  bound_at: Timestamp;
}

export type EmailCollection = 'mandatory' | 'optional' | 'off';

/** Per-account page settings; a missing row means the defaults (see hosted.settings.ts). */
export interface HostedAccountSettingsTable {
  account_id: string;
  collect_billing_address: boolean;
  email_collection: EmailCollection;
  accepted_brands: string[];
  updated_at: Timestamp;
}

export type AttemptOutcome = 'authorised' | 'requires_3ds' | 'declined' | 'error' | 'refused_limit';

export interface HostedAuthorisationAttemptsTable {
  id: Generated<number>;
  payment_id: string;
  account_id: string;
  /** HMAC of the client address: enough to count, not to identify. */
  ip_hash: string;
  /** HMAC-SHA256 of the full card number under a key derived for this purpose only. */
  card_fingerprint: string;
  outcome: AttemptOutcome;
  created_at: Timestamp;
}

export interface HostedTables {
  hosted_payment_bindings: HostedPaymentBindingsTable;
  hosted_account_settings: HostedAccountSettingsTable;
  hosted_authorisation_attempts: HostedAuthorisationAttemptsTable;
}

export type HostedAccountSettingsRow = Selectable<HostedAccountSettingsTable>;
