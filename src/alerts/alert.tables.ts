// Tables of the alerts domain, joined into the store's Database type. Kept in step with
// migrations/0007_alerts.ts.
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type AlertSeverity = 'warning' | 'critical';
export type AlertEmailStatus = 'pending' | 'sent' | 'failed' | 'not_configured' | 'no_recipients';

export interface SecurityAlertsTable {
  id: string;
  service_id: string;
  account_id: string | null;
  detector: string;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  details: ColumnType<Record<string, unknown>, string, string>;
  occurrences: number;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  last_notified_at: Timestamp;
  acknowledged_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  acknowledged_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SecurityAlertEmailsTable {
  id: string;
  alert_id: string;
  service_id: string;
  status: AlertEmailStatus;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  claimed_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  recipients: ColumnType<string[], string[] | undefined, string[]>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
}

export interface AlertCountersTable {
  detector: string;
  subject: string;
  window_start: Timestamp;
  count: number;
}

export interface AlertDistinctValuesTable {
  detector: string;
  subject: string;
  window_start: Timestamp;
  value: string;
}

export interface AlertKeyNetworksTable {
  key_id: string;
  network: string;
  first_seen_at: Timestamp;
}

export interface AlertKeyCountriesTable {
  key_id: string;
  country: string;
  first_seen_at: Timestamp;
}

export interface AlertTables {
  security_alerts: SecurityAlertsTable;
  security_alert_emails: SecurityAlertEmailsTable;
  alert_counters: AlertCountersTable;
  alert_distinct_values: AlertDistinctValuesTable;
  alert_key_networks: AlertKeyNetworksTable;
  alert_key_countries: AlertKeyCountriesTable;
}

export type SecurityAlertRow = Selectable<SecurityAlertsTable>;
export type SecurityAlertEmailRow = Selectable<SecurityAlertEmailsTable>;
