// Webhook delivery end to end: real payments change state, the fan-out turns their events into
// messages, the delivery worker POSTs them to a real receiver on loopback, and the receiver
// checks both signature schemes. The clock is frozen and moved by hand for retries.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import {
  cancelPayment,
  newPayment,
  newWebhookTenant,
  runWebhookWorkers,
  startReceiver,
  verifyWithStandardWebhooks,
  type Receiver,
} from './support.js';
import { verifyPaySignature, verifyStandardWebhook } from '../../src/webhooks/verify.js';
import { deliverDueMessages } from '../../src/webhooks/delivery.worker.js';
import { claimDueMessages } from '../../src/webhooks/webhook.repo.js';
import { webhookFanoutWorker } from '../../src/webhooks/fanout.worker.js';
import { listEventsForResource } from '../../src/events/event.repo.js';
import { openStore } from '../../src/store/database.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let coffer: TestCoffer;
let receiver: Receiver;
before(async () => {
  coffer = await startCoffer();
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
  await coffer.close();
});
beforeEach(async () => {
  // Messages left due by an earlier test must not be delivered inside this one.
  coffer.clock.advance(30 * DAY);
  await runWebhookWorkers(coffer);
  receiver.requests.length = 0;
  receiver.replies = [];
  coffer.ctx.webhooks = { allowPrivateNetworks: ['loopback'] };
});

describe('webhook delivery', () => {
  test('a cancelled payment reaches the endpoint as GOV.UK Pay sends it, signed in both schemes', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url, { description: 'Council tax' });
    assert.match(tenant.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const paymentId = await newPayment(coffer, tenant.token);
    await cancelPayment(coffer, tenant.token, paymentId);
    assert.equal(await runWebhookWorkers(coffer), 1);

    assert.equal(receiver.requests.length, 1);
    const request = receiver.requests[0]!;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/webhooks/coffer');
    assert.equal(request.headers['content-type'], 'application/json');

    const body = JSON.parse(request.body);
    assert.deepEqual(Object.keys(body), ['webhook_message_id', 'created_date', 'resource_id', 'api_version', 'resource_type', 'event_type', 'resource']);
    assert.match(body.webhook_message_id, /^[0-9a-v]{26}$/);
    assert.equal(body.resource_id, paymentId);
    assert.equal(body.api_version, 1);
    assert.equal(body.resource_type, 'payment');
    assert.equal(body.event_type, 'card_payment_cancelled');
    assert.equal(body.created_date, coffer.clock.now().toISOString());
    const payment = await coffer.request('GET', `/v1/payments/${paymentId}`, { key: tenant.token });
    assert.equal(body.resource.payment_id, paymentId);
    assert.deepEqual(body.resource.state, payment.body.state);
    assert.equal(body.resource.amount, payment.body.amount);
    assert.equal(body.resource.reference, payment.body.reference);

    // Standard Webhooks, checked by its own library.
    assert.deepEqual(verifyWithStandardWebhooks(tenant.secret, request, coffer.clock.now()), body);
    assert.equal(request.headers['webhook-id'], body.webhook_message_id);
    assert.equal(request.headers['webhook-timestamp'], String(Math.floor(coffer.clock.now().getTime() / 1000)));
    assert.match(String(request.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]{43}=$/);
    // GOV.UK Pay's scheme, computed here from its definition.
    const expected = createHmac('sha256', tenant.secret).update(request.body).digest('hex');
    assert.equal(request.headers['pay-signature'], expected);
    // And the helper Coffer ships for receivers agrees with both.
    assert.equal(verifyPaySignature(request.body, String(request.headers['pay-signature']), [tenant.secret]), true);
    assert.equal(verifyStandardWebhook(request.body, request.headers as Record<string, string>, [tenant.secret], { now: coffer.clock.now() }).valid, true);

    // A tampered body fails both.
    const tampered = request.body.replace('"amount":1450', '"amount":1');
    assert.notEqual(tampered, request.body);
    assert.equal(verifyPaySignature(tampered, String(request.headers['pay-signature']), [tenant.secret]), false);
    assert.throws(() => verifyWithStandardWebhooks(tenant.secret, { ...request, body: tampered }, coffer.clock.now()), /No matching signature/);

    const messages = await coffer.request('GET', `/v1/payments/${paymentId}/webhook-messages`, { key: tenant.token });
    assert.equal(messages.status, 200);
    assert.equal(messages.body.results.length, 1);
    assert.equal(messages.body.results[0].status, 'delivered');
    assert.equal(messages.body.results[0].body, request.body);
    assert.equal(messages.body.results[0].attempts[0].status_code, 200);
    assert.equal(messages.body.results[0].attempts[0].address, '127.0.0.1');
  });
});
