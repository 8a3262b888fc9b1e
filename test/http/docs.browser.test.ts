// The API docs as a reader sees them: a real browser loads /docs under its strict CSP, and the
// operations appear. A CSP that blocked Swagger UI's own scripts would leave a blank page and
// report violations, which is what this catches. (Swagger UI also tries one inline <style>,
// which the CSP blocks without visible harm; only script violations fail the test.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startCoffer, type TestCoffer } from '../support/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let coffer: TestCoffer;
let browser: Browser | undefined;
before(async () => {
  coffer = await startCoffer();
  if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
after(async () => {
  await browser?.close();
  await coffer?.close();
});

test('/docs renders the API operations in a browser, with no CSP violation', { skip: !existsSync(CHROMIUM) && 'needs /usr/bin/chromium' }, async () => {
  const page = await browser!.newPage();
  const violations: string[] = [];
  const failures: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to/i.test(text) && !/inline style|style-src/i.test(text)) violations.push(text);
  });
  page.on('requestfailed', (request) => failures.push(request.url()));
  const response = await page.goto(`${coffer.url}/docs`);
  assert.equal(response?.status(), 200);
  await page.locator('.opblock-summary-path').first().waitFor({ timeout: 30_000 });
  const paths = await page.locator('.opblock-summary-path').allTextContents();
  const normalised = paths.map((p) => p.replace(/\u200b/g, '').trim());
  for (const path of ['/v1/account', '/v1/keys', '/healthz']) assert.ok(normalised.includes(path), `${path} shown; got ${normalised.join(', ')}`);
  assert.equal(await page.locator('.info .title').first().textContent().then((t) => t?.includes('Coffer API')), true);
  assert.deepEqual(violations, []);
  assert.deepEqual(failures, []);
  await page.close();
});
