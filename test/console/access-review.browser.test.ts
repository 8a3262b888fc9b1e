// The access review page in a real browser: every member with role, second factors, last
// sign-in and working keys they created; a member quiet for 90 days flagged; recording the
// review (refused without a note) keeps who and when, with its audit entry; the warning comes
// back once the last review is over six months old. Notes with markup show as text; axe on the
// page; a view-only user is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser } from '../support/browser.js';
import { createKey } from '../../src/keys/key.service.js';
import { auditRows } from '../audit/audit-support.js';
import { signedInBrowser, type SignedInBrowser } from './browser-session.js';
import { enrolledUser, type EnrolledUser } from './helpers.js';

const DAY = 86_400_000;
/** A moment as the pages show it (UTC). */
const shown = (at: Date): string => at.toISOString().slice(0, 19).replace('T', ' ');
const NOTES = `Roles checked with the owner. <script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">`;

let coffer: TestCoffer;
let browser: Browser;
let serviceId: string;
let quiet: EnrolledUser;
let admin: SignedInBrowser;

before(async () => {
  coffer = await startCoffer();
  browser = await launchBrowser();
  serviceId = await coffer.newService('Permits');
  quiet = await enrolledUser(coffer, { serviceId, role: 'developer' });
  await createKey(coffer.ctx, { serviceId, mode: 'test', name: 'Quiet key', createdBy: `user:${quiet.userId}` });
  coffer.clock.advance(91 * DAY);
  admin = await signedInBrowser(browser, coffer, { role: 'administrator', serviceId });
});
after(async () => {
  await admin?.context.close();
  await browser?.close();
  await coffer?.close();
});

test('every member with role, second factors, last sign-in and key count; the quiet one flagged', async () => {
  const page = admin.page;
  const response = await page.goto(`${admin.base()}/access-review`);
  assert.equal(response?.status(), 200);
  assert.ok((await page.locator('#review-status').innerText()).includes('No access review has been recorded'));
  const quietRow = await page.locator(`#review-${quiet.userId}`).innerText();
  assert.ok(quietRow.includes(quiet.email));
  assert.ok(quietRow.includes('Developer'));
  assert.ok(quietRow.includes('authenticator app'));
  assert.ok(quietRow.includes('inactive over 90 days'));
  assert.match(quietRow, /\t1$/m, 'one working key');
  const adminRow = await page.locator(`#review-${admin.user.userId}`).innerText();
  assert.ok(!adminRow.includes('inactive'));
  assert.ok((await page.locator('#review-flagged').innerText()).includes('1 flagged'));
  assert.deepEqual(await axe(page), []);
});

test('recording the review: a note is required, then who and when are kept and audited', async () => {
  const page = admin.page;
  await page.goto(`${admin.base()}/access-review`);
  const [refused] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('form[action$="/access-review"] button[type=submit]')]);
  assert.equal(refused.status(), 422);
  assert.ok((await page.locator('.error-summary').innerText()).includes('Say what was reviewed'));
  assert.deepEqual(await axe(page), []);

  await page.fill('#notes', NOTES);
  await page.click('form[action$="/access-review"] button[type=submit]');
  await page.waitForURL('**/access-review?done=recorded');
  const last = await page.locator('#last-review').innerText();
  assert.ok(last.includes(admin.user.email), 'who');
  assert.ok(last.includes(shown(coffer.clock.now())), 'when');
  assert.ok(last.includes(NOTES), 'the notes, as text');
  assert.equal(await page.evaluate('window.__pwned'), undefined);
  assert.equal(await page.locator('main img').count(), 0);
  assert.deepEqual(admin.console.errors, []);
  const status = await page.locator('#review-status').innerText();
  assert.ok(status.includes('next review is due by'));
  assert.ok(!status.includes('overdue'));
  assert.deepEqual(await axe(page), []);

  const entries = await auditRows(coffer.ctx, { action: 'access_review.record', actor_id: admin.user.userId });
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.service_id, serviceId);
});

test('six months on, the page warns that a review is overdue', async () => {
  coffer.clock.advance(184 * DAY);
  const later = await signedInBrowser(browser, coffer, { role: 'administrator', serviceId });
  try {
    await later.page.goto(`${later.base()}/access-review`);
    const status = await later.page.locator('#review-status').innerText();
    assert.ok(status.includes('over six months ago'), status);
    assert.equal(await later.page.locator('#review-status.notice--warning').count(), 1);
    assert.deepEqual(await axe(later.page), []);
  } finally {
    await later.context.close();
  }
});

test('a view-only user is refused the review page', async () => {
  const viewer = await signedInBrowser(browser, coffer, { role: 'view-only', serviceId });
  try {
    assert.equal((await viewer.page.goto(`${viewer.base()}/access-review`))?.status(), 403);
    assert.deepEqual(await axe(viewer.page), []);
  } finally {
    await viewer.context.close();
  }
});
