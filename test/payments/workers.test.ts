// The expiry and reconciling workers, run directly after moving the frozen clock; and the races
// they and the API must win exactly once (concurrent captures, workers on several nodes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { govukStyleId } from '../../src/platform/random.js';
import { paymentExpiryWorker, paymentReconcileWorker } from '../../src/payments/payment.workers.js';
import { startPayerJourney } from '../../src/payments/payer-journey.service.js';
import { assertError, authorised, createPayment, paid, statusOf } from './support.js';

let coffer: TestCoffer;
// Workers act on every account: on PostgreSQL this file has a database of its own.
before(async () => {
  coffer = await startIsolatedCoffer();
});
after(() => coffer.close());

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function internal(id: string): Promise<string> {
  return (await coffer.ctx.db.selectFrom('payments').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
}
async function eventTypes(id: string): Promise<string[]> {
  return (await coffer.ctx.db.selectFrom('domain_events').select('event_type').where('resource_id', '=', id).orderBy('seq').execute()).map((e) => e.event_type);
}
async function runUntilIdle(worker: typeof paymentExpiryWorker) {
  for (let i = 0; i < 20 && (await worker.run(coffer.ctx)).more; i++);
}

describe('payment expiry', () => {
  test('unfinished payments expire 90 minutes after creation (failed P0020); authorised ones are voided', async () => {
    const { token } = await coffer.newTenant();
    const created = (await createPayment(coffer, token)).body.payment_id;
    const started = (await createPayment(coffer, token)).body.payment_id;
    await startPayerJourney(coffer.ctx, started);
    const submitted = await authorised(coffer, token);
    const capturable = await paid(coffer, token, { delayed_capture: true });
    const done = await paid(coffer, token);

    coffer.clock.advance(90 * MINUTE - 1000);
    await runUntilIdle(paymentExpiryWorker);
    assert.equal(await statusOf(coffer, token, created), 'created');

    coffer.clock.advance(2000);
    await runUntilIdle(paymentExpiryWorker);
    for (const id of [created, started, submitted]) {
      const body = (await coffer.request('GET', `/v1/payments/${id}`, { key: token })).body;
      assert.deepEqual(body.state, { status: 'failed', finished: true, code: 'P0020', message: 'Payment expired' }, id);
      assert.equal(body._links.next_url, undefined);
    }
    assert.equal(await internal(submitted), 'expired');
    assert.deepEqual((await eventTypes(submitted)).slice(-2), ['payment_expired', 'processor_cancel_confirmed']);
    assert.deepEqual((await eventTypes(created)).slice(-1), ['payment_expired']);
    assert.equal(await statusOf(coffer, token, capturable), 'capturable');
    assert.equal(await statusOf(coffer, token, done), 'success');

    coffer.clock.advance(120 * HOUR - 90 * MINUTE);
    await runUntilIdle(paymentExpiryWorker);
    assert.equal(await statusOf(coffer, token, capturable), 'failed');
    // Capture after 120 hours fails: the payment has expired.
    assertError(await coffer.request('POST', `/v1/payments/${capturable}/capture`, { key: token }), 409, 'P1003');
  });

  test('workers on several nodes at once expire each payment exactly once', async () => {
    const { token } = await coffer.newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await createPayment(coffer, token)).body.payment_id);
    coffer.clock.advance(91 * MINUTE);
    await Promise.all(Array.from({ length: 4 }, () => paymentExpiryWorker.run(coffer.ctx)));
    for (const id of ids) assert.deepEqual((await eventTypes(id)).filter((e) => e === 'payment_expired'), ['payment_expired']);
  });

  test('used payer tokens are swept after 7 days and idempotency keys after 24 hours', async () => {
    const { token } = await coffer.newTenant();
    const created = await coffer.request('POST', '/v1/payments', { key: token, body: { amount: 1, reference: 'r', description: 'd', return_url: 'https://x.org' }, headers: { 'idempotency-key': 'sweep-me' } });
    const id = created.body.payment_id;
    coffer.clock.advance(25 * HOUR);
    await runUntilIdle(paymentExpiryWorker);
    assert.equal((await coffer.ctx.db.selectFrom('payment_idempotency_keys').select('payment_id').where('payment_id', '=', id).execute()).length, 0);
    assert.equal((await coffer.ctx.db.selectFrom('payment_tokens').select('payment_id').where('payment_id', '=', id).execute()).length, 1);
    coffer.clock.advance(7 * 24 * HOUR);
    await runUntilIdle(paymentExpiryWorker);
    assert.equal((await coffer.ctx.db.selectFrom('payment_tokens').select('payment_id').where('payment_id', '=', id).execute()).length, 0);
  });
});

