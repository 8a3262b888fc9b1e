// The console's API key pages in a real browser: a key is created (shown once, with a copy
// button, and it works on the API as a Bearer token), listed without its secret, revoked (the API
// refuses it at once), rolled with an overlap; the creator is recorded so the leavers process
// finds the key; step-up before creating; a developer manages keys but sees no transactions or
// settings; another service's key answers 404; key names render as text; axe on every page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser } from '../support/browser.js';
import { disableUser, keysCreatedBy, previewDisable } from '../../src/console/access/leaver.service.js';
import { SERVICE_PAGES } from '../../src/console/pages/console.shell.js';
import { totpCodeAt } from '../../src/console/mfa/totp.js';
import { signedInBrowser, type SignedInBrowser } from './browser-session.js';

let coffer: TestCoffer;
let browser: Browser;
const opened: SignedInBrowser[] = [];

before(async () => {
  coffer = await startCoffer();
  browser = await launchBrowser();
});
after(async () => {
  for (const b of opened) await b?.context.close();
  await browser?.close();
  await coffer?.close();
});

async function signedIn(role = 'administrator', serviceId?: string): Promise<SignedInBrowser> {
  const b = await signedInBrowser(browser, coffer, serviceId ? { role, serviceId } : { role });
  opened.push(b);
  return b;
}

/** The value attributes of the matched inputs, in page order. */
const valuesOf = async (inputs: Locator): Promise<string[]> => Promise.all((await inputs.all()).map(async (i) => (await i.getAttribute('value'))!));

async function noAxeViolations(page: Page): Promise<void> {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `axe on ${page.url()}: ${JSON.stringify(violations, null, 1)}`);
}

const apiStatus = async (token: string): Promise<number> => (await coffer.request('GET', '/v1/account', { key: token })).status;

/** Fills and submits the create form; returns the key shown on the result page. */
async function createThroughForm(b: SignedInBrowser, name: string, scopes?: string[]): Promise<string> {
  await b.page.goto(`${b.base()}/keys/new`);
  await b.page.fill('#name', name);
  if (scopes) {
    for (const box of await b.page.locator('input[name=scopes]').all()) await box.setChecked(scopes.includes((await box.getAttribute('value'))!));
  }
  await b.page.click('#create-key-submit');
  await b.page.waitForSelector('#new-key');
  return b.page.inputValue('#new-key');
}

test('create a key: shown once with a copy button, works as a Bearer token, listed without its secret', async () => {
  const admin = await signedIn();
  const page = admin.page;
  await admin.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: coffer.url });
  await page.goto(`${admin.base()}/keys`);
  assert.equal(await page.locator('h1').innerText(), 'API keys');
  assert.equal(await page.locator('#keys-none').count(), 1);
  await noAxeViolations(page);

  await page.click('#create-key');
  await page.waitForURL('**/keys/new');
  assert.equal(await page.locator('h1').innerText(), 'Create an API key');
  // The defaults are the payments API's, as for a key made without naming scopes.
  const checked = await valuesOf(page.locator('input[name=scopes]:checked'));
  assert.deepEqual(checked, ['payments:read', 'payments:write', 'refunds:read', 'refunds:write']);
  await noAxeViolations(page);

  // Mistakes come back as field errors, with what was typed kept.
  await page.fill('#name', '   ');
  for (const box of await page.locator('input[name=scopes]').all()) await box.uncheck();
  await page.click('#create-key-submit');
  const summary = await page.locator('.error-summary').innerText();
  assert.match(summary, /Enter a name for the key/);
  assert.match(summary, /Choose at least one thing the key may do/);
  await noAxeViolations(page);

  await page.fill('#name', 'Web server');
  await page.check('input[value="payments:read"]');
  await page.check('input[value="payments:write"]');
  await page.check('#expires-3'); // 90 days
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('#create-key-submit')]);
  assert.equal(response.status(), 201);
  assert.equal(await page.locator('h1').innerText(), 'Your new API key');
  const token = await page.inputValue('#new-key');
  assert.match(token, /^coffer_test_[A-Za-z0-9]{36}$/);
  assert.equal(await page.locator('#new-key').getAttribute('readonly'), '');
  assert.match(await page.locator('main').innerText(), /Expires\s+23 Feb 2027, 12:00 UTC/);
  // The script shows the copy button where the Clipboard API exists, and it copies the key.
  await page.locator('#copy-key').waitFor({ state: 'visible' });
  await page.click('#copy-key');
  await page.locator('#copy-status').filter({ hasText: /^Copied/ }).waitFor();
  assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), token);
  await noAxeViolations(page);
  assert.deepEqual(admin.console.errors, []);

  // The key works on the API, and only within its scopes.
  const account = await coffer.request('GET', '/v1/account', { key: token });
  assert.equal(account.status, 200);
  assert.equal(account.body.service_id, admin.user.serviceId);
  assert.equal((await coffer.request('GET', '/v1/refunds', { key: token })).status, 403);

  // Never shown again: the list has the name, its ends, the creator and when it was last used.
  await page.goto(`${admin.base()}/keys`);
  const html = await page.content();
  assert.ok(!html.includes(token), 'the list never contains the key');
  const row = page.locator('#keys tbody tr').first();
  const cells = await row.locator('td').allInnerTexts();
  assert.equal(cells[0], 'Web server');
  assert.ok(token.startsWith(cells[1]!.split('…')[0]!) && token.endsWith(cells[1]!.split('…')[1]!), `display ${cells[1]} is the key's ends`);
  assert.ok(cells[1]!.length < 30, 'only a few characters of the key are shown');
  assert.equal(cells[2], 'payments:read, payments:write');
  assert.match(cells[3]!, /^25 Nov 2026, 12:\d\d UTC\s+by /);
  assert.ok(cells[3]!.endsWith(`by ${admin.user.email}`), cells[3]);
  assert.match(cells[4]!, /^25 Nov 2026, 12:\d\d UTC$/);
  assert.equal(cells[5], '23 Feb 2027, 12:00 UTC');
  assert.equal(cells[6], 'Active');
  await noAxeViolations(page);

  // Created by the console user, under the name the leavers process looks for.
  const mine = await keysCreatedBy(coffer.ctx, admin.user.serviceId, admin.user.userId);
  assert.deepEqual(mine.map((k) => k.name), ['Web server']);
  assert.equal(mine[0]!.created_by, `user:${admin.user.userId}`);
});

