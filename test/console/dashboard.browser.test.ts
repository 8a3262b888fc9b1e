// The console dashboard in a real browser, on a frozen clock: payments made through the API on
// several days (paid, declined, still in progress, another service's, one too old for the chart)
// and the page's figures checked against them and against the API's own search; the chart is an
// SVG image with a title, description and a table of the same figures; axe on the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser } from '../support/browser.js';
import { ManualClock } from '../../src/platform/clock.js';
import { authorisePayment, startPayerJourney } from '../../src/payments/payer-journey.service.js';
import { card, createPayment, DECLINED, paid } from '../payments/support.js';
import { signedInBrowser, type SignedInBrowser } from './browser-session.js';

let coffer: TestCoffer;
let browser: Browser;
let admin: SignedInBrowser;
let key: string;

async function declined(amount: number): Promise<void> {
  const id = (await createPayment(coffer, key, { amount })).body.payment_id as string;
  assert.equal((await startPayerJourney(coffer.ctx, id)).outcome, 'started');
  assert.equal((await authorisePayment(coffer.ctx, id, { card: card(DECLINED) })).outcome, 'rejected');
}

before(async () => {
  // Wednesday 25 November 2026 is "today"; the week began on Monday the 23rd.
  coffer = await startCoffer({ clock: new ManualClock(new Date('2026-10-26T10:00:00Z')) });
  browser = await launchBrowser();
  const serviceId = await coffer.newService('Dashboard');
  key = (await coffer.newKey(serviceId)).token;

  await paid(coffer, key, { amount: 5000 }); // 26 October: before the chart's 30 days
  coffer.clock.set(new Date('2026-11-20T10:00:00Z')); // Friday last week
  await paid(coffer, key, { amount: 1000 });
  await paid(coffer, key, { amount: 2500 });
  await declined(700);
  coffer.clock.set(new Date('2026-11-24T09:00:00Z')); // Tuesday
  await paid(coffer, key, { amount: 500 });
  coffer.clock.set(new Date('2026-11-25T08:00:00Z')); // today
  await paid(coffer, key, { amount: 1200 });
  await paid(coffer, key, { amount: 300 });
  await declined(999);
  await createPayment(coffer, key, { amount: 4000 }); // still in progress: not a failure yet
  const other = await coffer.newTenant();
  await paid(coffer, other.token, { amount: 99_999 }); // another service's: never counted here
  coffer.clock.set(new Date('2026-11-25T12:00:00Z'));
  admin = await signedInBrowser(browser, coffer, { role: 'administrator', serviceId });
});
after(async () => {
  await admin?.context.close();
  await browser?.close();
  await coffer?.close();
});

test('today, this week and the success rate match the payments made through the API', async () => {
  const page = admin.page;
  const response = await page.goto(admin.base());
  assert.equal(response?.status(), 200);
  assert.equal(await page.locator('h1').innerText(), 'Dashboard');
  assert.equal(await page.locator('#today-amount').innerText(), '£15.00');
  assert.equal(await page.locator('#today-counts').innerText(), '2 successful of 4 started');
  assert.equal(await page.locator('#week-amount').innerText(), '£20.00');
  assert.equal(await page.locator('#week-counts').innerText(), '3 successful of 5 started since Monday 23 November 2026');
  assert.equal(await page.locator('#success-rate').innerText(), '75%');

  // The API's own search agrees on today's successful payments.
  const search = await coffer.request('GET', '/v1/payments?state=success&from_date=2026-11-25T00:00:00Z', { key });
  assert.equal(search.status, 200, search.text);
  assert.equal(search.body.total, 2);
  assert.equal(search.body.results.reduce((sum: number, p: { amount: number }) => sum + p.amount, 0), 1500);
  assert.deepEqual(await axe(page), []);
});

test('the chart is an accessible SVG image, drawn on the server, with its figures as a table', async () => {
  const page = admin.page;
  await page.goto(admin.base());
  const svg = page.locator('svg.chart__svg');
  assert.equal(await svg.getAttribute('role'), 'img');
  assert.equal(await svg.getAttribute('aria-labelledby'), 'chart-title chart-desc');
  assert.equal(await page.locator('#chart-title').textContent(), 'Money collected per day from Tuesday 27 October 2026 to Wednesday 25 November 2026');
  assert.match((await page.locator('#chart-desc').textContent())!, /£20\.00 this week, £15\.00 today/);
  const bars = page.locator('svg rect.chart__bar');
  assert.equal(await bars.count(), 30);
  const titles = await page.locator('svg rect.chart__bar title').allTextContents();
  assert.equal(titles.at(-1), '25 Nov: £15.00 from 2 successful payments');
  assert.equal(titles.at(-6), '20 Nov: £35.00 from 2 successful payments');
  assert.equal(titles[0], '27 Oct: £0.00 from 0 successful payments');
  // The tallest bar is the biggest day; an empty day has no height.
  const heights = await bars.evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('height'))));
  assert.equal(Math.max(...heights), heights.at(-6));
  assert.equal(heights[0], 0);
  assert.ok(heights.at(-1)! > heights.at(-2)!);

  const rows = page.locator('#daily-figures tbody tr');
  assert.equal(await rows.count(), 30);
  const cellsOf = async (day: string) => (await page.locator(`#daily-figures tr[data-day="${day}"] > *`).allTextContents()).map((t) => t.trim());
  assert.deepEqual(await cellsOf('2026-11-25'), ['Wednesday 25 November 2026', '4', '2', '1', '£15.00']);
  assert.deepEqual(await cellsOf('2026-11-20'), ['Friday 20 November 2026', '3', '2', '1', '£35.00']);
  assert.deepEqual(await cellsOf('2026-11-24'), ['Tuesday 24 November 2026', '1', '1', '0', '£5.00']);
  assert.equal(await page.locator('#daily-figures tr[data-day="2026-10-26"]').count(), 0);
  // No script on the page at all: the chart is markup.
  assert.equal(await page.locator('script').count(), 0);
  await page.click('.chart-data summary');
  assert.deepEqual(await axe(page), []);
});

test('a service with no payments shows zeros, not an error', async () => {
  const empty = await signedInBrowser(browser, coffer, { role: 'view-only' });
  try {
    await empty.page.goto(empty.base());
    assert.equal(await empty.page.locator('#today-amount').innerText(), '£0.00');
    assert.equal(await empty.page.locator('#success-rate').innerText(), '–');
    assert.equal(await empty.page.locator('svg rect.chart__bar').count(), 30);
    assert.deepEqual(await axe(empty.page), []);
  } finally {
    await empty.context.close();
  }
});
