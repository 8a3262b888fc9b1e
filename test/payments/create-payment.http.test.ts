// POST /v1/payments over real HTTP: the happy path (validated against GOV.UK Pay's schema), every
// field rule with its exact code and status, account features, live-mode rules and the
// Idempotency-Key. A refused request changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { prefixedId } from '../../src/platform/random.js';
import { configureAccount } from '../../src/payments/account-settings.js';
import { assertMatchesSpec } from './contract.js';
import { assertError, validPayment } from './support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

async function countPayments(serviceId: string): Promise<number> {
  const row = await coffer.ctx.db.selectFrom('payments').select((eb) => eb.fn.countAll<number>().as('n')).where('service_id', '=', serviceId).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function liveTenant(): Promise<{ serviceId: string; token: string }> {
  const serviceId = await coffer.newService('Live service');
  // Enabling live needs PostgreSQL and an operator key; the account row is what matters here.
  await coffer.ctx.db.insertInto('accounts').values({ id: prefixedId('acct'), service_id: serviceId, mode: 'live', created_at: coffer.clock.now() }).execute();
  const { token } = await coffer.newKey(serviceId, { mode: 'live' });
  return { serviceId, token };
}

describe('POST /v1/payments', () => {
  test('creates a payment: 201, Location, no-store, GOV.UK-shaped body with next_url and cancel', async () => {
    const { token } = await coffer.newTenant();
    const response = await coffer.request('POST', '/v1/payments', {
      key: token,
      body: validPayment({
        email: 'payer@example.org',
        language: 'cy',
        delayed_capture: true,
        metadata: { ledger_code: 'AB100', count: 2, vip: true },
        prefilled_cardholder_details: { cardholder_name: 'J Bloggs', billing_address: { line1: '1 High St', city: 'Cardiff', postcode: 'CF10 1AA', country: 'GB' } },
      }),
    });
    assert.equal(response.status, 201, response.text);
    const body = response.body;
    assertMatchesSpec('PaymentWithAllLinks', body);
    assert.match(body.payment_id, /^[0-9a-v]{26}$/);
    assert.equal(response.headers.get('location'), `${coffer.url}/v1/payments/${body.payment_id}`);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('pragma'), 'no-cache');
    assert.deepEqual(body.state, { status: 'created', finished: false });
    assert.equal(body.amount, 1200);
    assert.equal(body.language, 'cy');
    assert.equal(body.email, 'payer@example.org');
    assert.equal(body.delayed_capture, true);
    assert.equal(body.moto, false);
    assert.equal(body.payment_provider, 'sandbox');
    assert.equal(body.authorisation_mode, 'web');
    assert.equal(body.created_date, '2026-11-25T12:00:00.000Z');
    assert.deepEqual(body.metadata, { ledger_code: 'AB100', count: 2, vip: true });
    assert.deepEqual(body.refund_summary, { status: 'pending', amount_available: 1200, amount_submitted: 0 });
    assert.deepEqual(body.settlement_summary, {});
    assert.equal(body.card_details, undefined);
    const links = body._links;
    assert.deepEqual(links.self, { href: `${coffer.url}/v1/payments/${body.payment_id}`, method: 'GET' });
    assert.ok(links.next_url.href.startsWith(`${coffer.url}/secure/`));
    assert.match(links.next_url.href.slice(coffer.url.length), /^\/secure\/[A-Za-z0-9_-]{32}$/);
    const token1 = links.next_url.href.split('/').at(-1);
    assert.deepEqual(links.next_url_post, { type: 'application/x-www-form-urlencoded', params: { chargeTokenId: token1 }, href: `${coffer.url}/secure`, method: 'POST' });
    assert.deepEqual(links.cancel, { href: `${coffer.url}/v1/payments/${body.payment_id}/cancel`, method: 'POST' });
    assert.equal(links.capture, undefined);
  });

  test('personal data is sealed at rest, bound to its row, and the token is stored only as a hash', async () => {
    const { token } = await coffer.newTenant();
    const response = await coffer.request('POST', '/v1/payments', {
      key: token,
      body: validPayment({ email: 'secret.person@example.org', prefilled_cardholder_details: { cardholder_name: 'Secret Person' } }),
    });
    const row = await coffer.ctx.db.selectFrom('payments').selectAll().where('id', '=', response.body.payment_id).executeTakeFirstOrThrow();
    const raw = JSON.stringify(row);
    assert.ok(!raw.includes('secret.person'), 'email in clear');
    assert.ok(!raw.includes('Secret Person'), 'name in clear');
    assert.equal(row.personal_data_key_version, 1);
    assert.match(row.email_index ?? '', /^[0-9a-f]{64}$/);
    const nextToken = response.body._links.next_url.href.split('/').at(-1) as string;
    const tokens = await coffer.ctx.db.selectFrom('payment_tokens').selectAll().where('payment_id', '=', row.id).execute();
    assert.equal(tokens.length, 1);
    assert.ok(!JSON.stringify(tokens).includes(nextToken));
    // A ciphertext moved to another payment's row does not open there.
    const other = await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ email: 'x@example.org' }) });
    await coffer.ctx.db.updateTable('payments').set({ email_sealed: row.email_sealed }).where('id', '=', other.body.payment_id).execute();
    assert.equal((await coffer.request('GET', `/v1/payments/${other.body.payment_id}`, { key: token })).status, 500);
  });

  test('web mode needs return_url; GOV.UK Pay defaults apply', async () => {
    const { token } = await coffer.newTenant();
    const response = await coffer.request('POST', '/v1/payments', { key: token, body: { amount: 1, reference: '', description: '', return_url: 'http://localhost:8080/r' } });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.body.language, 'en');
    assert.equal(response.body.delayed_capture, false);
    assert.equal(response.body.metadata, undefined);
    assert.equal(response.body.email, undefined);
  });

  const cases: [string, unknown, number, string, string, string?][] = [
    ['missing amount', { reference: 'r', description: 'd', return_url: 'https://x.org' }, 400, 'P0101', 'amount', 'Missing mandatory attribute: amount'],
    ['missing reference', { amount: 1, description: 'd', return_url: 'https://x.org' }, 400, 'P0101', 'reference'],
    ['missing description', { amount: 1, reference: 'r', return_url: 'https://x.org' }, 400, 'P0101', 'description'],
    ['missing return_url in web mode', { amount: 1, reference: 'r', description: 'd' }, 400, 'P0101', 'return_url', 'Missing mandatory attribute: return_url'],
    ['string amount', validPayment({ amount: '100' }), 400, 'P0102', 'amount', 'Invalid attribute value: amount. Must be a valid numeric format'],
    ['float amount', validPayment({ amount: 1.5 }), 400, 'P0102', 'amount', 'Invalid attribute value: amount. Must be a valid numeric format'],
    ['amount too big', validPayment({ amount: 10_000_001 }), 422, 'P0102', 'amount', 'Invalid attribute value: amount. Must be less than or equal to 10000000'],
    ['negative amount', validPayment({ amount: -1 }), 422, 'P0102', 'amount', 'Invalid attribute value: amount. Must be greater than or equal to 1'],
    ['zero amount without the account flag', validPayment({ amount: 0 }), 422, 'P0102', 'amount', 'Invalid attribute value: amount. Must be greater than or equal to 1'],
    ['reference too long', validPayment({ reference: 'r'.repeat(256) }), 422, 'P0102', 'reference', 'Invalid attribute value: reference. Must be less than or equal to 255 characters length'],
    ['reference with <', validPayment({ reference: 'a<b' }), 400, 'P0102', 'reference', 'Invalid attribute value: reference. Must be a valid string format'],
    ['description with |', validPayment({ description: 'a|b' }), 400, 'P0102', 'description', 'Invalid attribute value: description. Must be a valid string format'],
    ['description with >', validPayment({ description: 'a>b' }), 400, 'P0102', 'description'],
    ['description too long', validPayment({ description: 'd'.repeat(256) }), 422, 'P0102', 'description'],
    ['numeric reference', validPayment({ reference: 12 }), 400, 'P0102', 'reference', 'Invalid attribute value: reference. Must be a valid string format'],
    ['return_url not a URL', validPayment({ return_url: 'not a url' }), 422, 'P0102', 'return_url', 'Invalid attribute value: return_url. Must be a valid URL format'],
    ['return_url ftp', validPayment({ return_url: 'ftp://x.org/' }), 422, 'P0102', 'return_url'],
    ['return_url too long', validPayment({ return_url: `https://x.org/${'a'.repeat(2000)}` }), 422, 'P0102', 'return_url'],
    ['language', validPayment({ language: 'fr' }), 422, 'P0102', 'language', 'Invalid attribute value: language. Must be "en" or "cy"'],
    ['email too long', validPayment({ email: `${'e'.repeat(250)}@x.org` }), 422, 'P0102', 'email'],
    ['delayed_capture not boolean', validPayment({ delayed_capture: 'yes' }), 400, 'P0102', 'delayed_capture', 'Invalid attribute value: delayed_capture. Must be true or false'],
    ['moto not boolean', validPayment({ moto: 1 }), 400, 'P0102', 'moto'],
    ['unexpected attribute', validPayment({ colour: 'blue' }), 400, 'P0104', 'colour', 'Unexpected attribute: colour'],
    ['authorisation_mode', validPayment({ authorisation_mode: 'magic' }), 422, 'P0102', 'authorisation_mode', 'Invalid attribute value: authorisation_mode. Must be one of web, moto_api, agreement'],
    ['agreement_id without agreement mode', validPayment({ agreement_id: 'a'.repeat(26) }), 400, 'P0104', 'agreement_id'],
    ['agreement_payment_type alone', validPayment({ agreement_payment_type: 'recurring' }), 400, 'P0104', 'agreement_payment_type'],
    ['return_url with moto_api', validPayment({ authorisation_mode: 'moto_api' }), 400, 'P0104', 'return_url'],
    ['set_up_agreement that does not exist', validPayment({ set_up_agreement: 'a'.repeat(26) }), 400, 'P0103', 'set_up_agreement'],
    ['metadata null', validPayment({ metadata: null }), 422, 'P0102', 'metadata'],
    ['metadata not an object', validPayment({ metadata: [1] }), 422, 'P0102', 'metadata', 'Invalid attribute value: metadata. Must be an object of JSON key-value pairs'],
    ['metadata 16 keys', validPayment({ metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])) }), 422, 'P0102', 'metadata'],
    ['metadata key too long', validPayment({ metadata: { ['k'.repeat(31)]: 1 } }), 422, 'P0102', 'metadata'],
    ['metadata empty key', validPayment({ metadata: { '': 1 } }), 422, 'P0102', 'metadata'],
    ['metadata value too long', validPayment({ metadata: { k: 'v'.repeat(101) } }), 422, 'P0102', 'metadata'],
    ['metadata nested value', validPayment({ metadata: { k: { a: 1 } } }), 422, 'P0102', 'metadata'],
    ['metadata null value', validPayment({ metadata: { k: null } }), 422, 'P0102', 'metadata'],
    ['metadata keys equal ignoring case', validPayment({ metadata: { Key: 1, kEY: 2 } }), 422, 'P0102', 'metadata'],
    ['prefilled name not a string', validPayment({ prefilled_cardholder_details: { cardholder_name: 5 } }), 400, 'P0102', 'prefilled_cardholder_details.cardholder_name'],
    ['prefilled postcode too long', validPayment({ prefilled_cardholder_details: { billing_address: { postcode: 'p'.repeat(26) } } }), 422, 'P0102', 'prefilled_cardholder_details.billing_address.postcode'],
  ];
  for (const [name, body, status, code, field, description] of cases) {
    test(`refuses ${name}: ${status} ${code}`, async () => {
      const { token, serviceId } = await coffer.newTenant();
      const response = await coffer.request('POST', '/v1/payments', { key: token, body });
      assertError(response, status, code, { field, ...(description ? { description } : {}) });
      assertMatchesSpec('RequestError', response.body);
      assert.equal(await countPayments(serviceId), 0);
    });
  }

  test('accepts the metadata limits exactly: 15 keys, 30-character keys, 100-character and empty values', async () => {
    const { token } = await coffer.newTenant();
    const metadata: Record<string, unknown> = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`k${i}`, i % 2 === 0]));
    metadata['k'.repeat(30)] = 'v'.repeat(100);
    metadata.empty = '';
    const response = await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ metadata }) });
    assert.equal(response.status, 201, response.text);
    assert.deepEqual(response.body.metadata, metadata);
  });

  test('unparseable JSON is 400 P0197, and so is a body that is not an object', async () => {
    const { token } = await coffer.newTenant();
    for (const rawBody of ['{"amount": 1,', '[1,2]', '"text"']) {
      const response = await coffer.request('POST', '/v1/payments', { key: token, rawBody, headers: { 'content-type': 'application/json' } });
      assertError(response, 400, 'P0197', { description: 'Unable to parse JSON' });
    }
  });

  test('account features: MOTO (P0196), moto_api (P0195), recurring (P0942), disabled (P0941), zero amount', async () => {
    const { token, serviceId } = await coffer.newTenant();
    assertError(await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ moto: true }) }), 422, 'P0196');
    assertError(await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ authorisation_mode: 'moto_api', return_url: undefined }) }), 422, 'P0195');
    assertError(
      await coffer.request('POST', '/v1/payments', { key: token, body: { amount: 100, reference: 'r', description: 'd', authorisation_mode: 'agreement', agreement_id: 'a'.repeat(26) } }),
      422,
      'P0942',
    );
    assertError(await coffer.request('POST', '/v1/payments', { key: token, body: { amount: 100, reference: 'r', description: 'd', authorisation_mode: 'agreement' } }), 400, 'P0101', { field: 'agreement_id' });
    assertError(
      await coffer.request('POST', '/v1/payments', { key: token, body: { amount: 100, reference: 'r', description: 'd', authorisation_mode: 'agreement', agreement_id: 'a'.repeat(26), email: 'a@b.org' } }),
      400,
      'P0104',
      { field: 'email' },
    );
    const account = await coffer.ctx.db.selectFrom('accounts').select('id').where('service_id', '=', serviceId).executeTakeFirstOrThrow();
    await configureAccount(coffer.ctx, account.id, { allow_moto: true, allow_moto_api: false, allow_recurring: true, allow_zero_amount: true, payments_disabled: false });
    const moto = await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ moto: true, amount: 0 }) });
    assert.equal(moto.status, 201, moto.text);
    assert.equal(moto.body.moto, true);
    assert.equal(moto.body.amount, 0);
    // Recurring enabled, but the agreement does not exist.
    assertError(
      await coffer.request('POST', '/v1/payments', { key: token, body: { amount: 100, reference: 'r', description: 'd', authorisation_mode: 'agreement', agreement_id: 'a'.repeat(26) } }),
      400,
      'P0102',
      { field: 'agreement_id', description: 'Invalid attribute value: agreement_id. Agreement does not exist' },
    );
    await configureAccount(coffer.ctx, account.id, { allow_moto: true, allow_moto_api: false, allow_recurring: true, allow_zero_amount: true, payments_disabled: true });
    assertError(await coffer.request('POST', '/v1/payments', { key: token, body: validPayment() }), 403, 'P0941');
  });

  test('a live account needs an https return_url (422 P0920); a test account takes http', async () => {
    const live = await liveTenant();
    assertError(await coffer.request('POST', '/v1/payments', { key: live.token, body: validPayment({ return_url: 'http://service.example.org/r' }) }), 422, 'P0920', {
      field: 'return_url',
      description: 'Invalid attribute value: return_url. Must begin with https:// for a live gateway account',
    });
    assert.equal(await countPayments(live.serviceId), 0);
    const ok = await coffer.request('POST', '/v1/payments', { key: live.token, body: validPayment() });
    assert.equal(ok.status, 201, ok.text);
    const { token } = await coffer.newTenant();
    assert.equal((await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ return_url: 'http://service.example.org/r' }) })).status, 201);
  });
});

