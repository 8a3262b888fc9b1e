// The console's audit log page in a real browser: an administrator searches by action, actor,
// object and time, pages through, exports the same search as JSON lines; each reading is itself
// recorded; a role without the permission is refused; axe on the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser } from '../support/browser.js';
import { runOperation } from '../../src/main/operations.js';
import { recordAudit } from '../../src/audit/audit.service.js';
import { findAccountByServiceAndMode } from '../../src/services/service.repo.js';
import { auditRows } from '../audit/audit-support.js';
import { sessionCookie, signedInBrowser, type SignedInBrowser } from './browser-session.js';
import { enrolledUser } from './helpers.js';

let coffer: TestCoffer;
let browser: Browser;
let admin: SignedInBrowser;
let key: { token: string; id: string };
const paymentIds: string[] = [];

before(async () => {
  coffer = await startCoffer();
  browser = await launchBrowser();
  admin = await signedInBrowser(browser, coffer, { role: 'administrator' });
  key = await coffer.newKey(admin.user.serviceId, { scopes: ['payments:write'] });
  for (const reference of ['A-1', 'A-2', 'A-3']) {
    const created = await coffer.request('POST', '/v1/payments', {
      key: key.token,
      body: { amount: 1000, reference, description: 'Permit', return_url: 'https://service.example.org/return' },
    });
    assert.equal(created.status, 201, created.text);
    paymentIds.push(created.body.payment_id);
  }
  coffer.clock.advance(60_000);
  await runOperation(coffer.ctx, 'key.revoke', { keyId: key.id, reason: 'audit page test' }, 'operator:olga');
});
after(async () => {
  await admin?.context.close();
  await browser?.close();
  await coffer?.close();
});

const rowActions = (admin: SignedInBrowser) => admin.page.locator('#audit-entries tbody tr td:nth-child(3)').allInnerTexts();

test('the log shows the account’s entries newest first, and reading it is recorded', async () => {
  const response = await admin.page.goto(`${admin.base()}/audit`);
  assert.equal(response?.status(), 200);
  assert.equal(await admin.page.locator('h1').innerText(), 'Audit log');
  const actions = await rowActions(admin);
  assert.ok(actions.includes('payment.create'));
  assert.ok(actions.indexOf('key.revoke') < actions.indexOf('payment.create'), 'newest first');
  assert.deepEqual(await axe(admin.page), []);
  const reads = await auditRows(coffer.ctx, { action: 'audit.read', actor_id: admin.user.userId });
  assert.equal(reads.length, 1);
  assert.equal(reads[0]!.service_id, admin.user.serviceId);
  assert.equal(reads[0]!.actor_type, 'user');
  assert.equal(reads[0]!.ip, '127.0.0.1');
});

test('search by action (with a wildcard), actor, object and time', async () => {
  const page = admin.page;
  await page.goto(`${admin.base()}/audit`);
  await page.fill('#action', 'payment.*');
  await page.click('button[type=submit]');
  assert.match(page.url(), /action=payment\.\*/);
  const actions = await rowActions(admin);
  assert.deepEqual([...new Set(actions)], ['payment.create']);
  assert.equal(actions.length, 3);

  await page.goto(`${admin.base()}/audit?actor=operator:olga`);
  assert.deepEqual(await rowActions(admin), ['key.revoke']);

  await page.goto(`${admin.base()}/audit?object_type=payment&object_id=${paymentIds[1]}`);
  assert.deepEqual(await rowActions(admin), ['payment.create']);

  // A user is found by email, as people know each other.
  await page.goto(`${admin.base()}/audit?actor=${encodeURIComponent(admin.user.email)}&action=audit.read`);
  assert.ok((await rowActions(admin)).every((a) => a === 'audit.read'));
  assert.ok((await rowActions(admin)).length >= 1);

  // The payments were made at 12:00, the revocation a minute later.
  await page.goto(`${admin.base()}/audit?from=2026-11-25T12:00:30&action=key.revoke`);
  assert.deepEqual(await rowActions(admin), ['key.revoke']);
  await page.goto(`${admin.base()}/audit?to=2026-11-25T12:00:30&action=key.revoke`);
  assert.equal(await page.locator('#audit-none').innerText(), 'No entries match this search.');
});

