// The console's webhook pages in a real browser, as a developer would use them: add an endpoint
// (the signing secret shown once, and it really signs: the delivery to a real receiver on
// loopback verifies with the `standardwebhooks` package), the messages list with every attempt,
// re-send, edit, rotate with overlap, switch off and on, and the notice for an endpoint Coffer
// disabled after failures. A description full of markup shows as text; axe on every page; a
// view-only user is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser } from '../support/browser.js';
import { cancelPayment, newPayment, runWebhookWorkers, startReceiver, verifyWithStandardWebhooks, type Receiver } from '../webhooks/support.js';
import { disableEndpoint } from '../../src/webhooks/webhook.repo.js';
import { listEndpointsForAccount } from '../../src/webhooks/webhook.service.js';
import { findAccountByServiceAndMode } from '../../src/services/service.repo.js';
import { signedInBrowser, type SignedInBrowser } from './browser-session.js';

const HOSTILE = `<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">`;

let coffer: TestCoffer;
let browser: Browser;
let receiver: Receiver;
let dev: SignedInBrowser;
let apiKey: string;
let accountId: string;
let webhookId: string;
let secret: string;

before(async () => {
  coffer = await startIsolatedCoffer();
  receiver = await startReceiver();
  browser = await launchBrowser();
  dev = await signedInBrowser(browser, coffer, { role: 'developer' });
  apiKey = (await coffer.newKey(dev.user.serviceId, { scopes: ['payments:write', 'payments:read'] })).token;
  accountId = (await findAccountByServiceAndMode(coffer.ctx.db, dev.user.serviceId, 'test'))!.id;
});
after(async () => {
  await dev?.context.close();
  await browser?.close();
  await receiver?.close();
  await coffer?.close();
});

async function noAxeViolations(page: Page): Promise<void> {
  assert.deepEqual(await axe(page), [], `axe on ${page.url()}`);
}

async function noScriptRan(page: Page): Promise<void> {
  assert.equal(await page.evaluate('window.__pwned'), undefined);
  assert.equal(await page.locator('main img').count(), 0);
  assert.deepEqual(dev.console.errors, []);
}

