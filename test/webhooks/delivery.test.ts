// Webhook delivery end to end: real payments change state, the fan-out turns their events into
// messages, the delivery worker POSTs them to a real receiver on loopback, and the receiver
// checks both signature schemes. The clock is frozen and moved by hand for retries.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startIsolatedCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import {
  cancelPayment,
  fanOutEverything,
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
import { webhookRetentionWorker } from '../../src/webhooks/retention.worker.js';
import { listEventsForResource, recordDomainEvent } from '../../src/events/event.repo.js';
import { openStore } from '../../src/store/database.js';
import { authorisePayment, confirmPayment, startPayerJourney } from '../../src/payments/payer-journey.service.js';
import { card, VISA_OK } from '../payments/support.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let coffer: TestCoffer;
let receiver: Receiver;
before(async () => {
  coffer = await startIsolatedCoffer();
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

  test('a payer’s whole journey and a refund arrive as started, succeeded, captured and refunded', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    const paymentId = await newPayment(coffer, tenant.token);
    assert.equal((await startPayerJourney(coffer.ctx, paymentId)).outcome, 'started');
    assert.equal((await authorisePayment(coffer.ctx, paymentId, { card: card(VISA_OK) })).outcome, 'authorised');
    assert.equal((await confirmPayment(coffer.ctx, paymentId)).outcome, 'success');
    await runWebhookWorkers(coffer);
    const refund = await coffer.request('POST', `/v1/payments/${paymentId}/refunds`, { key: tenant.token, body: { amount: 450, refund_amount_available: 1450 } });
    assert.equal(refund.status, 202, refund.text);
    await runWebhookWorkers(coffer);

    const bodies = receiver.requests.map((r) => JSON.parse(r.body));
    // Delivery is at least once and not ordered (as GOV.UK Pay's): compare as a set.
    assert.deepEqual(
      bodies.map((b) => b.event_type).sort(),
      ['card_payment_captured', 'card_payment_refunded', 'card_payment_started', 'card_payment_succeeded'],
    );
    for (const b of bodies) assert.equal(b.resource_id, paymentId, 'a refund’s webhook is about its payment');
    const refunded = bodies.find((b) => b.event_type === 'card_payment_refunded');
    assert.equal(refunded.resource.refund_summary.amount_submitted, 450);
    assert.equal(refunded.resource.card_details.last_digits_card_number, '1111');
    for (const r of receiver.requests) verifyWithStandardWebhooks(tenant.secret, r, coffer.clock.now());
  });

  test('an endpoint hears only the types it subscribed to, only while active, and only about its own account', async () => {
    const other = await startReceiver();
    try {
      const tenant = await newWebhookTenant(coffer, receiver.url, { subscriptions: ['card_payment_succeeded'] });
      const inactive = await newWebhookTenant(coffer, other.url, { status: 'inactive' });
      const neighbour = await newWebhookTenant(coffer, other.url);
      await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
      await cancelPayment(coffer, inactive.token, await newPayment(coffer, inactive.token));
      await runWebhookWorkers(coffer);
      assert.equal(receiver.requests.length, 0, 'a cancel is not what this endpoint asked for');
      assert.equal(other.requests.length, 0, 'neither the inactive endpoint nor the neighbour hears of these payments');
      await cancelPayment(coffer, neighbour.token, await newPayment(coffer, neighbour.token));
      await runWebhookWorkers(coffer);
      assert.equal(other.requests.length, 1);
      assert.equal(JSON.parse(other.requests[0]!.body).event_type, 'card_payment_cancelled');
    } finally {
      await other.close();
    }
  });

  test('running the fan-out twice never makes a second message for the same event', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await fanOutEverything(coffer);
    await webhookFanoutWorker.run(coffer.ctx);
    const messages = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    assert.equal(messages.body.results.length, 1);
    await runWebhookWorkers(coffer);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 1);
  });

  test('failures are retried on the schedule with the same message id until a 2xx', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    receiver.replies = [{ status: 500 }, { status: 503 }, { status: 204 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 1);

    coffer.clock.advance(MINUTE - 1000);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 1, 'not before the first retry is due (1 min)');
    coffer.clock.advance(7 * 1000 + 1000); // past 1 min plus the most jitter (10% of the gap)
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 2);

    coffer.clock.advance(3 * MINUTE);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 2, 'the second retry is 5 min after the start');
    coffer.clock.advance(2 * MINUTE);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 3);

    const ids = new Set(receiver.requests.map((r) => r.headers['webhook-id']));
    assert.equal(ids.size, 1, 'every attempt carries the same webhook-id');
    assert.equal(new Set(receiver.requests.map((r) => r.body)).size, 1, 'and the same bytes');
    assert.equal(new Set(receiver.requests.map((r) => r.headers['webhook-timestamp'])).size, 3, 'each attempt is timestamped anew');
    assert.deepEqual(verifyWithStandardWebhooks(tenant.secret, receiver.requests[2]!, coffer.clock.now()), JSON.parse(receiver.requests[2]!.body));

    const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    const message = listed.body.results[0];
    assert.equal(message.status, 'delivered');
    assert.equal(message.attempt_count, 3);
    assert.deepEqual(message.attempts.map((a: { status_code: number }) => a.status_code), [500, 503, 204]);
    assert.deepEqual(message.attempts.map((a: { outcome: string }) => a.outcome), ['failed', 'failed', 'succeeded']);
    assert.equal(message.attempts[0].error, 'HTTP 500');
    assert.ok(message.attempts[0].next_attempt_date);
    const attempts = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/attempts`, { key: tenant.token });
    assert.deepEqual(attempts.body.results.map((a: { attempt_number: number }) => a.attempt_number), [3, 2, 1]);
    const endpoint = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}`, { key: tenant.token });
    assert.equal(endpoint.body.failing_since, null, 'a success clears the failure record');
    assert.equal(endpoint.body.last_success_date, coffer.clock.now().toISOString());
  });

  test('a message that never gets a 2xx is tried ten times over three days, then abandoned', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    receiver.replies = [{ status: 500 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    for (let hour = 0; hour < 80; hour++) {
      coffer.clock.advance(HOUR);
      await runWebhookWorkers(coffer);
    }
    assert.equal(receiver.requests.length, 10);
    const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages?status=abandoned`, { key: tenant.token });
    assert.equal(listed.body.results.length, 1);
    assert.equal(listed.body.results[0].attempt_count, 10);
    assert.equal(listed.body.results[0].next_attempt_date, null);
    const endpoint = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}`, { key: tenant.token });
    assert.equal(endpoint.body.status, 'active', 'three days of failure is not yet five');
  });

  test('Retry-After pushes the next attempt later than the schedule would', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    receiver.replies = [{ status: 429, headers: { 'retry-after': '3600' } }, { status: 200 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    const first = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    assert.equal(first.body.results[0].next_attempt_date, new Date(coffer.clock.now().getTime() + HOUR).toISOString());
    coffer.clock.advance(30 * MINUTE);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 1, 'the 1-minute retry waited for the hour asked');
    coffer.clock.advance(30 * MINUTE);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 2);
  });

  test('a receiver that does not answer in time is a failure, retried later', async () => {
    coffer.ctx.webhooks = { allowPrivateNetworks: ['loopback'], timeoutMs: 300 };
    const tenant = await newWebhookTenant(coffer, receiver.url);
    receiver.replies = [{ status: 200, hang: true }, { status: 200 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    assert.equal(listed.body.results[0].status, 'pending');
    assert.equal(listed.body.results[0].attempts[0].error, 'timed out after 300 ms');
    assert.equal(listed.body.results[0].attempts[0].status_code, null);
    coffer.clock.advance(2 * MINUTE);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 2);
    const after = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    assert.equal(after.body.results[0].status, 'delivered');
  });

  test('a redirect is a failure and is not followed', async () => {
    const elsewhere = await startReceiver();
    try {
      const tenant = await newWebhookTenant(coffer, receiver.url);
      receiver.replies = [{ status: 302, headers: { location: elsewhere.url } }];
      await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
      await runWebhookWorkers(coffer);
      assert.equal(elsewhere.requests.length, 0);
      const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
      assert.equal(listed.body.results[0].status, 'pending');
      assert.equal(listed.body.results[0].attempts[0].status_code, 302);
      assert.match(listed.body.results[0].attempts[0].error, /redirect \(302\) not followed/);
    } finally {
      await elsewhere.close();
    }
  });

  test('a connection refused is recorded as such and retried', async () => {
    const gone = await startReceiver();
    const url = gone.url;
    await gone.close();
    const tenant = await newWebhookTenant(coffer, url);
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    assert.equal(listed.body.results[0].status, 'pending');
    assert.equal(listed.body.results[0].attempts[0].error, 'connection refused');
  });

  test('410 Gone disables the endpoint at once, abandons what it had pending and records an event for alerts', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    receiver.replies = [{ status: 500 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'first'));
    await runWebhookWorkers(coffer);
    receiver.replies = [{ status: 410 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'second'));
    await runWebhookWorkers(coffer);
    const endpoint = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}`, { key: tenant.token });
    assert.equal(endpoint.body.status, 'disabled');
    assert.equal(endpoint.body.disabled_reason, 'The endpoint answered 410 Gone');
    const pending = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages?status=pending`, { key: tenant.token });
    assert.equal(pending.body.results.length, 0);
    const events = await listEventsForResource(coffer.ctx.db, endpoint.body.id ? (await accountOf(tenant.token)) : '', 'webhook_endpoint', tenant.webhookId);
    assert.deepEqual(events.map((e) => e.event_type), ['webhook_endpoint_disabled']);

    const requestsBefore = receiver.requests.length;
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'third'));
    coffer.clock.advance(DAY);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, requestsBefore, 'a disabled endpoint is sent nothing');

    const resumed = await coffer.request('PATCH', `/v1/webhooks/${tenant.webhookId}`, { key: tenant.token, body: { status: 'active' } });
    assert.equal(resumed.body.status, 'active');
    assert.equal(resumed.body.disabled_reason, null);
  });

  test('an endpoint failing for five days without a success is disabled', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    receiver.replies = [{ status: 500 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'day-0'));
    await runWebhookWorkers(coffer);
    const failing = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}`, { key: tenant.token });
    assert.equal(failing.body.failing_since, coffer.clock.now().toISOString());
    for (let day = 1; day <= 5; day++) {
      coffer.clock.advance(DAY);
      await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, `day-${day}`));
      await runWebhookWorkers(coffer);
      const endpoint = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}`, { key: tenant.token });
      assert.equal(endpoint.body.status, day < 5 ? 'active' : 'disabled', `day ${day}`);
    }
    const endpoint = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}`, { key: tenant.token });
    assert.equal(endpoint.body.disabled_reason, 'No successful delivery for 5 days');
  });

  test('after a secret rotation both secrets sign until the overlap ends', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    const rotated = await coffer.request('POST', `/v1/webhooks/${tenant.webhookId}/rotate-secret`, { key: tenant.token, body: { overlap: '1h' } });
    assert.equal(rotated.status, 200);
    const newSecret = rotated.body.signing_secret as string;
    assert.notEqual(newSecret, tenant.secret);
    assert.equal(rotated.body.previous_secrets_expire_date, new Date(coffer.clock.now().getTime() + HOUR).toISOString());

    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'during'));
    await runWebhookWorkers(coffer);
    const during = receiver.requests[0]!;
    assert.equal(String(during.headers['webhook-signature']).split(' ').length, 2);
    verifyWithStandardWebhooks(tenant.secret, during, coffer.clock.now());
    verifyWithStandardWebhooks(newSecret, during, coffer.clock.now());
    assert.equal(verifyPaySignature(during.body, String(during.headers['pay-signature']), [tenant.secret]), true, 'Pay-Signature keeps the secret receivers have');
    assert.equal(verifyPaySignature(during.body, String(during.headers['pay-signature']), [newSecret, tenant.secret]), true);

    coffer.clock.advance(HOUR);
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'after'));
    await runWebhookWorkers(coffer);
    const later = receiver.requests[1]!;
    assert.equal(String(later.headers['webhook-signature']).split(' ').length, 1);
    verifyWithStandardWebhooks(newSecret, later, coffer.clock.now());
    assert.throws(() => verifyWithStandardWebhooks(tenant.secret, later, coffer.clock.now()), /No matching signature/);
    assert.equal(verifyPaySignature(later.body, String(later.headers['pay-signature']), [newSecret]), true);
    assert.equal(verifyPaySignature(later.body, String(later.headers['pay-signature']), [tenant.secret]), false);
  });

  test('a message can be sent again by hand, keeping its id', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    const messageId = listed.body.results[0].id as string;
    const resent = await coffer.request('POST', `/v1/webhooks/${tenant.webhookId}/messages/${messageId}/resend`, { key: tenant.token });
    assert.equal(resent.status, 202);
    assert.equal(resent.body.status, 'pending');
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 2);
    assert.equal(receiver.requests[1]!.headers['webhook-id'], messageId);
    const message = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages/${messageId}`, { key: tenant.token });
    assert.equal(message.body.status, 'delivered');
    assert.equal(message.body.attempt_count, 2);
  });

  test('finished messages are deleted with their attempts after 30 days; pending ones are kept', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'kept-a-month'));
    await runWebhookWorkers(coffer);
    const list = async () => (await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token })).body.results;
    assert.equal((await list()).length, 1);
    coffer.clock.advance(29 * DAY);
    receiver.replies = [{ status: 500 }];
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, 'still-pending'));
    await runWebhookWorkers(coffer);
    while ((await webhookRetentionWorker.run(coffer.ctx)).more);
    assert.deepEqual((await list()).map((m: { status: string }) => m.status).sort(), ['delivered', 'pending'], 'not yet 30 days');
    coffer.clock.advance(DAY + 1);
    while ((await webhookRetentionWorker.run(coffer.ctx)).more);
    const left = await list();
    assert.deepEqual(left.map((m: { status: string }) => m.status), ['pending']);
    const attempts = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/attempts`, { key: tenant.token });
    assert.equal(attempts.body.results.length, 1, 'the old message’s attempts went with it');
  });

  test('two workers running at once never send the same message twice', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    for (let i = 0; i < 30; i++) await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, `p-${i}`));
    await fanOutEverything(coffer);
    // On PostgreSQL the second worker has its own connection pool, as another node would.
    const otherStore = usingPostgres() ? await openStore({ databaseUrl: process.env.COFFER_TEST_DATABASE_URL, poolSize: 3 }) : undefined;
    try {
      const otherCtx = otherStore ? { ...coffer.ctx, db: otherStore.db } : coffer.ctx;
      const results = await Promise.all([deliverDueMessages(coffer.ctx), deliverDueMessages(otherCtx), deliverDueMessages(coffer.ctx), deliverDueMessages(otherCtx)]);
      assert.equal(results.reduce((n, r) => n + r.handled, 0), 30);
    } finally {
      await otherStore?.close();
    }
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 30);
    assert.equal(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size, 30);
  });

  test('a worker that dies holding a claim loses nothing: the message is sent once its lease runs out', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await fanOutEverything(coffer);
    const now = coffer.clock.now();
    // Claim as a worker would, then "die": no attempt, no outcome.
    const claimed = await claimDueMessages(coffer.ctx.db, now, new Date(now.getTime() + 70_000), 'dead-worker', 20);
    assert.equal(claimed.length, 1);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 0, 'the lease keeps other workers off');
    coffer.clock.advance(70_000);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0]!.headers['webhook-id'], claimed[0]!.id);
  });
});

describe('crash safety', { skip: !usingPostgres() && 'a second process needs PostgreSQL (the embedded store has one owner)' }, () => {
  test('a node killed with SIGKILL mid-delivery loses nothing: another node delivers after the lease', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    for (let i = 0; i < 3; i++) await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token, `crash-${i}`));
    await fanOutEverything(coffer);
    receiver.replies = [{ status: 200, hang: true }];
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/delivery-node.ts', import.meta.url))], {
      env: {
        ...process.env,
        NODE_CLOCK: coffer.clock.now().toISOString(),
        NODE_MASTER_KEY: coffer.ctx.masterKey.key.toString('base64'),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      // Wait until the other node is in the middle of all three deliveries, then kill it.
      while (receiver.requests.length < 3) {
        if (child.exitCode !== null) assert.fail(`the node exited early (${child.exitCode})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      await once(child, 'exit');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    receiver.replies = [{ status: 200 }];
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 3, 'the claims are leased: nobody sends them again at once');
    coffer.clock.advance(10_000 + 60_000);
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 6);
    const ids = receiver.requests.map((r) => r.headers['webhook-id']);
    assert.deepEqual([...new Set(ids.slice(3))].sort(), [...new Set(ids.slice(0, 3))].sort(), 'the same three messages, same ids');
    const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    assert.deepEqual(listed.body.results.map((m: { status: string }) => m.status), ['delivered', 'delivered', 'delivered']);
    assert.deepEqual(listed.body.results.map((m: { attempt_count: number }) => m.attempt_count), [2, 2, 2]);
  });
});