test('a key made in the console is found and revoked by the leavers process', async () => {
  const developer = await signedIn('developer');
  const token = await createThroughForm(developer, 'Leaving with me');
  const preview = await previewDisable(coffer.ctx, developer.user.userId);
  assert.deepEqual(preview.keys.map((k) => k.name), ['Leaving with me']);
  await disableUser(coffer.ctx, developer.user.userId, { by: 'operator:hr', reason: 'left', confirmedKeyIds: preview.keys.map((k) => k.id) });
  assert.equal(await apiStatus(token), 401);
});

test('revoke: a confirmation page, then the API refuses the key with 401', async () => {
  const admin = await signedIn();
  const key = await coffer.newKey(admin.user.serviceId, { name: 'Old laptop', createdBy: 'operator:olga' });
  assert.equal(await apiStatus(key.token), 200);
  const page = admin.page;
  await page.goto(`${admin.base()}/keys`);
  assert.match(await page.locator(`#key-${key.id}`).innerText(), /by Operator olga/);
  await page.click(`#key-${key.id} a:has-text("Revoke")`);
  await page.waitForURL(`**/keys/${key.id}/revoke`);
  assert.equal(await page.locator('h1').innerText(), 'Revoke the key “Old laptop”?');
  await noAxeViolations(page);
  await page.fill('#reason', 'laptop lost');
  await page.click('#revoke-submit');
  await page.waitForURL(`**/keys?revoked=${key.id}`);
  assert.match(await page.locator('#keys-notice').innerText(), /“Old laptop” is revoked/);
  assert.match(await page.locator(`#key-${key.id}`).innerText(), /Revoked/);
  assert.equal(await page.locator(`#key-${key.id} a`).count(), 0, 'no actions on a revoked key');
  await noAxeViolations(page);
  assert.equal(await apiStatus(key.token), 401);

  // Asking again shows that it is revoked rather than failing.
  await page.goto(`${admin.base()}/keys/${key.id}/revoke`);
  assert.match(await page.locator('main').innerText(), /already revoked/);
});

test('roll with the default 24-hour overlap: both keys work, then only the new one', async () => {
  const admin = await signedIn();
  const key = await coffer.newKey(admin.user.serviceId, { name: 'Deploy', scopes: ['payments:read'] });
  const page = admin.page;
  await page.goto(`${admin.base()}/keys`);
  await page.click(`#key-${key.id} a:has-text("Roll")`);
  await page.waitForURL(`**/keys/${key.id}/roll`);
  assert.equal(await page.locator('input[name=overlap]:checked').getAttribute('value'), '24h');
  await noAxeViolations(page);
  await page.click('#roll-submit');
  await page.waitForSelector('#new-key');
  const fresh = await page.inputValue('#new-key');
  assert.notEqual(fresh, key.token);
  assert.match(await page.locator('#previous-key').innerText(), /keeps working until 26 Nov 2026, 12:\d\d UTC/);
  await noAxeViolations(page);

  await page.goto(`${admin.base()}/keys`);
  assert.match(await page.locator(`#key-${key.id}`).innerText(), /Rolled: stops soon/);
  assert.equal(await page.locator(`#key-${key.id} a:has-text("Roll")`).count(), 0);
  const newRow = page.locator(`#keys tbody tr:not(#key-${key.id})`).filter({ hasText: 'Deploy' });
  assert.equal(await newRow.count(), 1);
  assert.ok((await newRow.innerText()).includes(`by ${admin.user.email}`));
  assert.match(await newRow.innerText(), /payments:read/);

  assert.equal(await apiStatus(key.token), 200);
  assert.equal(await apiStatus(fresh), 200);
  coffer.clock.advance(24 * 60 * 60_000 + 60_000);
  assert.equal(await apiStatus(key.token), 401);
  assert.equal(await apiStatus(fresh), 200);
});