describe('Idempotency-Key', () => {
  test('same key and body replays the payment with 200; a different body is 409 P0191', async () => {
    const { token, serviceId } = await coffer.newTenant();
    const headers = { 'idempotency-key': 'order-123-attempt-1' };
    const first = await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ metadata: { a: 1, b: 2 } }), headers });
    assert.equal(first.status, 201);
    // Same body with its keys in another order is the same request.
    const again = await coffer.request('POST', '/v1/payments', { key: token, body: { metadata: { b: 2, a: 1 }, ...validPayment() }, headers });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.payment_id, first.body.payment_id);
    assert.equal(again.headers.get('location'), null);
    assertMatchesSpec('PaymentWithAllLinks', again.body);
    const different = await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ amount: 999 }), headers });
    assertError(different, 409, 'P0191', { header: 'Idempotency-Key' });
    assert.equal(await countPayments(serviceId), 1);
  });

  test('keys are per account, and expire after 24 hours', async () => {
    const a = await coffer.newTenant();
    const b = await coffer.newTenant();
    const headers = { 'idempotency-key': 'shared-key' };
    const first = await coffer.request('POST', '/v1/payments', { key: a.token, body: validPayment(), headers });
    const other = await coffer.request('POST', '/v1/payments', { key: b.token, body: validPayment(), headers });
    assert.equal(other.status, 201);
    assert.notEqual(other.body.payment_id, first.body.payment_id);
    coffer.clock.advance(24 * 3_600_000 + 1000);
    const later = await coffer.request('POST', '/v1/payments', { key: a.token, body: validPayment({ amount: 5 }), headers });
    assert.equal(later.status, 201, later.text);
    assert.notEqual(later.body.payment_id, first.body.payment_id);
  });

  test('an invalid header is 422 P0102 naming the header, and creates nothing', async () => {
    const { token, serviceId } = await coffer.newTenant();
    for (const key of ['has space', 'x'.repeat(256), 'under_score', 'é']) {
      const response = await coffer.request('POST', '/v1/payments', { key: token, body: validPayment(), headers: { 'idempotency-key': encodeURIComponent(key) === key ? key : key.replace('é', '%C3%A9') } });
      assertError(response, 422, 'P0102', { header: 'Idempotency-Key' });
      assert.equal(response.body.field, undefined);
    }
    assert.equal(await countPayments(serviceId), 0);
  });

  test('50 concurrent requests with one key create exactly one payment', async () => {
    const { token, serviceId } = await coffer.newTenant();
    const headers = { 'idempotency-key': 'concurrent-key' };
    const responses = await Promise.all(Array.from({ length: 50 }, () => coffer.request('POST', '/v1/payments', { key: token, body: validPayment(), headers })));
    const statuses = responses.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 200).length, 49);
    assert.equal(new Set(responses.map((r) => r.body.payment_id)).size, 1);
    assert.equal(await countPayments(serviceId), 1);
  });
});
