// A payment's life over HTTP, with the payer's side driven through the payer-journey service
// and the sandbox processor: get (fresh next_url each time), events, cancel, capture, and the
// links each state offers. Every response is checked against GOV.UK Pay's schema.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { authorisePayment, cancelByPayer, confirmPayment, startPayerJourney } from '../../src/payments/payer-journey.service.js';
import { assertMatchesSpec } from './contract.js';
import { assertError, authorised, card, createPayment, DECLINED, paid, PROCESSING_ERROR, statusOf } from './support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

async function get(key: string, id: string) {
  const response = await coffer.request('GET', `/v1/payments/${id}`, { key });
  assert.equal(response.status, 200, response.text);
  assertMatchesSpec('PaymentWithAllLinks', response.body);
  return response;
}

async function events(key: string, id: string) {
  const response = await coffer.request('GET', `/v1/payments/${id}/events`, { key });
  assert.equal(response.status, 200, response.text);
  assertMatchesSpec('PaymentEvents', response.body);
  return response.body.events.map((e: { state: { status: string; code?: string } }) => (e.state.code ? `${e.state.status}:${e.state.code}` : e.state.status));
}

describe('GET /v1/payments/{id}', () => {
  test('each GET mints a new single-use next_url; no-store and no-cache', async () => {
    const { token } = await coffer.newTenant();
    const created = await createPayment(coffer, token);
    const first = await get(token, created.body.payment_id);
    const second = await get(token, created.body.payment_id);
    assert.notEqual(first.body._links.next_url.href, created.body._links.next_url.href);
    assert.notEqual(first.body._links.next_url.href, second.body._links.next_url.href);
    assert.equal(first.headers.get('cache-control'), 'no-store');
    assert.equal(first.headers.get('pragma'), 'no-cache');
  });

  test('an unknown or malformed id is 404 P0200', async () => {
    const { token } = await coffer.newTenant();
    assertError(await coffer.request('GET', '/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa', { key: token }), 404, 'P0200');
    assertError(await coffer.request('GET', `/v1/payments/${'x'.repeat(100)}`, { key: token }), 404, 'P0200');
  });

  test('a paid payment: success, card details, settlement summary, refund available, no next_url or cancel', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token, { email: 'payer@example.org' });
    coffer.clock.advance(1000);
    const body = (await get(token, id)).body;
    assert.deepEqual(body.state, { status: 'success', finished: true });
    assert.deepEqual(body.card_details, {
      last_digits_card_number: '1111',
      first_digits_card_number: '444433',
      cardholder_name: 'Mr Test Payer',
      expiry_date: '12/30',
      card_brand: 'Visa',
      card_type: 'credit',
    });
    assert.equal(body.card_brand, 'Visa');
    assert.deepEqual(body.authorisation_summary, { three_d_secure: { required: false } });
    assert.match(body.provider_id, /^sbx_/);
    assert.equal(body.settlement_summary.capture_submit_time, '2026-11-25T12:00:00.000Z');
    assert.equal(body.settlement_summary.captured_date, '2026-11-25');
    assert.deepEqual(body.refund_summary, { status: 'available', amount_available: 1200, amount_submitted: 0 });
    assert.equal(body._links.next_url, undefined);
    assert.equal(body._links.next_url_post, undefined);
    assert.equal(body._links.cancel, undefined);
    assert.equal(body._links.capture, undefined);
    assert.deepEqual(await events(token, id), ['created', 'started', 'submitted', 'success']);
  });

  test('delayed capture: capturable with a capture link and no next_url, then captured by the service', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token, { delayed_capture: true });
    const body = (await get(token, id)).body;
    assert.deepEqual(body.state, { status: 'capturable', finished: false });
    assert.deepEqual(body._links.capture, { href: `${coffer.url}/v1/payments/${id}/capture`, method: 'POST' });
    assert.ok(body._links.cancel);
    assert.equal(body._links.next_url, undefined);
    assert.equal(body.refund_summary.status, 'pending');
    const captured = await coffer.request('POST', `/v1/payments/${id}/capture`, { key: token });
    assert.equal(captured.status, 204, captured.text);
    assert.equal(captured.text, '');
    assert.equal(await statusOf(coffer, token, id), 'success');
    assert.deepEqual(await events(token, id), ['created', 'started', 'submitted', 'capturable', 'success']);
    // Captured already: 409 P1003.
    assertError(await coffer.request('POST', `/v1/payments/${id}/capture`, { key: token }), 409, 'P1003', { description: 'Payment cannot be captured' });
  });

  test('capture of a payment that is not capturable is 409 P1003; of an unknown one 404 P1000', async () => {
    const { token } = await coffer.newTenant();
    const created = await createPayment(coffer, token);
    assertError(await coffer.request('POST', `/v1/payments/${created.body.payment_id}/capture`, { key: token }), 409, 'P1003');
    assertError(await coffer.request('POST', '/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/capture', { key: token }), 404, 'P1000');
    assert.equal(await statusOf(coffer, token, created.body.payment_id), 'created');
  });
});