test('roll with no overlap stops the old key at once', async () => {
  const admin = await signedIn();
  const key = await coffer.newKey(admin.user.serviceId, { name: 'Leaked' });
  await admin.page.goto(`${admin.base()}/keys/${key.id}/roll`);
  await admin.page.check('input[name=overlap][value="0"]');
  await admin.page.click('#roll-submit');
  await admin.page.waitForSelector('#new-key');
  assert.match(await admin.page.locator('#previous-key').innerText(), /no longer works/);
  assert.equal(await apiStatus(key.token), 401);
  assert.equal(await apiStatus(await admin.page.inputValue('#new-key')), 200);
  // A key that is no longer active cannot be rolled again.
  await admin.page.goto(`${admin.base()}/keys/${key.id}/roll`);
  assert.match(await admin.page.locator('#roll-refused').innerText(), /Only an active key can be rolled/);
  await noAxeViolations(admin.page);
});

test('creating a key asks for the second factor again after 5 minutes', async () => {
  const admin = await signedIn();
  coffer.clock.advance(6 * 60_000);
  await admin.page.goto(`${admin.base()}/keys/new`);
  await admin.page.waitForURL('**/console/confirm?next=**');
  await admin.page.fill('#code', totpCodeAt(admin.user.totpSecret, coffer.clock.now()));
  await admin.page.click('main button[type=submit]');
  await admin.page.waitForURL('**/keys/new');
  const token = await createThroughForm(admin, 'After step-up');
  assert.equal(await apiStatus(token), 200);
  coffer.clock.advance(30_000);
});

test('a developer manages keys but sees no dashboard, transactions or settings', async () => {
  const developer = await signedIn('developer');
  const page = developer.page;
  // The account's home sends a developer on to the first page the role has.
  await page.goto(developer.base());
  await page.waitForURL('**/keys');
  const nav = await page.locator('.service-nav__link').allInnerTexts();
  assert.deepEqual(nav, ['API keys', 'Webhooks']);
  const token = await createThroughForm(developer, 'Developer key');
  assert.equal(await apiStatus(token), 200);
  for (const path of ['/settings', ...(SERVICE_PAGES.some((p) => p.path === '/transactions') ? ['/transactions'] : [])]) {
    const response = await page.goto(`${developer.base()}${path}`);
    assert.equal(response?.status(), 403, path);
  }
  // A view-only user sees no keys at all.
  const viewer = await signedIn('view-only');
  assert.equal((await viewer.page.goto(`${viewer.base()}/keys`))?.status(), 403);
});

test("another service's key is not found", async () => {
  const admin = await signedIn();
  const other = await coffer.newTenant();
  for (const action of ['revoke', 'roll']) {
    assert.equal((await admin.page.goto(`${admin.base()}/keys/${other.keyId}/${action}`))?.status(), 404);
  }
  const csrf = await (async () => {
    await admin.page.goto(`${admin.base()}/keys/new`);
    return admin.page.inputValue('input[name=csrf_token]');
  })();
  const posted = await admin.page.request.post(`${admin.base()}/keys/${other.keyId}/revoke`, { form: { csrf_token: csrf, reason: 'not mine' }, maxRedirects: 0 });
  assert.equal(posted.status(), 404);
  assert.equal(await apiStatus(other.token), 200);
});

test('key names render as text, never as markup', async () => {
  const admin = await signedIn();
  const name = `<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">`;
  await createThroughForm(admin, name);
  assert.equal(await admin.page.locator('main img').count(), 0);
  assert.match(await admin.page.locator('label[for=new-key]').innerText(), /<script>window.__xss=1<\/script>/);
  await admin.page.goto(`${admin.base()}/keys`);
  assert.equal(await admin.page.locator('#keys tbody tr .key-name').first().innerText(), name);
  assert.equal(await admin.page.locator('main img').count(), 0);
  assert.equal(await admin.page.evaluate<unknown>('window.__xss'), undefined);
  assert.deepEqual(admin.console.errors, []);
});
