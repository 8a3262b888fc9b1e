// Delivers alert emails at least once: a due outbox row is claimed (FOR UPDATE SKIP LOCKED,
// with a lease so a crashed node's claim lapses), sent with no transaction open, then settled
// by compare-and-set on the claim. A refusal is retried on a schedule, then given up and kept
// as `failed` (the alert itself stays in the console). Also sweeps the detectors' old counters.
import type { AppContext } from '../platform/context.js';
import type { Worker } from '../platform/worker.js';
import { mailConfigured, sendMail } from '../notifications/mailer.js';
import * as repo from './alert.repo.js';
import type { SecurityAlertEmailRow } from './alert.tables.js';

const BATCH = 10;
const LEASE_MS = 2 * 60_000;
/** Waits after the 1st, 2nd, … failed attempt; after the last, the email is given up. */
export const EMAIL_RETRY_SCHEDULE_MS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 4 * 3_600_000, 12 * 3_600_000] as const;
/** Counters older than the longest window a detector may have (30 days) are of no further use. */
const COUNTER_RETENTION_MS = 31 * 86_400_000;

export const alertEmailWorker: Worker = {
  name: 'alert-email',
  intervalMs: 5000,
  async run(ctx) {
    const now = ctx.clock.now();
    const claimed = await repo.claimDueEmails(ctx.db, now, new Date(now.getTime() + LEASE_MS), BATCH);
    for (const email of claimed) await deliver(ctx, email);
    const swept = claimed.length < BATCH ? await repo.deleteCountersBefore(ctx.db, new Date(now.getTime() - COUNTER_RETENTION_MS)) : 0;
    return { handled: claimed.length + swept, more: claimed.length === BATCH };
  },
};

async function deliver(ctx: AppContext, email: SecurityAlertEmailRow): Promise<void> {
  const claim = email.claimed_until as Date;
  const at = ctx.clock.now();
  if (!mailConfigured(ctx)) {
    ctx.log.warn({ alertId: email.alert_id }, 'alert email not sent: COFFER_SMTP_URL is not set');
    await repo.settleEmail(ctx.db, email.id, claim, { status: 'not_configured', at });
    return;
  }
  const alert = await repo.findAlert(ctx.db, email.service_id, email.alert_id);
  const recipients = await repo.administratorEmails(ctx.db, email.service_id);
  if (!alert || recipients.length === 0) {
    ctx.log.warn({ alertId: email.alert_id, serviceId: email.service_id }, 'alert email not sent: the service has no active administrator');
    await repo.settleEmail(ctx.db, email.id, claim, { status: 'no_recipients', at });
    return;
  }
  const service = (await repo.serviceName(ctx.db, email.service_id)) ?? email.service_id;
  // The alert's own account page; a service-wide alert shows on either, the live one first.
  const accountId = alert.account_id ?? (await repo.primaryAccountOf(ctx.db, email.service_id));
  const mode = accountId ? ((await repo.accountOwner(ctx.db, accountId))?.mode ?? 'test') : 'test';
  const link = `${ctx.baseUrl}/console/services/${encodeURIComponent(email.service_id)}/${mode}/alerts`;
  const outcome = await sendMail(ctx, {
    to: recipients,
    subject: `[Coffer] Security alert for ${service}: ${alert.summary}`.slice(0, 200),
    text: [
      `Coffer raised a security alert for the service "${service}".`,
      '',
      alert.summary,
      '',
      `Detector: ${alert.detector}`,
      `Subject: ${alert.subject}`,
      `Occurrences so far: ${alert.occurrences}`,
      `First seen: ${alert.first_seen_at.toISOString()}`,
      `Last seen: ${alert.last_seen_at.toISOString()}`,
      '',
      `Review and acknowledge it in the console: ${link}`,
      '',
      'You receive this because you administer this service in Coffer.',
    ].join('\n'),
  });
  const done = ctx.clock.now();
  if (outcome.sent) {
    await repo.settleEmail(ctx.db, email.id, claim, { status: 'sent', at: done, recipients });
    return;
  }
  const error = outcome.reason === 'failed' ? outcome.error : outcome.reason;
  const wait = EMAIL_RETRY_SCHEDULE_MS[email.attempts - 1];
  await repo.settleEmail(
    ctx.db,
    email.id,
    claim,
    wait === undefined ? { status: 'failed', at: done, error } : { status: 'pending', at: done, error, nextAttemptAt: new Date(done.getTime() + wait) },
  );
  if (wait === undefined) ctx.log.error({ alertId: email.alert_id, attempts: email.attempts }, 'alert email given up');
}
