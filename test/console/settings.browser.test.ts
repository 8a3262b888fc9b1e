// The console's settings pages in a real browser: the service's name and the account's payment
// page settings are saved and the card page a payer opens uses them; mistakes come back as field
// errors; the service name renders as text; enabling live is refused on the embedded store with
// the reason, and on PostgreSQL it works, the live account looks unmistakably different, and its
// payment page settings are its own. axe on every page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { startCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser, openPage } from '../support/browser.js';
import { getPageSettings } from '../../src/hosted/hosted.settings.js';
import { findAccountByServiceAndMode } from '../../src/services/service.repo.js';
import { LIVE_NEEDS_MASTER_KEY, LIVE_NEEDS_POSTGRES } from '../../src/services/service.service.js';
import { auditRows } from '../audit/audit-support.js';
import { createTestPayment } from '../hosted/payer-client.js';
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

async function signedIn(role = 'administrator'): Promise<SignedInBrowser> {
  const b = await signedInBrowser(browser, coffer, { role });
  opened.push(b);
  return b;
}

/** The value attributes of the matched inputs, in page order. */
const valuesOf = async (inputs: Locator): Promise<string[]> => Promise.all((await inputs.all()).map(async (i) => (await i.getAttribute('value'))!));

async function noAxeViolations(page: Page): Promise<void> {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `axe on ${page.url()}: ${JSON.stringify(violations, null, 1)}`);
}

/** What a payer sees: the card page of a new payment made with `key`. */
async function cardPage(key: string): Promise<{ page: Page; close(): Promise<void> }> {
  const { nextUrl } = await createTestPayment(coffer, {}, key);
  const payer = await openPage(browser);
  await payer.page.goto(nextUrl);
  await payer.page.waitForSelector('#cardNo');
  return { page: payer.page, close: () => payer.context.close() };
}

test('the name and the payment page settings are saved, and the card page uses them', async () => {
  const admin = await signedIn();
  const page = admin.page;
  const key = await coffer.newKey(admin.user.serviceId);
  await page.goto(`${admin.base()}/settings`);
  assert.equal(await page.locator('h1').innerText(), 'Settings');
  // GOV.UK Pay's defaults until changed.
  assert.equal(await page.locator('input[name=email_collection]:checked').getAttribute('value'), 'mandatory');
  assert.equal(await page.locator('input[name=billing_address]:checked').getAttribute('value'), 'on');
  assert.equal(await page.locator('input[name=brands]:checked').count(), await page.locator('input[name=brands]').count());
  assert.match(await page.locator('main').innerText(), /These apply to the test account only/);
  await noAxeViolations(page);

  await page.fill('#name', 'Parking permits');
  await page.click('#save-name');
  await page.waitForURL('**/settings?saved=name');
  assert.match(await page.locator('#settings-saved').innerText(), /name is saved/);
  assert.match(await page.locator('.console-context__service').innerText(), /Parking permits$/);
  await noAxeViolations(page);

  await page.check('input[name=email_collection][value=off]');
  await page.check('input[name=billing_address][value=off]');
  for (const box of await page.locator('input[name=brands]').all()) await box.setChecked(['visa', 'master-card'].includes((await box.getAttribute('value'))!));
  await page.click('#save-payment-page');
  await page.waitForURL('**/settings?saved=payment-page');
  assert.match(await page.locator('#settings-saved').innerText(), /payment page settings are saved/);
  assert.equal(await page.locator('input[name=email_collection]:checked').getAttribute('value'), 'off');
  assert.equal(await page.locator('input[name=billing_address]:checked').getAttribute('value'), 'off');
  const brands = await valuesOf(page.locator('input[name=brands]:checked'));
  assert.deepEqual(brands, ['visa', 'master-card']);

  const payer = await cardPage(key.token);
  assert.equal(await payer.page.locator('#email').count(), 0, 'no email field');
  assert.equal(await payer.page.locator('#addressLine1').count(), 0, 'no billing address');
  assert.equal(await payer.page.locator('#accepted-cards').innerText(), 'Accepted cards: Visa, Mastercard');
  assert.match(await payer.page.locator('body').innerText(), /Parking permits/);
  await payer.close();

  // Each change is recorded, under the person who made it.
  const [renamed] = await auditRows(coffer.ctx, { action: 'service.rename', service_id: admin.user.serviceId });
  assert.equal(renamed?.actor_id, admin.user.userId);
  assert.deepEqual(renamed?.details, { from: 'Test service', to: 'Parking permits' });
  const [changed] = await auditRows(coffer.ctx, { action: 'payment_page.update', service_id: admin.user.serviceId });
  assert.equal(changed?.actor_id, admin.user.userId);
  assert.equal(changed?.account_id, (await findAccountByServiceAndMode(coffer.ctx.db, admin.user.serviceId, 'test'))!.id);
});

