// GET /v1/payments: every parameter, page-based pagination with HAL links, newest first, 422
// P0401 naming every bad parameter, 404 P0402 past the last page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { authorisePayment } from '../../src/payments/payer-journey.service.js';
import { assertMatchesSpec } from './contract.js';
import { assertError, card, createPayment, DECLINED, paid } from './support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

async function search(key: string, query: string) {
  const response = await coffer.request('GET', `/v1/payments${query}`, { key });
  assert.equal(response.status, 200, response.text);
  assertMatchesSpec('PaymentSearchResults', response.body);
  return response.body;
}
const ids = (body: { results: { payment_id: string }[] }) => body.results.map((r) => r.payment_id);

describe('GET /v1/payments', () => {
  test('filters by each parameter', async () => {
    const { token } = await coffer.newTenant();
    const a = (await createPayment(coffer, token, { reference: 'Ref-A', email: 'Alice@Example.org' })).body.payment_id;
    coffer.clock.advance(60_000);
    const b = await paid(coffer, token, { reference: 'ref-b', email: 'bob@example.org' });
    coffer.clock.advance(60_000);
    const c = (await createPayment(coffer, token, { reference: 'ref-c' })).body.payment_id;
    await authorisePayment(coffer.ctx, c, { card: card(DECLINED, { cardholderName: 'Carol Card' }) });

    assert.deepEqual(ids(await search(token, '')), [c, b, a]);
    assert.deepEqual(ids(await search(token, '?reference=REF-A')), [a]);
    assert.deepEqual(ids(await search(token, '?email=alice@example.org')), [a]);
    assert.deepEqual(ids(await search(token, '?state=success')), [b]);
    assert.deepEqual(ids(await search(token, '?state=failed')), [c]);
    assert.deepEqual(ids(await search(token, '?state=created')), [a]);
    assert.deepEqual(ids(await search(token, '?card_brand=visa')), [c, b]);
    assert.deepEqual(ids(await search(token, '?first_digits_card_number=444433')), [b]);
    assert.deepEqual(ids(await search(token, '?last_digits_card_number=0002')), [c]);
    assert.deepEqual(ids(await search(token, '?cardholder_name=CAROL%20CARD')), [c]);
    assert.deepEqual(ids(await search(token, '?from_date=2026-11-25T12:01:00Z')), [c, b]);
    assert.deepEqual(ids(await search(token, '?to_date=2026-11-25T12:01:00Z')), [a]);
    assert.deepEqual(ids(await search(token, '?from_settled_date=2026-11-25')), []);
    assert.deepEqual(ids(await search(token, '?agreement_id=aaaaaaaaaaaaaaaaaaaaaaaaaa')), []);
    // Unknown parameters are ignored, and left out of the links.
    const body = await search(token, '?reference=ref-b&utm=1');
    assert.equal(body._links.self.href, `${coffer.url}/v1/payments?reference=ref-b&page=1&display_size=500`);
  });

  test('pagination: display_size, page, HAL links, and 404 P0402 past the end', async () => {
    const { token } = await coffer.newTenant();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      coffer.clock.advance(1000);
      created.push((await createPayment(coffer, token)).body.payment_id);
    }
    const page2 = await search(token, '?display_size=2&page=2');
    assert.equal(page2.total, 5);
    assert.equal(page2.count, 2);
    assert.equal(page2.page, 2);
    assert.deepEqual(ids(page2), [created[2], created[1]]);
    const link = (page: number) => ({ href: `${coffer.url}/v1/payments?page=${page}&display_size=2` });
    assert.deepEqual(page2._links, { self: link(2), first_page: link(1), last_page: link(3), prev_page: link(1), next_page: link(3) });
    // Search results carry no payer links.
    assert.equal(page2.results[0].next_url, undefined);
    assert.equal(page2.results[0]._links.next_url, undefined);
    assert.ok(page2.results[0]._links.cancel);
    assertError(await coffer.request('GET', '/v1/payments?display_size=2&page=4', { key: token }), 404, 'P0402');
    const empty = await coffer.newTenant();
    assert.equal((await search(empty.token, '')).total, 0);
  });

  test('422 P0401 lists every bad parameter', async () => {
    const { token } = await coffer.newTenant();
    const response = await coffer.request(
      'GET',
      '/v1/payments?state=capturable&from_date=2026-11-25&display_size=501&page=0&first_digits_card_number=12345&last_digits_card_number=abcd&card_brand=' + 'x'.repeat(21),
      { key: token },
    );
    assertError(response, 422, 'P0401', {
      description:
        'Invalid parameters: state, card_brand, from_date, first_digits_card_number, last_digits_card_number, page, display_size. See Public API documentation for the correct data formats',
    });
    assertError(await coffer.request('GET', '/v1/payments?reference=a&reference=b', { key: token }), 422, 'P0401', {
      description: 'Invalid parameters: reference. See Public API documentation for the correct data formats',
    });
    assertError(await coffer.request('GET', `/v1/payments?reference=${'r'.repeat(256)}`, { key: token }), 422, 'P0401');
    assertError(await coffer.request('GET', '/v1/payments?to_settled_date=25-11-2026', { key: token }), 422, 'P0401');
  });
});
