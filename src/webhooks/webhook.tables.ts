// Tables of the webhooks domain, joined into the store's Database type. Kept in step with
// migrations/0004_webhooks.ts.
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type EndpointStatus = 'active' | 'inactive' | 'disabled';
export type MessageStatus = 'pending' | 'delivered' | 'abandoned';

export interface WebhookEndpointsTable {
  id: string;
  service_id: string;
  account_id: string;
  mode: 'test' | 'live';
  url: string;
  description: string;
  event_types: string[];
  status: EndpointStatus;
  disabled_reason: string | null;
  disabled_at: Timestamp | null;
  failing_since: Timestamp | null;
  last_success_at: Timestamp | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Generated<number>;
}

export interface WebhookSecretsTable {
  id: string;
  endpoint_id: string;
  sealed: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
}

export interface WebhookFanoutCursorTable {
  name: string;
  /** xid8, which the driver hands over as a decimal string. */
  last_tx_id: string;
  last_seq: number;
}

export interface WebhookMessagesTable {
  id: string;
  endpoint_id: string;
  service_id: string;
  account_id: string;
  event_id: string;
  event_type: string;
  resource_type: string;
  resource_id: string;
  body: string;
  event_date: Timestamp;
  created_at: Timestamp;
  status: MessageStatus;
  attempt_count: Generated<number>;
  schedule_start: Timestamp;
  schedule_attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  claim_id: string | null;
  last_attempt_at: Timestamp | null;
  last_status_code: number | null;
  delivered_at: Timestamp | null;
  updated_at: Timestamp;
}

export interface WebhookAttemptsTable {
  id: string;
  message_id: string;
  endpoint_id: string;
  account_id: string;
  attempt_number: number;
  attempted_at: Timestamp;
  url: string;
  address: string | null;
  status_code: number | null;
  duration_ms: number;
  outcome: 'succeeded' | 'failed';
  error: string | null;
  retry_after_ms: number | null;
  next_attempt_at: Timestamp | null;
}

export interface WebhookTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_secrets: WebhookSecretsTable;
  webhook_fanout_cursor: WebhookFanoutCursorTable;
  webhook_messages: WebhookMessagesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookSecretRow = Selectable<WebhookSecretsTable>;
export type WebhookMessageRow = Selectable<WebhookMessagesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
