// Raising and acknowledging security alerts. An alert is written in the transaction of what
// caused it; a repeat while it is open adds to its count rather than making another, so a flood
// is one alert. A new alert (or a repeat after a quiet window) queues an email to the service's
// administrators and a `security_alert` domain event for webhooks, in that same transaction.
// Raising runs inside a savepoint: an alerting fault is logged and never undoes the change
// that triggered it.
import { sql, type Kysely } from 'kysely';
import { recordAudit } from '../audit/audit.service.js';
import { recordDomainEvent } from '../events/event.repo.js';
import type { AppContext } from '../platform/context.js';
import { prefixedId } from '../platform/random.js';
import type { Database } from '../store/schema.js';
import * as repo from './alert.repo.js';
import { detectorSetting, type Detector } from './alert.settings.js';
import type { AlertSeverity, SecurityAlertRow } from './alert.tables.js';

export interface NewAlert {
  serviceId: string;
  /** The account it concerns, when it concerns one (a key, a payment); else service-wide. */
  accountId?: string | null | undefined;
  detector: Detector;
  /** What the alert is about, e.g. `key:key_…`, `ip:203.0.113.9`, `user:usr_…`; one open alert per subject. */
  subject: string;
  /** One line for the console and the email subject. Never a secret, card number or full key. */
  summary: string;
  details?: Record<string, unknown>;
  severity?: AlertSeverity;
  /** How many occurrences this raise stands for (a detector that fires at 10 passes 10). */
  occurrences?: number;
}

export interface RaisedAlert {
  id: string;
  created: boolean;
  /** Whether administrators are told now (new alert, or a repeat after the quiet window). */
  notified: boolean;
}

/**
 * Pass the transaction that makes the change being alerted on; on its own (a refused request,
 * a sign-in failure) pass the database and the alert gets a transaction of its own.
 */
export async function raiseAlert(trx: Kysely<Database>, ctx: AppContext, alert: NewAlert): Promise<RaisedAlert | undefined> {
  if (!trx.isTransaction) return trx.transaction().execute((own) => raiseAlert(own, ctx, alert));
  await sql`savepoint raise_alert`.execute(trx);
  try {
    const raised = await raise(trx, ctx, alert);
    await sql`release savepoint raise_alert`.execute(trx);
    return raised;
  } catch (err) {
    await sql`rollback to savepoint raise_alert`.execute(trx);
    ctx.log.error({ err, detector: alert.detector, serviceId: alert.serviceId }, 'security alert not recorded');
    return undefined;
  }
}

async function raise(trx: Kysely<Database>, ctx: AppContext, alert: NewAlert): Promise<RaisedAlert> {
  const at = ctx.clock.now();
  const renotifyBefore = new Date(at.getTime() - detectorSetting(ctx, alert.detector).windowMs);
  const occurrence: repo.AlertOccurrence = {
    id: prefixedId('alr'),
    serviceId: alert.serviceId,
    accountId: alert.accountId ?? null,
    detector: alert.detector,
    subject: alert.subject.slice(0, 200),
    severity: alert.severity ?? 'warning',
    summary: alert.summary.slice(0, 500),
    details: alert.details ?? {},
    occurrences: Math.max(1, alert.occurrences ?? 1),
    at,
  };
  let raised: RaisedAlert;
  const existing = await repo.addToOpenAlert(trx, occurrence, renotifyBefore);
  if (existing) raised = { id: existing.id, created: false, notified: existing.notify };
  else if (await repo.insertOpenAlert(trx, occurrence)) raised = { id: occurrence.id, created: true, notified: true };
  else {
    // Another transaction opened the same alert a moment ago: add to that one.
    const theirs = await repo.addToOpenAlert(trx, occurrence, renotifyBefore);
    if (!theirs) throw new Error('open alert vanished between insert and update');
    raised = { id: theirs.id, created: false, notified: theirs.notify };
  }
  if (raised.notified) await notify(trx, occurrence, raised.id, at);
  ctx.log.warn({ alertId: raised.id, detector: alert.detector, serviceId: alert.serviceId, subject: occurrence.subject, created: raised.created, notified: raised.notified }, 'security alert');
  return raised;
}

