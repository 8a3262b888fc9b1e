// Figures read from the store when /metrics is scraped. Each reads a domain's table only if
// that table exists (domains arrive in their own migrations), so a deployment without, say,
// webhooks yet simply reports no webhook figures.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { registerMetricSource, type MetricSource } from './metrics.js';

async function tableExists(db: Kysely<Database>, table: string): Promise<boolean> {
  const result = await sql<{ present: boolean }>`select to_regclass(${table}) is not null as present`.execute(db);
  return result.rows[0]?.present === true;
}

function grouped(table: string, query: (db: Kysely<Database>) => Promise<{ rows: Record<string, unknown>[] }>, labelNames: string[]): MetricSource['read'] {
  return async (db) => {
    if (!(await tableExists(db, table))) return [];
    const { rows } = await query(db);
    return rows.map((row) => ({
      labels: Object.fromEntries(labelNames.map((l) => [l, String(row[l])])),
      value: Number(row.n),
    }));
  };
}

export const paymentsByState: MetricSource = {
  name: 'coffer_payments',
  help: 'Payments by mode and state',
  labelNames: ['mode', 'state'],
  read: grouped('payments', (db) => sql<Record<string, unknown>>`select mode, status as state, count(*) as n from payments group by mode, status`.execute(db), ['mode', 'state']),
};

export const webhookMessages: MetricSource = {
  name: 'coffer_webhook_messages',
  help: 'Webhook messages by delivery status (pending is the backlog, abandoned the failures)',
  labelNames: ['status'],
  read: grouped('webhook_messages', (db) => sql<Record<string, unknown>>`select status, count(*) as n from webhook_messages group by status`.execute(db), ['status']),
};

export const webhookBacklogDue: MetricSource = {
  name: 'coffer_webhook_backlog_due',
  help: 'Pending webhook messages whose next attempt is already due (a growing value means delivery is falling behind)',
  labelNames: [],
  read: grouped('webhook_messages', (db) => sql<Record<string, unknown>>`select count(*) as n from webhook_messages where status = 'pending' and next_attempt_at <= now()`.execute(db), []),
};

export const webhookFailedAttempts: MetricSource = {
  name: 'coffer_webhook_failed_attempts_last_hour',
  help: 'Webhook delivery attempts that failed in the last hour',
  labelNames: [],
  read: grouped('webhook_attempts', (db) => sql<Record<string, unknown>>`select count(*) as n from webhook_attempts where outcome = 'failed' and attempted_at > now() - interval '1 hour'`.execute(db), []),
};

export const alertsByStatus: MetricSource = {
  name: 'coffer_security_alerts',
  help: 'Security alerts by detector and status (open, acknowledged)',
  labelNames: ['detector', 'status'],
  read: grouped(
    'security_alerts',
    (db) => sql<Record<string, unknown>>`select detector, case when acknowledged_at is null then 'open' else 'acknowledged' end as status, count(*) as n from security_alerts group by 1, 2`.execute(db),
    ['detector', 'status'],
  ),
};

export const auditUnsealed: MetricSource = {
  name: 'coffer_audit_unsealed_entries',
  help: 'Audit entries not yet sealed into the hash chain (should stay near zero)',
  labelNames: [],
  read: grouped('audit_log', (db) => sql<Record<string, unknown>>`select count(*) as n from audit_log where seq is null`.execute(db), []),
};

for (const source of [paymentsByState, webhookMessages, webhookBacklogDue, webhookFailedAttempts, alertsByStatus, auditUnsealed]) registerMetricSource(source);