test('mistakes come back as field errors and nothing is saved', async () => {
  const admin = await signedIn();
  const page = admin.page;
  await page.goto(`${admin.base()}/settings`);
  for (const box of await page.locator('input[name=brands]').all()) await box.uncheck();
  await page.check('input[name=email_collection][value=optional]');
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('#save-payment-page')]);
  assert.equal(response.status(), 422);
  assert.match(await page.locator('.error-summary').innerText(), /Choose at least one card brand to accept/);
  // What was chosen is kept on the form.
  assert.equal(await page.locator('input[name=email_collection]:checked').getAttribute('value'), 'optional');
  await noAxeViolations(page);
  await page.fill('#name', '   ');
  await page.click('#save-name');
  assert.match(await page.locator('.error-summary').innerText(), /Enter the service’s name/);
  await noAxeViolations(page);
  const account = await findAccountByServiceAndMode(coffer.ctx.db, admin.user.serviceId, 'test');
  assert.equal((await getPageSettings(coffer.ctx, account!.id)).emailCollection, 'mandatory');
});

test('the service name renders as text in the console and on the card page', async () => {
  const admin = await signedIn();
  const key = await coffer.newKey(admin.user.serviceId);
  const name = `<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">`;
  await admin.page.goto(`${admin.base()}/settings`);
  await admin.page.fill('#name', name);
  await admin.page.click('#save-name');
  await admin.page.waitForURL('**/settings?saved=name');
  assert.ok((await admin.page.locator('.console-context__service').innerText()).endsWith(name));
  assert.equal(await admin.page.inputValue('#name'), name);
  assert.equal(await admin.page.locator('img').count(), 0);
  assert.equal(await admin.page.evaluate<unknown>('window.__xss'), undefined);
  assert.deepEqual(admin.console.errors, []);
  const payer = await cardPage(key.token);
  assert.ok((await payer.page.locator('body').innerText()).includes(name));
  assert.equal(await payer.page.locator('img').count(), 0);
  await payer.close();
});

test('a role without settings sees none of them', async () => {
  for (const role of ['view-and-refund', 'view-only', 'developer']) {
    const user = await signedIn(role);
    assert.equal((await user.page.goto(`${user.base()}/settings`))?.status(), 403, role);
  }
});

test('enabling live is refused on the embedded store, with the reason', { skip: usingPostgres() && 'the embedded store only' }, async () => {
  const admin = await signedIn();
  const page = admin.page;
  await page.goto(`${admin.base()}/settings`);
  assert.equal(await page.locator('#enable-live').count(), 0, 'no button that can only fail');
  assert.ok((await page.locator('#live-refusal').innerText()).includes(LIVE_NEEDS_POSTGRES));
  await page.goto(`${admin.base()}/settings/live`);
  assert.ok((await page.locator('#live-refusal').innerText()).includes(LIVE_NEEDS_POSTGRES));
  await noAxeViolations(page);
  // Posting the form directly gets the same answer, and no live account.
  await page.goto(`${admin.base()}/settings`);
  const csrf = await page.inputValue('#name-form input[name=csrf_token]');
  const posted = await page.request.post(`${admin.base()}/settings/live`, { form: { csrf_token: csrf }, maxRedirects: 0 });
  assert.equal(posted.status(), 422);
  assert.ok((await posted.text()).includes('Live accounts need PostgreSQL'));
  assert.equal(await findAccountByServiceAndMode(coffer.ctx.db, admin.user.serviceId, 'live'), undefined);
  assert.equal(await page.locator('.console-context__switch').count(), 0, 'no link to a live account that does not exist');
});

