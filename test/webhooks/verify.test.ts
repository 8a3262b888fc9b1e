// The verification helper Coffer ships for receivers, against the Standard Webhooks reference
// library (signatures it makes, we accept; and the other way round, in the delivery tests),
// and the documented example receiver against a real Coffer delivery.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { verifyPaySignature, verifyStandardWebhook } from '../../src/webhooks/verify.js';
import { generateSigningSecret, signDelivery } from '../../src/webhooks/signing.js';
import { createWebhookReceiver, type ReceivedEvent } from '../../examples/webhook-receiver.js';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { cancelPayment, newPayment, newWebhookTenant, runWebhookWorkers } from './support.js';

const body = '{"webhook_message_id":"abc","event_type":"card_payment_succeeded","resource":{"amount":1450,"description":"Café £"}}';
const at = new Date('2026-11-25T12:00:00Z');

describe('verifyStandardWebhook', () => {
  test('accepts what the reference library signs', () => {
    const secret = generateSigningSecret();
    const signature = new Webhook(secret).sign('msg_1', at, body);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(at.getTime() / 1000), 'webhook-signature': signature };
    assert.deepEqual(verifyStandardWebhook(body, headers, [secret], { now: at }), { valid: true, messageId: 'msg_1', timestamp: at });
    assert.equal(verifyStandardWebhook(Buffer.from(body, 'utf8'), new Headers(headers), [secret], { now: at }).valid, true);
  });

  test('refuses a wrong secret, a changed body, a changed id, and missing headers', () => {
    const secret = generateSigningSecret();
    const headers = signDelivery([secret], 'msg_2', at, body) as unknown as Record<string, string>;
    assert.deepEqual(verifyStandardWebhook(body, headers, [generateSigningSecret()], { now: at }), { valid: false, code: 'NO_MATCHING_SIGNATURE' });
    assert.equal(verifyStandardWebhook(body.replace('1450', '1451'), headers, [secret], { now: at }).valid, false);
    assert.equal(verifyStandardWebhook(body, { ...headers, 'webhook-id': 'msg_3' }, [secret], { now: at }).valid, false);
    assert.deepEqual(verifyStandardWebhook(body, { 'webhook-id': 'x' }, [secret], { now: at }), { valid: false, code: 'MISSING_HEADERS' });
    assert.deepEqual(verifyStandardWebhook(body, { ...headers, 'webhook-timestamp': '12e3' }, [secret], { now: at }), { valid: false, code: 'INVALID_TIMESTAMP' });
  });

  test('refuses a timestamp more than five minutes away, either way', () => {
    const secret = generateSigningSecret();
    const headers = signDelivery([secret], 'msg_4', at, body) as unknown as Record<string, string>;
    const later = (s: number) => new Date(at.getTime() + s * 1000);
    assert.equal(verifyStandardWebhook(body, headers, [secret], { now: later(300) }).valid, true);
    assert.deepEqual(verifyStandardWebhook(body, headers, [secret], { now: later(301) }), { valid: false, code: 'TIMESTAMP_TOO_OLD' });
    assert.deepEqual(verifyStandardWebhook(body, headers, [secret], { now: later(-301) }), { valid: false, code: 'TIMESTAMP_TOO_NEW' });
  });

  test('during a rotation either secret verifies the two-signature header', () => {
    const old = generateSigningSecret();
    const current = generateSigningSecret();
    const headers = signDelivery([old, current], 'msg_5', at, body) as unknown as Record<string, string>;
    assert.equal(headers['webhook-signature']!.split(' ').length, 2);
    assert.equal(verifyStandardWebhook(body, headers, [old], { now: at }).valid, true);
    assert.equal(verifyStandardWebhook(body, headers, [current], { now: at }).valid, true);
    assert.equal(verifyPaySignature(body, headers['pay-signature'], [current, old]), true);
  });
});

describe('verifyPaySignature', () => {
  test('is the lower-case hex HMAC-SHA256 of the raw body keyed with the secret text', () => {
    const secret = 'webhook_test_examplesecret';
    const expected = '2b1c0d07f1e4e9a7d68a1d7f1d1e1bbf5b85ef3c1c3d8dbe1c5b2b2d8e2c9ef0';
    assert.equal(verifyPaySignature(body, expected, [secret]), false, 'a made-up value does not pass');
    const real = createHmac('sha256', secret).update(body, 'utf8').digest('hex');
    assert.equal(verifyPaySignature(body, real, [secret]), true);
    assert.equal(verifyPaySignature(body, real.toUpperCase(), [secret]), true);
    assert.equal(verifyPaySignature(body, undefined, [secret]), false);
    assert.equal(verifyPaySignature(`${body} `, real, [secret]), false);
  });
});

describe('the example receiver', () => {
  let coffer: TestCoffer;
  before(async () => {
    coffer = await startIsolatedCoffer();
  });
  after(() => coffer.close());

  test('verifies a real delivery, acts once on a re-send, and refuses a forgery', async () => {
    const events: ReceivedEvent[] = [];
    // The receiver reads its secrets per request; the secret exists once the endpoint does.
    const secrets: string[] = [];
    const server = createWebhookReceiver({ secrets, onEvent: (e) => events.push(e), now: () => coffer.clock.now() });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/coffer`;
    try {
      const tenant = await newWebhookTenant(coffer, url);
      secrets.push(tenant.secret);

      const paymentId = await newPayment(coffer, tenant.token);
      await cancelPayment(coffer, tenant.token, paymentId);
      await runWebhookWorkers(coffer);
      assert.deepEqual(events.map((e) => [e.eventType, e.resourceId]), [['card_payment_cancelled', paymentId]]);

      const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
      const message = listed.body.results[0];
      assert.equal(message.status, 'delivered');
      await coffer.request('POST', `/v1/webhooks/${tenant.webhookId}/messages/${message.id}/resend`, { key: tenant.token });
      await runWebhookWorkers(coffer);
      const again = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages/${message.id}`, { key: tenant.token });
      assert.equal(again.body.attempts.length, 2);
      assert.equal(again.body.attempts[1].status_code, 204);
      assert.equal(events.length, 1, 'the repeat was acknowledged, not acted on twice');

      const forged = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': 'x', 'webhook-timestamp': String(Math.floor(coffer.clock.now().getTime() / 1000)), 'webhook-signature': 'v1,AAAA' },
        body: message.body,
      });
      assert.equal(forged.status, 400);
      assert.equal(await forged.text(), 'NO_MATCHING_SIGNATURE');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