test('a mistyped time is shown back with a message, not an error page', async () => {
  const response = await admin.page.goto(`${admin.base()}/audit?from=yesterday`);
  assert.equal(response?.status(), 400);
  assert.match(await admin.page.locator('.error-summary').innerText(), /Enter a date like 2026-11-25/);
  assert.equal(await admin.page.inputValue('#from'), 'yesterday');
  assert.deepEqual(await axe(admin.page), []);
});

test('pages of 50, newest first, with a link to older entries', async () => {
  const account = await findAccountByServiceAndMode(coffer.ctx.db, admin.user.serviceId, 'test');
  for (let i = 0; i < 55; i++) {
    await recordAudit(coffer.ctx.db, { action: 'test.paging', object: { type: 'thing', id: `t${i}` }, serviceId: admin.user.serviceId, accountId: account!.id, at: coffer.clock.now() });
  }
  await admin.page.goto(`${admin.base()}/audit?action=test.paging`);
  const objects = () => admin.page.locator('#audit-entries tbody tr td:nth-child(4)').allInnerTexts();
  const first = await objects();
  assert.equal(first.length, 50);
  assert.equal(first[0], 'thing t54');
  await admin.page.click('#audit-next');
  assert.match(admin.page.url(), /action=test\.paging&cursor=c\d+/);
  assert.deepEqual(await objects(), ['thing t4', 'thing t3', 'thing t2', 'thing t1', 'thing t0']);
  assert.equal(await admin.page.locator('#audit-next').count(), 0);
});

test('export: the same search as JSON lines, recorded as audit.export', async () => {
  const response = await fetch(`${admin.base()}/audit/export?action=payment.*`, { headers: { cookie: sessionCookie(admin.user) } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/x-ndjson/);
  assert.match(response.headers.get('content-disposition') ?? '', /^attachment; filename="audit-.+-test-2026-11-25\.jsonl"$/);
  const lines = (await response.text()).trimEnd().split('\n');
  const entries = lines.map((line) => JSON.parse(line) as { action: string; object: { id: string }; actor: { id: string } });
  assert.deepEqual(entries.map((e) => e.object.id).sort(), [...paymentIds].sort());
  assert.ok(entries.every((e) => e.action === 'payment.create' && e.actor.id === key.id));
  const [exported] = await auditRows(coffer.ctx, { action: 'audit.export', actor_id: admin.user.userId });
  assert.ok(exported);
  assert.equal((exported.details.filter as { action: string }).action, 'payment.*');
  assert.equal(exported.service_id, admin.user.serviceId);
});

test('the export link on the page carries the search', async () => {
  await admin.page.goto(`${admin.base()}/audit?action=key.revoke`);
  assert.equal(await admin.page.getAttribute('#audit-export', 'href'), `/console/services/${admin.user.serviceId}/test/audit/export?action=key.revoke`);
});

test('a role without audit:view is refused, and so is another service’s member', async () => {
  const viewer = await enrolledUser(coffer, { serviceId: admin.user.serviceId, role: 'view-only' });
  const refused = await fetch(`${admin.base()}/audit`, { headers: { cookie: sessionCookie(viewer) }, redirect: 'manual' });
  assert.equal(refused.status, 403);
  const exportRefused = await fetch(`${admin.base()}/audit/export`, { headers: { cookie: sessionCookie(viewer) }, redirect: 'manual' });
  assert.equal(exportRefused.status, 403);
  const stranger = await enrolledUser(coffer, { role: 'administrator' });
  const hidden = await fetch(`${admin.base()}/audit`, { headers: { cookie: sessionCookie(stranger) }, redirect: 'manual' });
  assert.equal(hidden.status, 404);
});
