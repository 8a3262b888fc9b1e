// The payment pages in a real browser (Debian Chromium through playwright-core): every journey
// from the service's own site and back, with JavaScript on and off, under the real CSP (a CSP
// violation fails the test), and axe-core's WCAG 2.2 AA rules on every page the payer sees.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser, openPage, type BrowserConsole } from '../support/browser.js';
import { paymentExpiryWorker } from '../../src/payments/payment.workers.js';
import { SANDBOX_3DS_CODE } from '../../src/connectors/sandbox/sandbox.cards.js';
import { apiStatus, createTestPayment } from './payer-client.js';

let coffer: TestCoffer;
let browser: Browser;
let service: Server;
let serviceUrl: string;

before(async () => {
  coffer = await startIsolatedCoffer();
  browser = await launchBrowser();
  // The service's own site, on another origin (localhost vs 127.0.0.1: another site too).
  service = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    response.setHeader('content-type', 'text/html; charset=utf-8');
    if (url.pathname === '/start') {
      const next = url.searchParams.get('next') ?? '';
      response.end(`<!DOCTYPE html><html lang="en"><title>Service</title><a id="pay" href="${next.replace(/"/g, '')}">Pay now</a></html>`);
    } else {
      response.end('<!DOCTYPE html><html lang="en"><title>Service</title><h1 id="back">Back at the service</h1></html>');
    }
  });
  await new Promise<void>((resolve) => service.listen(0, 'localhost', resolve));
  serviceUrl = `http://localhost:${(service.address() as AddressInfo).port}`;
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => service.close(() => resolve()));
  await coffer?.close();
});

const checkedPages = new Set<string>();
const scriptless = new WeakSet<Page>();

/**
 * axe on the page as it stands; the name records which pages have been checked. axe is itself
 * a script, so a page opened with JavaScript off is checked by the same page's run with it on.
 */
