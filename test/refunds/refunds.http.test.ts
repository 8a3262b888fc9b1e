// Refunds over real HTTP: 202 with the refund, GOV.UK Pay's checks in its order (P0603, P0604,
// amount_not_available), the list and get endpoints, search with pagination, and 100
// concurrent refunds that never refund more than the payment.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { configureAccount } from '../../src/payments/account-settings.js';
import { assertMatchesSpec } from '../payments/contract.js';
import { assertError, authorised, createPayment, paid } from '../payments/support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const refund = (key: string, id: string, body: unknown) => coffer.request('POST', `/v1/payments/${id}/refunds`, { key, body });

async function refundSummary(key: string, id: string) {
  return (await coffer.request('GET', `/v1/payments/${id}`, { key })).body.refund_summary;
}

describe('POST /v1/payments/{id}/refunds', () => {
  test('202 with the refund; the payment shows what is left; refund_amount_available may be omitted', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token);
    const first = await refund(token, id, { amount: 200, refund_amount_available: 1200 });
    assert.equal(first.status, 202, first.text);
    assertMatchesSpec('Refund', first.body);
    assert.match(first.body.refund_id, /^[0-9a-v]{26}$/);
    assert.equal(first.body.payment_id, id);
    assert.equal(first.body.amount, 200);
    assert.equal(first.body.status, 'success');
    assert.equal(first.body.created_date, '2026-11-25T12:00:00.000Z');
    assert.deepEqual(first.body.settlement_summary, {});
    assert.deepEqual(first.body._links, {
      self: { href: `${coffer.url}/v1/payments/${id}/refunds/${first.body.refund_id}`, method: 'GET' },
      payment: { href: `${coffer.url}/v1/payments/${id}`, method: 'GET' },
    });
    assert.deepEqual(await refundSummary(token, id), { status: 'available', amount_available: 1000, amount_submitted: 200 });
    const second = await refund(token, id, { amount: 1000 });
    assert.equal(second.status, 202, second.text);
    assert.deepEqual(await refundSummary(token, id), { status: 'full', amount_available: 0, amount_submitted: 1200 });
    assertError(await refund(token, id, { amount: 1 }), 400, 'P0603', { description: 'The payment is not available for refund. Payment refund status: full' });
    const types = await coffer.ctx.db.selectFrom('domain_events').select(['event_type', 'resource_type']).where('resource_id', '=', first.body.refund_id).orderBy('seq').execute();
    assert.deepEqual(types, [
      { event_type: 'refund_submitted', resource_type: 'refund' },
      { event_type: 'refund_succeeded', resource_type: 'refund' },
    ]);
  });

  test('refund_amount_available must match (412 P0604); amount must fit (400 P0603 amount_not_available)', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token);
    assertError(await refund(token, id, { amount: 100, refund_amount_available: 1000 }), 412, 'P0604');
    assertError(await refund(token, id, { amount: 1201, refund_amount_available: 1200 }), 400, 'P0603', {
      description: 'The payment is not available for refund. Payment refund status: amount_not_available',
    });
    assert.deepEqual(await refundSummary(token, id), { status: 'available', amount_available: 1200, amount_submitted: 0 });
  });

  test('a payment not yet captured is pending; a failed one unavailable (400 P0603)', async () => {
    const { token } = await coffer.newTenant();
    const created = (await createPayment(coffer, token)).body.payment_id;
    assertError(await refund(token, created, { amount: 1 }), 400, 'P0603', { description: 'The payment is not available for refund. Payment refund status: pending' });
    const submitted = await authorised(coffer, token);
    assertError(await refund(token, submitted, { amount: 1 }), 400, 'P0603');
    await coffer.request('POST', `/v1/payments/${created}/cancel`, { key: token });
    assertError(await refund(token, created, { amount: 1 }), 400, 'P0603', { description: 'The payment is not available for refund. Payment refund status: unavailable' });
  });

  test('body rules: P0601 missing, P0602 invalid (400 type, 422 range), P0697 unparseable; 404 P0600', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token);
    assertError(await refund(token, id, {}), 400, 'P0601', { field: 'amount', description: 'Missing mandatory attribute: amount' });
    assertError(await refund(token, id, { amount: '100' }), 400, 'P0602', { field: 'amount' });
    assertError(await refund(token, id, { amount: 1.5 }), 400, 'P0602', { field: 'amount' });
    assertError(await refund(token, id, { amount: 0 }), 422, 'P0602', { field: 'amount', description: 'Invalid attribute value: amount. Must be greater than or equal to 1' });
    assertError(await refund(token, id, { amount: 10_000_001 }), 422, 'P0602', { field: 'amount' });
    assertError(await refund(token, id, { amount: 1, refund_amount_available: 'x' }), 400, 'P0602', { field: 'refund_amount_available' });
    const bad = await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, rawBody: '{"amount":', headers: { 'content-type': 'application/json' } });
    assertError(bad, 400, 'P0697');
    assertError(await refund(token, 'aaaaaaaaaaaaaaaaaaaaaaaaaa', { amount: 1 }), 404, 'P0600');
    assert.equal((await refundSummary(token, id)).amount_submitted, 0);
  });

  test('an account with payments disabled cannot refund: 403 P0941', async () => {
    const { token, serviceId } = await coffer.newTenant();
    const id = await paid(coffer, token);
    const account = await coffer.ctx.db.selectFrom('accounts').select('id').where('service_id', '=', serviceId).executeTakeFirstOrThrow();
    await configureAccount(coffer.ctx, account.id, { allow_moto: false, allow_moto_api: false, allow_recurring: false, allow_zero_amount: false, payments_disabled: true });
    assertError(await refund(token, id, { amount: 1 }), 403, 'P0941');
  });

  test('100 concurrent refunds never refund more than the payment', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token, { amount: 50 });
    const responses = await Promise.all(Array.from({ length: 100 }, () => refund(token, id, { amount: 1 })));
    const accepted = responses.filter((r) => r.status === 202).length;
    assert.equal(accepted, 50, JSON.stringify(responses.map((r) => r.status)));
    for (const r of responses.filter((x) => x.status !== 202)) assertError(r, 400, 'P0603');
    const rows = await coffer.ctx.db.selectFrom('refunds').select(['amount', 'status']).where('payment_id', '=', id).execute();
    assert.equal(rows.reduce((sum, r) => sum + r.amount, 0), 50);
    assert.deepEqual(await refundSummary(token, id), { status: 'full', amount_available: 0, amount_submitted: 50 });
  });

  test('concurrent refunds with refund_amount_available: one wins, the rest get 412 P0604', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token, { amount: 1000 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => refund(token, id, { amount: 600, refund_amount_available: 1000 })));
    assert.equal(responses.filter((r) => r.status === 202).length, 1);
    for (const r of responses.filter((x) => x.status !== 202)) assertError(r, 412, 'P0604');
  });
});

