// The console's alerts page in a real browser: an administrator sees the account's open alerts
// (a disabled webhook endpoint among them: the console notice), acknowledges one with the form
// (recorded in the audit log), filters by status; a view-only member is refused the page; a
// member of another service gets 404; the alerts also reached the SMTP server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser } from '../support/browser.js';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp.js';
import { raiseAlert } from '../../src/alerts/alert.service.js';
import { alertEmailWorker } from '../../src/alerts/alert.worker.js';
import { revokeKey } from '../../src/keys/key.service.js';
import { findAccountByServiceAndMode } from '../../src/services/service.repo.js';
import { signedInBrowser, type SignedInBrowser } from './browser-session.js';

let coffer: TestCoffer;
let browser: Browser;
let smtp: SmtpPeer;
let admin: SignedInBrowser;

before(async () => {
  // A database of its own on PostgreSQL: the email worker claims every due email in it.
  coffer = await startIsolatedCoffer();
  smtp = await startSmtpPeer();
  coffer.ctx.mail = smtp.settings();
  browser = await launchBrowser();
  admin = await signedInBrowser(browser, coffer, { role: 'administrator' });
});
after(async () => {
  await admin?.context.close();
  await browser?.close();
  await coffer?.close();
  await smtp?.close();
});

const rows = () => admin.page.locator('#alerts tbody tr');

test('open alerts show with their count; acknowledging one is recorded and moves it to acknowledged', async () => {
  const serviceId = admin.user.serviceId;
  const account = await findAccountByServiceAndMode(coffer.ctx.db, serviceId, 'test');
  assert.ok(account);
  const key = await coffer.newKey(serviceId);
  await revokeKey(coffer.ctx, key.id, { by: 'test' });
  for (let i = 0; i < 4; i++) assert.equal((await coffer.request('GET', '/v1/account', { key: key.token })).status, 401);
  await raiseAlert(coffer.ctx.db, coffer.ctx, {
    serviceId,
    accountId: account.id,
    detector: 'webhook_endpoint_disabled',
    subject: 'webhook:whe_example',
    severity: 'critical',
    summary: 'Webhook endpoint https://hooks.example.org/coffer was disabled: No successful delivery for 5 days',
  });

  const response = await admin.page.goto(`${admin.base()}/alerts`);
  assert.equal(response?.status(), 200);
  assert.equal(await admin.page.locator('h1').innerText(), 'Security alerts');
  assert.equal(await rows().count(), 2);
  const revoked = admin.page.locator('tr[data-detector="key_revoked_use"]');
  assert.equal(await revoked.locator('.alert-count').innerText(), '4');
  assert.match(await admin.page.locator('tr[data-detector="webhook_endpoint_disabled"] .alert-summary').innerText(), /was disabled/);
  assert.deepEqual(await axe(admin.page), []);

  await revoked.getByRole('button', { name: /Acknowledge/ }).click();
  await admin.page.waitForURL(/\/alerts\?acknowledged=/);
  assert.match(await admin.page.locator('#alert-acknowledged').innerText(), /acknowledged/);
  assert.equal(await rows().count(), 1, 'only the disabled endpoint is still open');
  const audit = await coffer.ctx.db.selectFrom('audit_log').select(['actor_id', 'actor_type']).where('action', '=', 'alert.acknowledge').where('service_id', '=', serviceId).execute();
  assert.deepEqual(audit, [{ actor_id: admin.user.userId, actor_type: 'user' }]);

  await admin.page.locator('#alert-filters a', { hasText: 'Acknowledged' }).click();
  assert.equal(await rows().count(), 1);
  assert.match(await rows().first().innerText(), /acknowledged/);
  assert.equal(await admin.page.getByRole('button', { name: /Acknowledge/ }).count(), 0);

  // Both alerts reached the SMTP server, addressed to the administrator.
  while ((await alertEmailWorker.run(coffer.ctx)).more);
  const mails = smtp.received.filter((m) => m.to.includes(admin.user.email));
  assert.equal(mails.length, 2);
});

test('a view-only member, who holds no alerts:view, is refused the page itself', async () => {
  const viewer = await signedInBrowser(browser, coffer, { role: 'view-only', serviceId: admin.user.serviceId });
  try {
    const response = await viewer.page.goto(`${viewer.base()}/alerts`);
    // view-only holds no alerts:view: the page itself is refused, not just the button hidden.
    assert.equal(response?.status(), 403);
  } finally {
    await viewer.context.close();
  }
});

test('a member of another service gets 404 for this service\'s alerts', async () => {
  const stranger = await signedInBrowser(browser, coffer, { role: 'administrator' });
  try {
    const response = await stranger.page.goto(`${admin.base()}/alerts`);
    assert.equal(response?.status(), 404);
  } finally {
    await stranger.context.close();
  }
});