async function notify(trx: Kysely<Database>, alert: repo.AlertOccurrence, alertId: string, at: Date): Promise<void> {
  await repo.insertEmail(trx, { id: prefixedId('alm'), alertId, serviceId: alert.serviceId, at });
  const accountId = alert.accountId ?? (await repo.primaryAccountOf(trx, alert.serviceId));
  if (accountId) {
    await recordDomainEvent(trx, {
      serviceId: alert.serviceId,
      accountId,
      resourceType: 'security_alert',
      resourceId: alertId,
      eventType: 'security_alert',
      occurredAt: at,
      data: { detector: alert.detector },
    });
  }
  await recordAudit(trx, {
    actor: { type: 'system', id: 'alerts' },
    action: 'alert.raise',
    object: { type: 'alert', id: alertId },
    serviceId: alert.serviceId,
    accountId: alert.accountId ?? undefined,
    at,
    details: { detector: alert.detector, subject: alert.subject },
  });
}

// ---- reading and acknowledging

export interface AlertView {
  id: string;
  service_id: string;
  account_id: string | null;
  detector: string;
  severity: AlertSeverity;
  subject: string;
  summary: string;
  details: Record<string, unknown>;
  occurrences: number;
  first_seen_date: string;
  last_seen_date: string;
  status: 'open' | 'acknowledged';
  acknowledged_date: string | null;
  acknowledged_by: string | null;
}

export function toAlertView(row: SecurityAlertRow): AlertView {
  return {
    id: row.id,
    service_id: row.service_id,
    account_id: row.account_id,
    detector: row.detector,
    severity: row.severity,
    subject: row.subject,
    summary: row.summary,
    details: row.details,
    occurrences: row.occurrences,
    first_seen_date: row.first_seen_at.toISOString(),
    last_seen_date: row.last_seen_at.toISOString(),
    status: row.acknowledged_at === null ? 'open' : 'acknowledged',
    acknowledged_date: row.acknowledged_at?.toISOString() ?? null,
    acknowledged_by: row.acknowledged_by,
  };
}

export async function listAlertsForService(ctx: AppContext, serviceId: string, status?: 'open' | 'acknowledged', limit = 100): Promise<AlertView[]> {
  return (await repo.listAlerts(ctx.db, serviceId, { status, limit })).map(toAlertView);
}

/** What the console shows on an account's page: its alerts and the service-wide ones. */
export async function listAlertsForAccount(ctx: AppContext, scope: { serviceId: string; accountId: string }, status?: 'open' | 'acknowledged', limit = 100): Promise<AlertView[]> {
  return (await repo.listAlerts(ctx.db, scope.serviceId, { status, accountId: scope.accountId, limit })).map(toAlertView);
}

export async function getAlertForService(ctx: AppContext, serviceId: string, alertId: string): Promise<AlertView | undefined> {
  const row = await repo.findAlert(ctx.db, serviceId, alertId);
  return row ? toAlertView(row) : undefined;
}

export type AcknowledgeOutcome = 'acknowledged' | 'already_acknowledged' | 'not_found';

/** Acknowledges an open alert of the service, with its audit entry; the next occurrence opens a new alert. */
export async function acknowledgeAlert(ctx: AppContext, input: { serviceId: string; alertId: string; userId: string }): Promise<AcknowledgeOutcome> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await repo.findAlert(trx, input.serviceId, input.alertId);
    if (!row) return 'not_found';
    if (!(await repo.markAcknowledged(trx, input.serviceId, input.alertId, input.userId, now))) return 'already_acknowledged';
    await recordAudit(trx, {
      actor: { type: 'user', id: input.userId },
      action: 'alert.acknowledge',
      object: { type: 'alert', id: input.alertId },
      serviceId: input.serviceId,
      accountId: row.account_id ?? undefined,
      at: now,
      details: { detector: row.detector },
    });
    return 'acknowledged';
  });
}

/** The `resource` of a security_alert webhook: the alert as the console shows it. */
export async function renderAlertResource(ctx: AppContext, accountId: string, alertId: string): Promise<object | undefined> {
  const account = await ctx.db.selectFrom('accounts').select('service_id').where('id', '=', accountId).executeTakeFirst();
  if (!account) return undefined;
  const row = await repo.findAlert(ctx.db, account.service_id, alertId);
  return row ? toAlertView(row) : undefined;
}
