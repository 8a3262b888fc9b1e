// Alerts reach people: email to the service's administrators through a real SMTP server (with
// retries when it refuses), a security_alert webhook to endpoints that subscribe to it, and
// the console's list with acknowledge. Runs on a database of its own on PostgreSQL, since the
// email worker claims every due email in the database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp.js';
import { alertsOf } from './support.js';
import { enrolledUser } from '../console/helpers.js';
import { alertEmailWorker } from '../../src/alerts/alert.worker.js';
import { acknowledgeAlert, raiseAlert } from '../../src/alerts/alert.service.js';
import { parseDetectorOverrides } from '../../src/alerts/alert.settings.js';
import { revokeKey } from '../../src/keys/key.service.js';
import { loadConfig } from '../../src/main/config.js';
import { cancelPayment, newPayment, newWebhookTenant, runWebhookWorkers, startReceiver, verifyWithStandardWebhooks, type Receiver } from '../webhooks/support.js';

let coffer: TestCoffer;
let smtp: SmtpPeer;
let receiver: Receiver;
before(async () => {
  coffer = await startIsolatedCoffer();
  smtp = await startSmtpPeer();
  receiver = await startReceiver();
  coffer.ctx.mail = smtp.settings('Coffer alerts <alerts@example.org>');
});
after(async () => {
  await coffer.close();
  await smtp.close();
  await receiver.close();
});

async function runEmailWorker(): Promise<number> {
  let handled = 0;
  for (;;) {
    const run = await alertEmailWorker.run(coffer.ctx);
    handled += run.handled;
    if (!run.more) return handled;
  }
}

/** Uses a revoked key three times: one alert (key_revoked_use) with a count of three. */
async function revokedKeyAlert(serviceId: string) {
  const key = await coffer.newKey(serviceId);
  await revokeKey(coffer.ctx, key.id, { by: 'test' });
  for (let i = 0; i < 3; i++) assert.equal((await coffer.request('GET', '/v1/account', { key: key.token })).status, 401);
  const [alert] = await alertsOf(coffer, serviceId, 'key_revoked_use');
  assert.ok(alert);
  return alert;
}

describe('email', () => {
  test('one email per alert reaches the SMTP server, addressed to the service\'s administrators only', async () => {
    const admin = await enrolledUser(coffer);
    const secondAdmin = await enrolledUser(coffer, { serviceId: admin.serviceId });
    const viewer = await enrolledUser(coffer, { serviceId: admin.serviceId, role: 'view-only' });
    const before = smtp.received.length;
    const alert = await revokedKeyAlert(admin.serviceId);
    await runEmailWorker();
    const mails = smtp.received.slice(before);
    assert.equal(mails.length, 1, 'three uses, one alert, one email');
    const mail = mails[0]!;
    assert.deepEqual([...mail.to].sort(), [admin.email, secondAdmin.email].sort());
    assert.ok(!mail.to.includes(viewer.email));
    assert.equal(mail.from, 'alerts@example.org');
    assert.match(mail.subject, /Security alert/);
    assert.match(mail.raw, /key_revoked_use/);
    assert.ok(mail.raw.includes(alert.summary.slice(0, 30)));
    assert.ok(mail.raw.replace(/=\r?\n/g, '').includes(`${coffer.ctx.baseUrl}/console/services/${admin.serviceId}/test/alerts`), 'links to the alerts page');
    const rows = await coffer.ctx.db.selectFrom('security_alert_emails').selectAll().where('alert_id', '=', alert.id).execute();
    assert.equal(rows[0]?.status, 'sent');
    await runEmailWorker();
    assert.equal(smtp.received.length, before + 1, 'sent once, not again');
  });

  test('a refusal by the SMTP server is retried on the schedule until it is accepted', async () => {
    const admin = await enrolledUser(coffer);
    const before = smtp.received.length;
    smtp.refuseNext(2);
    const alert = await revokedKeyAlert(admin.serviceId);
    await runEmailWorker();
    let row = await coffer.ctx.db.selectFrom('security_alert_emails').selectAll().where('alert_id', '=', alert.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 1);
    assert.match(row.last_error ?? '', /451|try again/);
    assert.equal(row.next_attempt_at.getTime(), coffer.clock.now().getTime() + 60_000);
    await runEmailWorker();
    assert.equal((await coffer.ctx.db.selectFrom('security_alert_emails').select('attempts').where('id', '=', row.id).executeTakeFirstOrThrow()).attempts, 1, 'not due yet');
    coffer.clock.advance(60_000);
    await runEmailWorker();
    coffer.clock.advance(5 * 60_000);
    await runEmailWorker();
    row = await coffer.ctx.db.selectFrom('security_alert_emails').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'sent');
    assert.equal(row.attempts, 3);
    assert.equal(smtp.received.length, before + 1);
    assert.deepEqual(smtp.received.at(-1)?.to, [admin.email]);
  });

  test('without SMTP configured, or without administrators, the email is set aside and the alert stays in the console', async () => {
    const serviceId = await coffer.newService();
    const alone = await revokedKeyAlert(serviceId);
    await runEmailWorker();
    assert.equal((await coffer.ctx.db.selectFrom('security_alert_emails').select('status').where('alert_id', '=', alone.id).executeTakeFirstOrThrow()).status, 'no_recipients');

    const admin = await enrolledUser(coffer);
    const saved = coffer.ctx.mail;
    coffer.ctx.mail = undefined;
    try {
      const alert = await revokedKeyAlert(admin.serviceId);
      await runEmailWorker();
      assert.equal((await coffer.ctx.db.selectFrom('security_alert_emails').select('status').where('alert_id', '=', alert.id).executeTakeFirstOrThrow()).status, 'not_configured');
      assert.equal((await alertsOf(coffer, admin.serviceId)).length, 1);
    } finally {
      coffer.ctx.mail = saved;
    }
  });

  test('a repeat of an open alert after its quiet window tells the administrators again; within it, only the count grows', async () => {
    const admin = await enrolledUser(coffer);
    const before = smtp.received.length;
    const raise = () => raiseAlert(coffer.ctx.db, coffer.ctx, { serviceId: admin.serviceId, detector: 'key_new_network', subject: 'key:key_example', summary: 'Example' });
    assert.deepEqual({ ...(await raise()), id: '' }, { id: '', created: true, notified: true });
    assert.deepEqual({ ...(await raise()), id: '' }, { id: '', created: false, notified: false });
    coffer.clock.advance(24 * 3_600_000);
    assert.deepEqual({ ...(await raise()), id: '' }, { id: '', created: false, notified: true });
    await runEmailWorker();
    assert.equal(smtp.received.length, before + 2);
    const [alert] = await alertsOf(coffer, admin.serviceId);
    assert.equal(alert?.occurrences, 3);
  });
});