describe('POST /v1/payments/{id}/cancel', () => {
  test('cancels a created payment: 204, cancelled P0040, events record it', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id;
    const response = await coffer.request('POST', `/v1/payments/${id}/cancel`, { key: token });
    assert.equal(response.status, 204, response.text);
    const body = (await get(token, id)).body;
    assert.deepEqual(body.state, { status: 'cancelled', finished: true, code: 'P0040', message: 'Payment was cancelled by the service' });
    assert.equal(body._links.cancel, undefined);
    assert.equal(body.refund_summary.status, 'unavailable');
    assert.deepEqual(await events(token, id), ['created', 'cancelled:P0040']);
  });

  test('cancels an authorised payment by voiding it at the processor', async () => {
    const { token } = await coffer.newTenant();
    const id = await authorised(coffer, token);
    assert.equal(await statusOf(coffer, token, id), 'submitted');
    assert.equal((await coffer.request('POST', `/v1/payments/${id}/cancel`, { key: token })).status, 204);
    const row = await coffer.ctx.db.selectFrom('payments').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'system_cancelled');
    const types = await coffer.ctx.db.selectFrom('domain_events').select('event_type').where('resource_id', '=', id).orderBy('seq').execute();
    assert.deepEqual(
      types.map((t) => t.event_type),
      ['payment_created', 'payment_started', 'authorisation_submitted', 'authorisation_succeeded', 'payment_cancelled', 'processor_cancel_confirmed'],
    );
  });

  test('a finished payment cannot be cancelled: 400 P0501; unknown: 404 P0500', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token);
    assertError(await coffer.request('POST', `/v1/payments/${id}/cancel`, { key: token }), 400, 'P0501', { description: 'Cancellation of payment failed' });
    assertError(await coffer.request('POST', '/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/cancel', { key: token }), 404, 'P0500');
    assert.equal(await statusOf(coffer, token, id), 'success');
  });

  test('a payment in the middle of authorisation cannot be cancelled: 409 P0502', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id;
    await coffer.ctx.db.updateTable('payments').set({ status: 'authorisation_ready' }).where('id', '=', id).execute();
    assertError(await coffer.request('POST', `/v1/payments/${id}/cancel`, { key: token }), 409, 'P0502');
  });
});

describe('the payer side (through the payer-journey service)', () => {
  test('a declined card: failed P0010, card summary kept', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id;
    await startPayerJourney(coffer.ctx, id);
    const result = await authorisePayment(coffer.ctx, id, { card: card(DECLINED) });
    assert.equal(result.outcome, 'rejected');
    const body = (await get(token, id)).body;
    assert.deepEqual(body.state, { status: 'failed', finished: true, code: 'P0010', message: 'Payment method rejected' });
    assert.equal(body.card_details.last_digits_card_number, '0002');
    assert.deepEqual(await events(token, id), ['created', 'started', 'failed:P0010']);
  });

  test('a processing error: error P0050', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id;
    const result = await authorisePayment(coffer.ctx, id, { card: card(PROCESSING_ERROR) });
    assert.equal(result.outcome, 'error');
    assert.deepEqual((await get(token, id)).body.state, { status: 'error', finished: true, code: 'P0050', message: 'Payment provider returned an error' });
  });

  test('the payer cancels: failed P0030', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id;
    await startPayerJourney(coffer.ctx, id);
    assert.equal((await cancelByPayer(coffer.ctx, id)).outcome, 'cancelled');
    assert.deepEqual((await get(token, id)).body.state, { status: 'failed', finished: true, code: 'P0030', message: 'Payment was cancelled by the user' });
    assert.equal((await confirmPayment(coffer.ctx, id)).outcome, 'not_allowed_in_state');
  });
});