describe('GET refunds', () => {
  test("a payment's refunds, one refund, and 404s P0800 and P0700", async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token);
    const a = (await refund(token, id, { amount: 100 })).body;
    coffer.clock.advance(1000);
    const b = (await refund(token, id, { amount: 200 })).body;
    const list = await coffer.request('GET', `/v1/payments/${id}/refunds`, { key: token });
    assert.equal(list.status, 200);
    assertMatchesSpec('RefundForSearchResult', list.body);
    assert.equal(list.body.payment_id, id);
    assert.deepEqual(list.body._links, { self: { href: `${coffer.url}/v1/payments/${id}/refunds`, method: 'GET' }, payment: { href: `${coffer.url}/v1/payments/${id}`, method: 'GET' } });
    assert.deepEqual(list.body._embedded.refunds.map((r: { refund_id: string }) => r.refund_id), [a.refund_id, b.refund_id]);
    const one = await coffer.request('GET', `/v1/payments/${id}/refunds/${b.refund_id}`, { key: token });
    assert.equal(one.status, 200);
    assertMatchesSpec('Refund', one.body);
    assert.deepEqual(one.body, b);
    assertError(await coffer.request('GET', `/v1/payments/${id}/refunds/aaaaaaaaaaaaaaaaaaaaaaaaaa`, { key: token }), 404, 'P0700');
    assertError(await coffer.request('GET', `/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/refunds/${b.refund_id}`, { key: token }), 404, 'P0700');
    assertError(await coffer.request('GET', '/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/refunds', { key: token }), 404, 'P0800');
  });

  test('GET /v1/refunds: newest first, date filters, pages, P1101 and P1100', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      coffer.clock.advance(60_000);
      ids.push((await refund(token, id, { amount: 10 })).body.refund_id);
    }
    const all = await coffer.request('GET', '/v1/refunds', { key: token });
    assert.equal(all.status, 200);
    assertMatchesSpec('RefundSearchResults', all.body);
    assert.equal(all.body.total, 3);
    assert.deepEqual(all.body.results.map((r: { refund_id: string }) => r.refund_id), [...ids].reverse());
    const page2 = await coffer.request('GET', '/v1/refunds?display_size=2&page=2', { key: token });
    assert.deepEqual(page2.body.results.map((r: { refund_id: string }) => r.refund_id), [ids[0]]);
    assert.equal(page2.body._links.prev_page.href, `${coffer.url}/v1/refunds?page=1&display_size=2`);
    assert.equal(page2.body._links.next_page, undefined);
    const from = new Date(coffer.clock.now().getTime() - 60_000).toISOString().slice(0, 19) + 'Z';
    const filtered = await coffer.request('GET', `/v1/refunds?from_date=${from}`, { key: token });
    assert.equal(filtered.body.total, 2);
    assertError(await coffer.request('GET', '/v1/refunds?from_date=yesterday&display_size=501', { key: token }), 422, 'P1101', {
      description: 'Invalid parameters: from_date, display_size. See Public API documentation for the correct data formats',
    });
    assertError(await coffer.request('GET', '/v1/refunds?page=3&display_size=2', { key: token }), 404, 'P1100');
  });
});