test('on PostgreSQL an administrator enables live; it looks unmistakably different and keeps its own settings', { skip: !usingPostgres() && 'live accounts need PostgreSQL' }, async () => {
  const admin = await signedIn();
  const page = admin.page;
  await page.goto(`${admin.base()}/settings`);
  assert.equal(await page.locator('header .header').getAttribute('class'), 'header');
  await page.click('#enable-live');
  await page.waitForURL('**/settings/live');
  await noAxeViolations(page);
  await page.click('#enable-live-submit');
  await page.waitForURL(`**/console/services/${admin.user.serviceId}/live/settings?saved=live`);
  assert.match(await page.locator('#settings-saved').innerText(), /live account is enabled/);

  // Everywhere in the live account: the red header and the LIVE banner; a link back to test.
  for (const path of ['/settings', '/keys', '']) {
    await page.goto(`${admin.base('live')}${path}`);
    assert.equal(await page.locator('header .header').getAttribute('class'), 'header header--live', path);
    assert.match(await page.locator('.mode-tag--live').innerText(), /^LIVE/);
    assert.equal(await page.locator('.console-context__switch a').getAttribute('href'), `/console/services/${admin.user.serviceId}/test`);
    await noAxeViolations(page);
  }
  await page.goto(`${admin.base('test')}/settings`);
  assert.equal(await page.locator('.console-context__switch a').getAttribute('href'), `/console/services/${admin.user.serviceId}/live`);
  assert.equal(await page.locator('.mode-tag--live').count(), 0);

  // The live account's payment page settings are its own.
  await page.goto(`${admin.base('live')}/settings`);
  assert.match(await page.locator('main').innerText(), /These apply to the live account only; the test account has its own/);
  await page.check('input[name=email_collection][value=off]');
  await page.click('#save-payment-page');
  await page.waitForURL('**/live/settings?saved=payment-page');
  const live = await findAccountByServiceAndMode(coffer.ctx.db, admin.user.serviceId, 'live');
  const testAccount = await findAccountByServiceAndMode(coffer.ctx.db, admin.user.serviceId, 'test');
  assert.equal((await getPageSettings(coffer.ctx, live!.id)).emailCollection, 'off');
  assert.equal((await getPageSettings(coffer.ctx, testAccount!.id)).emailCollection, 'mandatory');

  // Keys are per account too: one made in the live account is a live key.
  await page.goto(`${admin.base('live')}/keys/new`);
  await page.fill('#name', 'Live web server');
  await page.click('#create-key-submit');
  const liveKey = await page.inputValue('#new-key');
  assert.match(liveKey, /^coffer_live_/);
  const account = await coffer.request('GET', '/v1/account', { key: liveKey });
  assert.equal(account.status, 200);
  assert.equal(account.body.account_id, live!.id);
  await page.goto(`${admin.base('test')}/keys`);
  assert.equal(await page.locator('#keys-none').count(), 1, 'the test account does not list the live key');

  // Only administrators, and only after a fresh second factor.
  coffer.clock.advance(6 * 60_000);
  await page.goto(`${admin.base('test')}/settings/live`);
  await page.waitForURL('**/console/confirm?next=**');
  coffer.clock.advance(30_000);
});

test('on PostgreSQL without an operator master key, enabling live is refused with that reason', { skip: !usingPostgres() && 'live accounts need PostgreSQL' }, async () => {
  const generated = await startCoffer({ masterKeyFromEnvironment: false });
  try {
    const admin = await signedInBrowser(browser, generated, { role: 'administrator' });
    await admin.page.goto(`${admin.base()}/settings/live`);
    assert.ok((await admin.page.locator('#live-refusal').innerText()).includes(LIVE_NEEDS_MASTER_KEY));
    await noAxeViolations(admin.page);
    await admin.context.close();
  } finally {
    await generated.close();
  }
});
