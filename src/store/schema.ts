// The database as Kysely sees it: one interface per table, kept in step with migrations/.
import type { ColumnType, Generated, Selectable } from 'kysely';
import type { AuditTables } from '../audit/audit.tables.js';
import type { NetworkTables } from '../network/network.tables.js';
import type { ConsoleTables } from '../console/console.tables.js';
import type { WebhookTables } from '../webhooks/webhook.tables.js';
import type { PaymentTables } from '../payments/payment.tables.js';
import type { HostedTables } from '../hosted/hosted.tables.js';
import type { WebTables } from '../web/web.tables.js';
import type { AlertTables } from '../alerts/alert.tables.js';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface ServicesTable {
  id: string;
  name: string;
  created_at: Timestamp;
}

export type AccountMode = 'test' | 'live';

export interface AccountsTable {
  id: string;
  service_id: string;
  mode: AccountMode;
  created_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  service_id: string;
  account_id: string;
  mode: AccountMode;
  name: string;
  token_hash: string;
  token_start: string;
  token_end: string;
  scopes: string[];
  allowed_ips: string[];
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  last_used_ip: string | null;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
  revoked_reason: string | null;
  rolled_from_key_id: string | null;
  rolled_to_key_id: string | null;
  version: Generated<number>;
}

export interface DomainEventsTable {
  seq: Generated<number>;
  id: string;
  service_id: string;
  account_id: string;
  resource_type: string;
  resource_id: string;
  event_type: string;
  occurred_at: Timestamp;
  data: ColumnType<Record<string, unknown>, string, string>;
}

export interface FoundationTables {
  domain_events: DomainEventsTable;
  services: ServicesTable;
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
}

/**
 * Every table. Each domain declares its tables beside its code (e.g. payments/payment.tables.ts)
 * and joins them here, so one Kysely type covers the whole schema.
 */
export type Database = FoundationTables & PaymentTables & WebTables & HostedTables & WebhookTables & ConsoleTables & AuditTables & NetworkTables & AlertTables;

export type ServiceRow = Selectable<ServicesTable>;
export type AccountRow = Selectable<AccountsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type DomainEventRow = Selectable<DomainEventsTable>;
