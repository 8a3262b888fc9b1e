// SQL for alerts: the open alert per (service, detector, subject) that repeats add to, the email
// outbox (claimed FOR UPDATE SKIP LOCKED), and the detectors' fixed-window counters.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { AlertEmailStatus, AlertSeverity, SecurityAlertEmailRow, SecurityAlertRow } from './alert.tables.js';

type Db = Kysely<Database>;

export interface AlertOccurrence {
  id: string;
  serviceId: string;
  accountId: string | null;
  detector: string;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  details: Record<string, unknown>;
  occurrences: number;
  at: Date;
}

/**
 * Adds to the open alert for (service, detector, subject), telling again only when the last
 * notice is older than `renotifyBefore`; undefined when there is no open alert. The CTE reads
 * the previous notice time under the row lock, so two raisers cannot both decide to notify.
 */
export async function addToOpenAlert(db: Db, o: AlertOccurrence, renotifyBefore: Date): Promise<{ id: string; notify: boolean } | undefined> {
  const result = await sql<{ id: string; notify: boolean }>`
    with previous as (
      select id, last_notified_at from security_alerts
      where service_id = ${o.serviceId} and detector = ${o.detector} and subject = ${o.subject} and acknowledged_at is null
      for update
    )
    update security_alerts a set
      occurrences = a.occurrences + ${o.occurrences},
      last_seen_at = greatest(a.last_seen_at, ${o.at}),
      summary = ${o.summary},
      details = ${JSON.stringify(o.details)}::jsonb,
      last_notified_at = case when previous.last_notified_at <= ${renotifyBefore} then ${o.at} else a.last_notified_at end
    from previous
    where a.id = previous.id
    returning a.id, previous.last_notified_at <= ${renotifyBefore} as notify`.execute(db);
  const row = result.rows[0];
  return row ? { id: row.id, notify: row.notify } : undefined;
}