describe('the fan-out cursor', { skip: !usingPostgres() && 'concurrent writers need PostgreSQL' }, () => {
  test('an event committed after a later one is not skipped', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    const first = await newPayment(coffer, tenant.token, 'slow');
    const second = await newPayment(coffer, tenant.token, 'fast');
    await runWebhookWorkers(coffer);
    // A slow transaction takes its event's seq first and commits last, as a busy node would.
    const slowStore = await openStore({ databaseUrl: process.env.COFFER_TEST_DATABASE_URL, poolSize: 1 });
    try {
      const accountId = await accountOf(tenant.token);
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let recorded: () => void = () => undefined;
      const inserted = new Promise<void>((resolve) => (recorded = resolve));
      const slow = slowStore.db.transaction().execute(async (trx) => {
        await recordDomainEvent(trx, {
          serviceId: tenant.serviceId,
          accountId,
          resourceType: 'payment',
          resourceId: first,
          eventType: 'payment_expired',
          occurredAt: coffer.clock.now(),
        });
        recorded();
        await held;
      });
      await inserted;
      await cancelPayment(coffer, tenant.token, second);
      await runWebhookWorkers(coffer, { settleMs: 0 });
      assert.deepEqual(receiver.requests.map((r) => JSON.parse(r.body).resource_id), [], 'nothing passes an unfinished transaction');
      release();
      await slow;
      await runWebhookWorkers(coffer);
      assert.deepEqual(receiver.requests.map((r) => JSON.parse(r.body).event_type).sort(), ['card_payment_cancelled', 'card_payment_expired']);
    } finally {
      await slowStore.close();
    }
  });
});

async function accountOf(token: string): Promise<string> {
  return (await coffer.request('GET', '/v1/account', { key: token })).body.account_id as string;
}