async function accessible(page: Page, name: string): Promise<void> {
  if (scriptless.has(page)) return;
  const violations = await axe(page);
  assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 1)}`);
  checkedPages.add(name);
}

function noCspViolations(log: BrowserConsole): void {
  const refused = log.messages.filter((m) => /Content Security Policy|Refused to|Trusted Type/i.test(m));
  assert.deepEqual(refused, []);
  assert.deepEqual(log.errors, []);
}

interface Journey {
  page: Page;
  log: BrowserConsole;
  key: string;
  id: string;
  nextUrl: string;
}

/** From the service's page, follow its "Pay now" link to Coffer's card page. */
async function start(options: { js?: boolean; payment?: Record<string, unknown> } = {}): Promise<Journey> {
  const payment = await createTestPayment(coffer, { return_url: `${serviceUrl}/return`, ...options.payment });
  const { page, console: log } = await openPage(browser, { javaScriptEnabled: options.js ?? true });
  if (options.js === false) scriptless.add(page);
  await page.goto(`${serviceUrl}/start?next=${encodeURIComponent(payment.nextUrl)}`);
  await Promise.all([page.waitForURL(`**/card_details/${payment.id}`), page.click('#pay')]);
  return { page, log, key: payment.key, id: payment.id, nextUrl: payment.nextUrl };
}

async function fillCard(page: Page, number: string, cvc = '123'): Promise<void> {
  await page.fill('#cardNo', number);
  await page.fill('#expiryMonth', '12');
  await page.fill('#expiryYear', '30');
  await page.fill('#cardholderName', 'Ms Browser Payer');
  await page.fill('#cvc', cvc);
  await page.fill('#addressLine1', '1 Test Street');
  await page.fill('#addressCity', 'Cardiff');
  await page.fill('#addressPostcode', 'CF10 1AA');
  await page.fill('#email', 'payer@example.org');
}

async function submitCard(page: Page): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#submit-card-details')]);
}

const heading = (page: Page): Promise<string> => page.locator('h1').innerText();

for (const js of [true, false]) {
  test(`success from the service and back, JavaScript ${js ? 'on' : 'off'}`, async () => {
    const { page, log, key, id } = await start({ js });
    assert.equal(await heading(page), 'Enter card details');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await accessible(page, 'card details');
    await fillCard(page, '4444 3333 2222 1111');
    if (js) {
      // The inventoried script names the brand as the payer types.
      assert.equal(await page.locator('#card-brand').innerText(), 'Card type: Visa');
    } else {
      assert.equal(await page.locator('#card-brand').innerText(), '');
    }
    await submitCard(page);
    assert.ok(page.url().endsWith(`/card_details/${id}/confirm`), page.url());
    assert.equal(await heading(page), 'Confirm your payment');
    await accessible(page, 'confirm');
    await Promise.all([page.waitForURL(`${serviceUrl}/return`), page.click('#confirm')]);
    assert.equal(await page.locator('#back').innerText(), 'Back at the service');
    assert.equal((await apiStatus(coffer, key, id)).status, 'success');
    // Back button after paying: the confirm page is gone; the payer is told it is paid.
    await page.goBack();
    assert.equal(await heading(page), 'You have already paid');
    await accessible(page, 'already paid');
    noCspViolations(log);
    await page.context().close();
  });
}

test('the brand script warns at once about a brand the account does not take', async () => {
  const { page, log } = await start();
  await page.fill('#cardNo', '3714 4963 5398 431');
  assert.equal(await page.locator('#card-brand').innerText(), 'Card type: American Express');
  await page.fill('#cardNo', '');
  assert.equal(await page.locator('#card-brand').innerText(), '');
  noCspViolations(log);
  await page.context().close();
});

test('validation errors: the summary is focused, links to each field, and the page stays accessible', async () => {
  const { page, log } = await start();
  await submitCard(page);
  assert.match(await page.title(), /^Error: Enter card details/);
  assert.equal(await page.evaluate('document.activeElement && document.activeElement.className'), 'error-summary');
  await page.click('.error-summary a[href="#cvc"]');
  assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'cvc');
  await accessible(page, 'card details with errors');
  noCspViolations(log);
  await page.context().close();
});

const outcomes: Array<[string, string, string, string | undefined]> = [
  ['declined', '4000000000000002', 'failed', 'P0010'],
  ['expired card', '4000000000000069', 'failed', 'P0010'],
  ['processing error', '4000000000000119', 'error', 'P0050'],
];
for (const [name, number, status, code] of outcomes) {
  test(`${name}: the outcome page, and the API agrees`, async () => {
    const { page, log, key, id } = await start();
    await fillCard(page, number);
    await submitCard(page);
    assert.equal(await heading(page), status === 'error' ? 'Your payment was not successful' : 'Your payment has been declined');
    await accessible(page, `outcome: ${name}`);
    await Promise.all([page.waitForURL(`${serviceUrl}/return`), page.click('#return-to-service')]);
    const api = await apiStatus(coffer, key, id);
    assert.deepEqual([api.status, api.code], [status, code]);
    noCspViolations(log);
    await page.context().close();
  });
}

test('3-D Secure: the right code authorises; a wrong one declines', async () => {
  for (const [code, expected] of [[SANDBOX_3DS_CODE, 'success'], ['000000', 'failed']] as const) {
    const { page, log, key, id } = await start();
    await fillCard(page, '4000000000003220');
    await submitCard(page);
    assert.equal(await heading(page), 'Confirm it’s you');
    await accessible(page, '3-D Secure');
    await page.fill('#otp', code);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#submit-three-ds')]);
    if (expected === 'success') {
      assert.equal(await heading(page), 'Confirm your payment');
      await Promise.all([page.waitForURL(`${serviceUrl}/return`), page.click('#confirm')]);
    } else {
      assert.equal(await heading(page), 'Your payment has been declined');
    }
    assert.equal((await apiStatus(coffer, key, id)).status, expected);
    noCspViolations(log);
    await page.context().close();
  }
});

test('cancel: back at the service, and the payment failed with P0030', async () => {
  const { page, log, key, id } = await start();
  await Promise.all([page.waitForURL(`${serviceUrl}/return`), page.click('#cancel-payment')]);
  const api = await apiStatus(coffer, key, id);
  assert.deepEqual([api.status, api.code], ['failed', 'P0030']);
  await page.goBack();
  assert.equal(await heading(page), 'Your payment has been cancelled');
  await accessible(page, 'outcome: cancelled');
  noCspViolations(log);
  await page.context().close();
});

test('the payment expires while the card page is open', async () => {
  const { page, log, key, id } = await start();
  await fillCard(page, '4444333322221111');
  coffer.clock.advance(91 * 60_000);
  await paymentExpiryWorker.run(coffer.ctx);
  await submitCard(page);
  assert.equal(await heading(page), 'Your payment session has expired');
  await accessible(page, 'outcome: expired');
  assert.equal((await apiStatus(coffer, key, id)).code, 'P0020');
  noCspViolations(log);
  await page.context().close();
});

test('a reused link in another browser gets "already used"; an unknown link "not valid"', async () => {
  const first = await start();
  const { page, console: log } = await openPage(browser);
  await page.goto(first.nextUrl);
  assert.equal(await heading(page), 'This payment link has already been used');
  await accessible(page, 'link used');
  await page.goto(`${coffer.url}/secure/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
  assert.equal(await heading(page), 'This payment link is not valid');
  await accessible(page, 'link not valid');
  noCspViolations(log);
  await page.context().close();
  await first.page.context().close();
});

test('Welsh: the whole journey in Welsh', async () => {
  const { page, log, key, id } = await start({ payment: { language: 'cy' } });
  assert.equal(await page.getAttribute('html', 'lang'), 'cy');
  assert.equal(await heading(page), 'Rhowch fanylion y cerdyn');
  await accessible(page, 'card details (cy)');
  await fillCard(page, '4444333322221111');
  await submitCard(page);
  assert.equal(await heading(page), 'Cadarnhau eich taliad');
  await accessible(page, 'confirm (cy)');
  await Promise.all([page.waitForURL(`${serviceUrl}/return`), page.click('#confirm')]);
  assert.equal((await apiStatus(coffer, key, id)).status, 'success');
  noCspViolations(log);
  await page.context().close();
});

test('axe ran on every kind of page the payer can see', () => {
  for (const name of ['card details', 'card details with errors', 'confirm', '3-D Secure', 'already paid', 'outcome: declined', 'outcome: processing error', 'outcome: cancelled', 'outcome: expired', 'link used', 'link not valid', 'card details (cy)']) {
    assert.ok(checkedPages.has(name), name);
  }
});