/** Opens a new alert; false when another raiser opened one for the same subject first. */
export async function insertOpenAlert(db: Db, o: AlertOccurrence): Promise<boolean> {
  const result = await db
    .insertInto('security_alerts')
    .values({
      id: o.id,
      service_id: o.serviceId,
      account_id: o.accountId,
      detector: o.detector,
      subject: o.subject,
      severity: o.severity,
      summary: o.summary,
      details: JSON.stringify(o.details),
      occurrences: o.occurrences,
      first_seen_at: o.at,
      last_seen_at: o.at,
      last_notified_at: o.at,
    })
    .onConflict((oc) => oc.columns(['service_id', 'detector', 'subject']).where('acknowledged_at', 'is', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return result !== undefined;
}

export async function findAlert(db: Db, serviceId: string, id: string): Promise<SecurityAlertRow | undefined> {
  return db.selectFrom('security_alerts').selectAll().where('service_id', '=', serviceId).where('id', '=', id).executeTakeFirst();
}

/** With `accountId`, that account's alerts and the service-wide ones (no account). */
export async function listAlerts(db: Db, serviceId: string, filter: { status?: 'open' | 'acknowledged'; accountId?: string; limit: number }): Promise<SecurityAlertRow[]> {
  let query = db.selectFrom('security_alerts').selectAll().where('service_id', '=', serviceId);
  const accountId = filter.accountId;
  if (accountId !== undefined) query = query.where((eb) => eb.or([eb('account_id', '=', accountId), eb('account_id', 'is', null)]));
  if (filter.status === 'open') query = query.where('acknowledged_at', 'is', null);
  if (filter.status === 'acknowledged') query = query.where('acknowledged_at', 'is not', null);
  return query.orderBy('last_seen_at', 'desc').orderBy('id').limit(filter.limit).execute();
}

export async function countOpenAlerts(db: Db, serviceId: string): Promise<number> {
  const row = await db
    .selectFrom('security_alerts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('service_id', '=', serviceId)
    .where('acknowledged_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Compare-and-set: false when the alert was already acknowledged (or is not this service's). */
export async function markAcknowledged(db: Db, serviceId: string, id: string, by: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('security_alerts')
    .set({ acknowledged_at: at, acknowledged_by: by })
    .where('service_id', '=', serviceId)
    .where('id', '=', id)
    .where('acknowledged_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The live account if the service has one, else its test account: where a service-wide alert's webhook goes. */
export async function primaryAccountOf(db: Db, serviceId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select('id')
    .where('service_id', '=', serviceId)
    .orderBy(sql`case when mode = 'live' then 0 else 1 end`)
    .executeTakeFirst();
  return row?.id;
}

export async function serviceName(db: Db, serviceId: string): Promise<string | undefined> {
  return (await db.selectFrom('services').select('name').where('id', '=', serviceId).executeTakeFirst())?.name;
}

/** Email addresses of the service's active administrators. */
export async function administratorEmails(db: Db, serviceId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('console_memberships')
    .innerJoin('console_users', 'console_users.id', 'console_memberships.user_id')
    .select('console_users.email')
    .where('console_memberships.service_id', '=', serviceId)
    .where('console_memberships.role', '=', 'administrator')
    .where('console_users.status', '=', 'active')
    .orderBy('console_users.email')
    .execute();
  return rows.map((r) => r.email);
}

/** The services a console user belongs to (sign-in alerts go to each). */
export async function servicesOfUser(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('console_memberships').select('service_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.service_id);
}

// ---- email outbox

export async function insertEmail(db: Db, row: { id: string; alertId: string; serviceId: string; at: Date }): Promise<void> {
  await db
    .insertInto('security_alert_emails')
    .values({ id: row.id, alert_id: row.alertId, service_id: row.serviceId, status: 'pending', next_attempt_at: row.at, created_at: row.at })
    .execute();
}

/** Claims due emails until `leaseUntil`: one node each, and a crashed node's claim lapses. */
export async function claimDueEmails(db: Db, now: Date, leaseUntil: Date, limit: number): Promise<SecurityAlertEmailRow[]> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('security_alert_emails')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    return trx
      .updateTable('security_alert_emails')
      .set((eb) => ({ claimed_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
      .where(
        'id',
        'in',
        due.map((d) => d.id),
      )
      .returningAll()
      .execute();
  });
}

/** Records an attempt's result; false when the claim lapsed and another node took the email. */
export async function settleEmail(
  db: Db,
  id: string,
  claimedUntil: Date,
  result: { status: AlertEmailStatus; at: Date; recipients?: string[]; error?: string | null; nextAttemptAt?: Date },
): Promise<boolean> {
  const updated = await db
    .updateTable('security_alert_emails')
    .set({
      status: result.status,
      claimed_until: null,
      last_error: result.error ?? null,
      ...(result.recipients ? { recipients: result.recipients } : {}),
      ...(result.status === 'sent' ? { sent_at: result.at } : {}),
      ...(result.nextAttemptAt ? { next_attempt_at: result.nextAttemptAt } : {}),
    })
    .where('id', '=', id)
    .where('claimed_until', '=', claimedUntil)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

export async function listEmailsOfAlert(db: Db, alertId: string): Promise<SecurityAlertEmailRow[]> {
  return db.selectFrom('security_alert_emails').selectAll().where('alert_id', '=', alertId).orderBy('created_at').execute();
}

// ---- detector counters

/** Adds `by` to a window's counter and returns the new count (atomic across nodes). */
export async function bumpCounter(db: Db, detector: string, subject: string, windowStart: Date, by = 1): Promise<number> {
  const row = await db
    .insertInto('alert_counters')
    .values({ detector, subject, window_start: windowStart, count: by })
    .onConflict((oc) => oc.columns(['detector', 'subject', 'window_start']).doUpdateSet((eb) => ({ count: eb('alert_counters.count', '+', by) })))
    .returning('count')
    .executeTakeFirstOrThrow();
  return row.count;
}

/** Remembers a value in a window; true the first time it is seen there. */
export async function addDistinctValue(db: Db, detector: string, subject: string, windowStart: Date, value: string): Promise<boolean> {
  const result = await db
    .insertInto('alert_distinct_values')
    .values({ detector, subject, window_start: windowStart, value })
    .onConflict((oc) => oc.doNothing())
    .returning('value')
    .executeTakeFirst();
  return result !== undefined;
}

export async function deleteCountersBefore(db: Db, before: Date): Promise<number> {
  const counters = await db.deleteFrom('alert_counters').where('window_start', '<', before).executeTakeFirst();
  const values = await db.deleteFrom('alert_distinct_values').where('window_start', '<', before).executeTakeFirst();
  return Number(counters.numDeletedRows) + Number(values.numDeletedRows);
}

/** Remembers a network a key was used from; returns whether it is new and how many it now has. */
export async function rememberKeyNetwork(db: Db, keyId: string, network: string, at: Date): Promise<{ isNew: boolean; known: number }> {
  const inserted = await db
    .insertInto('alert_key_networks')
    .values({ key_id: keyId, network, first_seen_at: at })
    .onConflict((oc) => oc.doNothing())
    .returning('network')
    .executeTakeFirst();
  const isNew = inserted !== undefined;
  if (!isNew) return { isNew, known: 0 };
  const row = await db
    .selectFrom('alert_key_networks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key_id', '=', keyId)
    .executeTakeFirstOrThrow();
  return { isNew, known: Number(row.n) };
}

export async function rememberKeyCountry(db: Db, keyId: string, country: string, at: Date): Promise<{ isNew: boolean; known: number }> {
  const inserted = await db
    .insertInto('alert_key_countries')
    .values({ key_id: keyId, country, first_seen_at: at })
    .onConflict((oc) => oc.doNothing())
    .returning('country')
    .executeTakeFirst();
  if (inserted === undefined) return { isNew: false, known: 0 };
  const row = await db
    .selectFrom('alert_key_countries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key_id', '=', keyId)
    .executeTakeFirstOrThrow();
  return { isNew: true, known: Number(row.n) };
}

// ---- refunds, for the spike detector

export async function refundTotals(db: Db, accountId: string, from: Date, to: Date): Promise<{ count: number; amount: number }> {
  const row = await db
    .selectFrom('refunds')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.coalesce(eb.fn.sum<number>('amount'), sql<number>`0`).as('amount')])
    .where('account_id', '=', accountId)
    .where('created_at', '>', from)
    .where('created_at', '<=', to)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), amount: Number(row.amount) };
}

/** Services whose console users failed to sign in from this address since `since`. */
export async function servicesTargetedFromIp(db: Db, ip: string, since: Date): Promise<string[]> {
  const rows = await db
    .selectFrom('console_auth_failures')
    .innerJoin('console_memberships', 'console_memberships.user_id', 'console_auth_failures.user_id')
    .select('console_memberships.service_id')
    .distinct()
    .where('console_auth_failures.ip', '=', ip)
    .where('console_auth_failures.at', '>', since)
    .execute();
  return rows.map((r) => r.service_id);
}

export async function accountOwner(db: Db, accountId: string): Promise<{ service_id: string; mode: string } | undefined> {
  return db.selectFrom('accounts').select(['service_id', 'mode']).where('id', '=', accountId).executeTakeFirst();
}