describe('many raisers at once', () => {
  test('concurrent occurrences of one alert converge on one open alert with their count and one email', async () => {
    const serviceId = await coffer.newService();
    const raise = () => raiseAlert(coffer.ctx.db, coffer.ctx, { serviceId, detector: 'rate_limit_breaches', subject: 'account:acct_example', summary: 'Flood' });
    const raised = await Promise.all(Array.from({ length: 12 }, raise));
    assert.equal(new Set(raised.map((r) => r?.id)).size, 1);
    assert.equal(raised.filter((r) => r?.notified).length, 1);
    const [alert] = await alertsOf(coffer, serviceId);
    assert.equal(alert?.occurrences, 12);
    const emails = await coffer.ctx.db.selectFrom('security_alert_emails').select('id').where('alert_id', '=', alert!.id).execute();
    assert.equal(emails.length, 1);
  });
});

describe('webhook', () => {
  test('an endpoint subscribed to security_alert receives the alert, signed; one without the type does not', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url, { subscriptions: ['security_alert'] });
    const other = await newWebhookTenant(coffer, receiver.url);
    const before = receiver.requests.length;
    const alert = await revokedKeyAlert(tenant.serviceId);
    await revokedKeyAlert(other.serviceId);
    await runWebhookWorkers(coffer);
    const received = receiver.requests.slice(before);
    assert.equal(received.length, 1, 'only the subscribed endpoint');
    const body = JSON.parse(received[0]!.body) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserting a JSON shape
    assert.equal(body.event_type, 'security_alert');
    assert.equal(body.resource_type, 'security_alert');
    assert.equal(body.resource_id, alert.id);
    assert.equal(body.resource.detector, 'key_revoked_use');
    assert.equal(body.resource.status, 'open');
    assert.equal(body.resource.occurrences, 3, 'the alert as it stood when the webhook was made');
    verifyWithStandardWebhooks(tenant.secret, received[0]!, coffer.clock.now());
  });
});

