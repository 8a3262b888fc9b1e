// Security alerts, the email outbox that carries them to a service's administrators, and the
// small counters the detectors keep. An alert is open until acknowledged; at most one alert is
// open per (service, detector, subject), so a flood adds to that alert's count (the partial
// unique index makes concurrent raisers converge on one row).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table security_alerts (
      id text primary key,
      service_id text not null references services (id),
      account_id text references accounts (id),
      detector text not null check (length(detector) between 1 and 64),
      subject text not null check (length(subject) between 1 and 200),
      severity text not null check (severity in ('warning', 'critical')),
      summary text not null check (length(summary) between 1 and 500),
      details jsonb not null default '{}',
      occurrences integer not null default 1 check (occurrences >= 1),
      first_seen_at timestamptz not null,
      last_seen_at timestamptz not null,
      last_notified_at timestamptz not null,
      acknowledged_at timestamptz,
      acknowledged_by text,
      check ((acknowledged_at is null) = (acknowledged_by is null))
    );
    create unique index security_alerts_one_open on security_alerts (service_id, detector, subject) where acknowledged_at is null;
    create index security_alerts_by_service on security_alerts (service_id, last_seen_at desc, id);

    -- One row per notification to send; claimed with FOR UPDATE SKIP LOCKED, retried on a schedule.
    create table security_alert_emails (
      id text primary key,
      alert_id text not null references security_alerts (id),
      service_id text not null references services (id),
      status text not null check (status in ('pending', 'sent', 'failed', 'not_configured', 'no_recipients')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null,
      claimed_until timestamptz,
      recipients text[] not null default '{}',
      last_error text,
      sent_at timestamptz,
      created_at timestamptz not null
    );
    create index security_alert_emails_due on security_alert_emails (next_attempt_at) where status = 'pending';
    create index security_alert_emails_by_alert on security_alert_emails (alert_id);

    -- Fixed-window counters for detectors with a threshold ("10 in 15 minutes"), and the values
    -- seen in a window where the threshold counts distinct things (cards per address).
    create table alert_counters (
      detector text not null,
      subject text not null,
      window_start timestamptz not null,
      count integer not null,
      primary key (detector, subject, window_start)
    );
    create table alert_distinct_values (
      detector text not null,
      subject text not null,
      window_start timestamptz not null,
      value text not null,
      primary key (detector, subject, window_start, value)
    );

    -- The networks (IPv4 /24, IPv6 /48) each key has been used from, for the new-network detector.
    create table alert_key_networks (
      key_id text not null references api_keys (id),
      network text not null,
      first_seen_at timestamptz not null,
      primary key (key_id, network)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table alert_key_networks;
    drop table alert_distinct_values;
    drop table alert_counters;
    drop table security_alert_emails;
    drop table security_alerts;
  `.execute(db);
}