describe('webhook pages', () => {
  test('add a webhook: field errors, then the secret shown once', async () => {
    const page = dev.page;
    const response = await page.goto(`${dev.base()}/webhooks`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('#no-webhooks').count(), 1);
    await noAxeViolations(page);

    await page.click('#add-webhook');
    assert.equal(await page.locator('h1').innerText(), 'Add a webhook');
    assert.equal(await page.locator('#event-card_payment_succeeded').isChecked(), true, 'payment events are chosen by default');
    assert.equal(await page.locator('#event-security_alert').isChecked(), false);
    await noAxeViolations(page);

    await page.fill('#url', 'ftp://example.org/hook');
    await page.fill('#description', HOSTILE);
    await page.click('button[type=submit]');
    assert.ok((await page.locator('.error-summary').innerText()).includes('The URL must be an http:// or https:// URL'));
    assert.equal(await page.inputValue('#description'), HOSTILE, 'what was typed comes back');
    await noAxeViolations(page);

    await page.fill('#url', 'http://10.0.0.1/hook');
    await page.click('button[type=submit]');
    assert.ok((await page.locator('.error-summary').innerText()).includes('address, which webhooks may not reach'));

    await page.fill('#url', receiver.url);
    await page.click('button[type=submit]');
    assert.equal(await page.locator('h1').innerText(), 'Webhook added');
    secret = (await page.locator('#signing-secret').innerText()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{32,}$/);
    await noAxeViolations(page);

    const endpoints = await listEndpointsForAccount(coffer.ctx, accountId);
    assert.equal(endpoints.length, 1);
    webhookId = endpoints[0]!.id;
    assert.equal(endpoints[0]!.description, HOSTILE);
    assert.equal(endpoints[0]!.created_by, `user:${dev.user.userId}`);

    await page.goto(`${dev.base()}/webhooks`);
    assert.ok(!(await page.content()).includes(secret), 'the secret is never shown again');
    assert.ok((await page.locator(`#webhook-${webhookId}`).innerText()).includes(HOSTILE), 'the description shows as text');
    await noScriptRan(page);
  });

  test('deliveries: each attempt listed with its status, and a re-send', async () => {
    const paymentId = await newPayment(coffer, apiKey, 'WH-CONSOLE-1');
    await cancelPayment(coffer, apiKey, paymentId);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 1);
    const delivered = verifyWithStandardWebhooks(secret, receiver.requests[0]!, coffer.clock.now()) as { resource_id: string };
    assert.equal(delivered.resource_id, paymentId);

    const page = dev.page;
    await page.goto(`${dev.base()}/webhooks`);
    await page.click(`#webhook-${webhookId} a`);
    assert.equal(await page.locator('#webhook-description').innerText(), HOSTILE);
    const row = page.locator('#webhook-messages tbody tr').first();
    let text = await row.innerText();
    assert.ok(text.includes('card_payment_cancelled'));
    assert.ok(text.includes(paymentId));
    assert.ok(text.includes('delivered'));
    assert.ok(text.includes('succeeded, HTTP 200'));
    await noAxeViolations(page);
    await noScriptRan(page);

    receiver.replies = [{ status: 500 }];
    await row.locator('button').click();
    await page.waitForURL('**?done=resent');
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 2);
    assert.equal(receiver.requests[1]!.headers['webhook-id'], receiver.requests[0]!.headers['webhook-id'], 'the message keeps its id');
    await page.reload();
    text = await page.locator('#webhook-messages tbody tr').first().innerText();
    assert.ok(text.includes('failed, HTTP 500'), text);
    assert.ok(text.includes('pending'));
    receiver.replies = [{ status: 200 }];
  });

  test('edit, rotate the secret with an overlap, switch off and on', async () => {
    const page = dev.page;
    await page.goto(`${dev.base()}/webhooks/${webhookId}`);
    await page.click('#edit-webhook');
    assert.equal(await page.locator('h1').innerText(), 'Change webhook');
    await noAxeViolations(page);
    await page.fill('#description', 'Permits back office');
    await page.uncheck('#event-card_payment_expired');
    await page.click('button[type=submit]');
    await page.waitForURL('**?done=updated');
    assert.equal(await page.locator('#webhook-description').innerText(), 'Permits back office');
    const [endpoint] = await listEndpointsForAccount(coffer.ctx, accountId);
    assert.ok(!endpoint!.subscriptions.includes('card_payment_expired'));

    await page.click('#rotate-webhook');
    await noAxeViolations(page);
    await page.check('#overlap-1h');
    await page.click('button[type=submit]');
    const rotated = (await page.locator('#signing-secret').innerText()).trim();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    assert.ok((await page.locator('#rotation-overlap').innerText()).includes(new Date(coffer.clock.now().getTime() + 3_600_000).toISOString().slice(0, 19).replace('T', ' ')));
    await noAxeViolations(page);

    // Both secrets sign during the overlap.
    receiver.requests.length = 0;
    await cancelPayment(coffer, apiKey, await newPayment(coffer, apiKey, 'WH-CONSOLE-2'));
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 1);
    verifyWithStandardWebhooks(rotated, receiver.requests[0]!, coffer.clock.now());
    verifyWithStandardWebhooks(secret, receiver.requests[0]!, coffer.clock.now());

    await page.goto(`${dev.base()}/webhooks/${webhookId}`);
    await page.click('#webhook-switch button');
    await page.waitForURL('**?done=inactive');
    assert.equal(await page.locator('#webhook-status').innerText(), 'inactive');
    await page.click('#webhook-switch button');
    await page.waitForURL('**?done=active');
    assert.equal(await page.locator('#webhook-status').innerText(), 'active');
  });

  test('an endpoint disabled after failures has a clear notice with the reason, and can be switched on', async () => {
    await disableEndpoint(coffer.ctx.db, webhookId, coffer.clock.now(), 'no successful delivery for 5 days');
    const page = dev.page;
    await page.goto(`${dev.base()}/webhooks`);
    const notice = await page.locator(`#disabled-${webhookId}`).innerText();
    assert.ok(notice.includes('Deliveries to'));
    assert.ok(notice.includes('no successful delivery for 5 days'));
    assert.ok((await page.locator(`#webhook-${webhookId}`).innerText()).includes('disabled by failures'));
    await noAxeViolations(page);
    await page.click(`#disabled-${webhookId} a`);
    assert.ok((await page.locator('#disabled-notice').innerText()).includes('no successful delivery for 5 days'));
    await noAxeViolations(page);
    await page.click('#webhook-switch button');
    await page.waitForURL('**?done=active');
    assert.equal(await page.locator('#disabled-notice').count(), 0);
    await noScriptRan(page);
  });

  test('another account’s webhook answers 404, revealing nothing', async () => {
    const other = await coffer.newTenant({ scopes: ['webhooks:write'] });
    const created = await coffer.request('POST', '/v1/webhooks', { key: other.token, body: { callback_url: receiver.url, description: 'Theirs' } });
    assert.equal(created.status, 201);
    const theirs = created.body.webhook.id as string;
    for (const path of [`/webhooks/${theirs}`, `/webhooks/${theirs}/edit`, `/webhooks/${theirs}/rotate`]) {
      assert.equal((await dev.page.goto(`${dev.base()}${path}`))?.status(), 404, path);
      assert.ok(!(await dev.page.content()).includes('Theirs'));
    }
  });

  test('a view-only user is refused the webhook pages', async () => {
    const viewer = await signedInBrowser(browser, coffer, { role: 'view-only', serviceId: dev.user.serviceId });
    try {
      assert.equal((await viewer.page.goto(`${viewer.base()}/webhooks`))?.status(), 403);
      assert.equal((await viewer.page.goto(`${viewer.base()}/webhooks/${webhookId}`))?.status(), 403);
      await noAxeViolations(viewer.page);
    } finally {
      await viewer.context.close();
    }
  });
});
