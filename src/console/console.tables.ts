// Kysely's view of the console tables (migration 0005_console).
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type UserStatus = 'active' | 'disabled';
export type SessionStage = 'enrol' | 'mfa' | 'full';

export interface ConsoleUsersTable {
  id: string;
  email: string;
  password_hash: string | null;
  status: UserStatus;
  created_at: Timestamp;
  created_by: string;
  disabled_at: Timestamp | null;
  disabled_by: string | null;
  disabled_reason: string | null;
  last_sign_in_at: Timestamp | null;
  failed_count: Generated<number>;
  locked_until: Timestamp | null;
  totp_secret_sealed: string | null;
  totp_pending_sealed: string | null;
  totp_last_step: number | null;
  totp_enabled_at: Timestamp | null;
  version: Generated<number>;
}

export interface ConsoleMembershipsTable {
  user_id: string;
  service_id: string;
  role: string;
  created_at: Timestamp;
  created_by: string;
}

export interface ConsoleInvitesTable {
  id: string;
  token_hash: string;
  email: string;
  service_id: string;
  role: string;
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  accepted_at: Timestamp | null;
  accepted_by_user_id: string | null;
}

export interface ConsoleRecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface ConsolePasskeysTable {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: number;
  transports: string[];
  name: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
}

export interface ConsoleSessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  stage: SessionStage;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  mfa_at: Timestamp | null;
  ip: string;
  user_agent: string;
  via: string;
  webauthn_challenge: string | null;
  ended_at: Timestamp | null;
  ended_reason: string | null;
}

export interface ConsoleKnownDevicesTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: Timestamp;
  last_used_at: Timestamp;
  failed_count: Generated<number>;
  revoked_at: Timestamp | null;
}

export interface ConsoleAuthFailuresTable {
  seq: Generated<number>;
  at: Timestamp;
  email: string | null;
  user_id: string | null;
  ip: string;
  reason: string;
  known_device: Generated<boolean>;
}

export interface ConsoleOidcProvidersTable {
  id: string;
  service_id: string;
  name: string;
  issuer: string;
  client_id: string;
  client_secret_sealed: string;
  allowed_domains: string[];
  new_user_role: string | null;
  created_at: Timestamp;
  created_by: string;
}

export interface ConsoleOidcFlowsTable {
  id: string;
  state_hash: string;
  provider_id: string;
  nonce: string;
  code_verifier: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface ConsoleAccessReviewsTable {
  id: string;
  service_id: string;
  reviewed_by: string;
  reviewed_at: Timestamp;
  notes: string;
  snapshot: ColumnType<unknown, string, string>;
}

export interface ConsoleTables {
  console_users: ConsoleUsersTable;
  console_memberships: ConsoleMembershipsTable;
  console_invites: ConsoleInvitesTable;
  console_recovery_codes: ConsoleRecoveryCodesTable;
  console_passkeys: ConsolePasskeysTable;
  console_sessions: ConsoleSessionsTable;
  console_known_devices: ConsoleKnownDevicesTable;
  console_auth_failures: ConsoleAuthFailuresTable;
  console_oidc_providers: ConsoleOidcProvidersTable;
  console_oidc_flows: ConsoleOidcFlowsTable;
  console_access_reviews: ConsoleAccessReviewsTable;
}

export type UserRow = Selectable<ConsoleUsersTable>;
export type MembershipRow = Selectable<ConsoleMembershipsTable>;
export type InviteRow = Selectable<ConsoleInvitesTable>;
export type PasskeyRow = Selectable<ConsolePasskeysTable>;
export type SessionRow = Selectable<ConsoleSessionsTable>;
export type KnownDeviceRow = Selectable<ConsoleKnownDevicesTable>;
export type OidcProviderRow = Selectable<ConsoleOidcProvidersTable>;