describe('webhook endpoint disabled', () => {
  test('410 Gone: the disabled endpoint raises an alert (the console notice); while healthy it raised none', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    receiver.replies = [{ status: 200 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'ok'));
    await runWebhookWorkers(coffer);
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId, 'webhook_endpoint_disabled'), []);
    receiver.replies = [{ status: 410 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'gone'));
    await runWebhookWorkers(coffer);
    receiver.replies = [{ status: 200 }];
    const alerts = await alertsOf(coffer, tenant.serviceId, 'webhook_endpoint_disabled');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.status, 'open');
    assert.equal(alerts[0]?.severity, 'critical');
    assert.match(alerts[0]!.summary, /410 Gone/);
  });

  test('five days without a success: disabled, alerted, and the administrators emailed', async () => {
    const admin = await enrolledUser(coffer);
    const key = await coffer.newKey(admin.serviceId, { scopes: ['payments:write', 'webhooks:write'] });
    const created = await coffer.request('POST', '/v1/webhooks', { key: key.token, body: { callback_url: receiver.url } });
    assert.equal(created.status, 201, created.text);
    receiver.replies = [{ status: 500 }];
    try {
      for (let day = 0; day <= 5; day++) {
        if (day > 0) coffer.clock.advance(86_400_000);
        await cancelPayment(coffer, key.token, await newPayment(coffer, key.token, `day-${day}`));
        await runWebhookWorkers(coffer);
        assert.equal((await alertsOf(coffer, admin.serviceId, 'webhook_endpoint_disabled')).length, day < 5 ? 0 : 1, `day ${day}`);
      }
    } finally {
      receiver.replies = [{ status: 200 }];
    }
    const [alert] = await alertsOf(coffer, admin.serviceId, 'webhook_endpoint_disabled');
    assert.match(alert!.summary, /No successful delivery for 5 days/);
    const before = smtp.received.length;
    await runEmailWorker();
    assert.ok(smtp.received.slice(before).some((m) => m.to.includes(admin.email) && /was disabled/.test(m.subject)));
  });
});

describe('acknowledging', () => {
  test('closes the alert with an audit entry; the next occurrence opens a new alert; another service cannot', async () => {
    const admin = await enrolledUser(coffer);
    const other = await enrolledUser(coffer);
    const alert = await revokedKeyAlert(admin.serviceId);
    assert.equal(await acknowledgeAlert(coffer.ctx, { serviceId: other.serviceId, alertId: alert.id, userId: other.userId }), 'not_found');
    assert.equal(await acknowledgeAlert(coffer.ctx, { serviceId: admin.serviceId, alertId: alert.id, userId: admin.userId }), 'acknowledged');
    assert.equal(await acknowledgeAlert(coffer.ctx, { serviceId: admin.serviceId, alertId: alert.id, userId: admin.userId }), 'already_acknowledged');
    const [acknowledged] = await alertsOf(coffer, admin.serviceId);
    assert.equal(acknowledged?.status, 'acknowledged');
    assert.equal(acknowledged?.acknowledged_by, admin.userId);
    const audit = await coffer.ctx.db.selectFrom('audit_log').select(['actor_id']).where('action', '=', 'alert.acknowledge').where('object_id', '=', alert.id).execute();
    assert.deepEqual(audit.map((a) => a.actor_id), [admin.userId]);

    await raiseAlert(coffer.ctx.db, coffer.ctx, { serviceId: admin.serviceId, detector: 'key_revoked_use', subject: alert.subject, summary: 'again' });
    const all = await alertsOf(coffer, admin.serviceId);
    assert.equal(all.length, 2);
    assert.equal(all.filter((a) => a.status === 'open').length, 1);
  });
});

describe('configuration', () => {
  test('COFFER_ALERT_THRESHOLDS overrides named detectors and names every mistake', () => {
    assert.deepEqual(parseDetectorOverrides('signin_failures_user=3/10m, rate_limit_breaches=50/1h'), {
      detectors: { signin_failures_user: { threshold: 3, windowMs: 600_000 }, rate_limit_breaches: { threshold: 50, windowMs: 3_600_000 } },
      problems: [],
    });
    const bad = parseDetectorOverrides('nonsense=1/1m,signin_failures_ip=0/5m,key_leaked=1/5s');
    assert.equal(bad.problems.length, 3);
    const config = loadConfig({ COFFER_ALERT_THRESHOLDS: 'signin_failures_user=abc', COFFER_SMTP_URL: 'http://mail.example.org' });
    assert.equal(config.ok, false);
    assert.ok(!config.ok && config.problems.some((p) => p.startsWith('COFFER_ALERT_THRESHOLDS:')));
    assert.ok(!config.ok && config.problems.some((p) => p.startsWith('COFFER_SMTP_URL:')));
    const good = loadConfig({ COFFER_SMTP_URL: 'smtp://mail.example.org:587', COFFER_MAIL_FROM: 'Coffer <c@example.org>', COFFER_ALERT_THRESHOLDS: 'key_new_network=1/7d' });
    assert.ok(good.ok);
    assert.deepEqual(good.ok && good.config.mail, { smtpUrl: 'smtp://mail.example.org:587', from: 'Coffer <c@example.org>' });
    assert.deepEqual(good.ok && good.config.alerts.detectors.key_new_network, { threshold: 1, windowMs: 7 * 86_400_000 });
  });
});