describe('reconciling what was left in flight', () => {
  test('stuck authorisation → error P0050; stuck capture → captured; stuck void → cancelled; stuck refund → sent', async () => {
    const { token } = await coffer.newTenant();
    const authorising = (await createPayment(coffer, token)).body.payment_id;
    const capturing = await authorised(coffer, token);
    const voiding = await authorised(coffer, token);
    const refunded = await paid(coffer, token);
    const now = coffer.clock.now();
    await coffer.ctx.db.updateTable('payments').set({ status: 'authorisation_ready', updated_at: now }).where('id', '=', authorising).execute();
    await coffer.ctx.db.updateTable('payments').set({ status: 'capture_submitted', capture_submitted_at: now, updated_at: now }).where('id', '=', capturing).execute();
    await coffer.ctx.db.updateTable('payments').set({ status: 'system_cancel_ready', updated_at: now }).where('id', '=', voiding).execute();
    // A refund whose processor call never happened (the node died after commit).
    const stuckRefundId = govukStyleId();
    const paymentRow = await coffer.ctx.db.selectFrom('payments').select(['account_id', 'service_id']).where('id', '=', refunded).executeTakeFirstOrThrow();
    await coffer.ctx.db
      .insertInto('refunds')
      .values({ id: stuckRefundId, payment_id: refunded, service_id: paymentRow.service_id, account_id: paymentRow.account_id, amount: 100, status: 'submitted', processor_reference: null, created_at: now, updated_at: now })
      .execute();
    await coffer.ctx.db.updateTable('payments').set({ refunded_amount: 100 }).where('id', '=', refunded).execute();

    // Not yet stuck: nothing happens.
    coffer.clock.advance(4 * MINUTE);
    await paymentReconcileWorker.run(coffer.ctx);
    assert.deepEqual(
      [await internal(authorising), await internal(capturing), await internal(voiding)],
      ['authorisation_ready', 'capture_submitted', 'system_cancel_ready'],
    );
    coffer.clock.advance(2 * MINUTE);
    await paymentReconcileWorker.run(coffer.ctx);
    assert.equal(await internal(authorising), 'authorisation_error');
    assert.equal(await internal(capturing), 'captured');
    assert.equal(await internal(voiding), 'system_cancelled');
    const refund = await coffer.request('GET', `/v1/payments/${refunded}/refunds/${stuckRefundId}`, { key: token });
    assert.equal(refund.body.status, 'success');
    assert.equal((await coffer.request('GET', `/v1/payments/${capturing}`, { key: token })).body.settlement_summary.captured_date, coffer.clock.now().toISOString().slice(0, 10));
  });

});

describe('concurrent captures', () => {
  test('20 concurrent captures capture once', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token, { delayed_capture: true });
    const responses = await Promise.all(Array.from({ length: 20 }, () => coffer.request('POST', `/v1/payments/${id}/capture`, { key: token })));
    const statuses = responses.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 204).length, 1, JSON.stringify(statuses));
    for (const r of responses.filter((x) => x.status !== 204)) assertError(r, 409, 'P1003');
    assert.deepEqual((await eventTypes(id)).filter((e) => e === 'payment_captured'), ['payment_captured']);
    assert.equal(await statusOf(coffer, token, id), 'success');
  });

  test('a capture racing a cancel: exactly one of them wins', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token, { delayed_capture: true });
    const [capture, cancel] = await Promise.all([
      coffer.request('POST', `/v1/payments/${id}/capture`, { key: token }),
      coffer.request('POST', `/v1/payments/${id}/cancel`, { key: token }),
    ]);
    assert.equal([capture.status, cancel.status].filter((s) => s === 204).length, 1, `${capture.status} ${cancel.status}`);
    assert.ok(['success', 'cancelled'].includes(await statusOf(coffer, token, id)));
  });
});
