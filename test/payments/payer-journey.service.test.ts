// The contract the hosted pages build on, at the service level: token redemption, the payer's
// view, and each step with its outcome values. The full card number and CVC never reach the
// database, the log or a domain event.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import {
  authorisePayment,
  cancelByPayer,
  completeThreeDs,
  confirmPayment,
  getPaymentForPayer,
  redeemPayerToken,
  startPayerJourney,
} from '../../src/payments/payer-journey.service.js';
import { card, createPayment, THREE_DS, UNREACHABLE, VISA_OK } from './support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const tokenOf = (response: { body: { _links: { next_url: { href: string } } } }) => response.body._links.next_url.href.split('/').at(-1) as string;

async function dumpPayment(id: string): Promise<string> {
  const payment = await coffer.ctx.db.selectFrom('payments').selectAll().where('id', '=', id).execute();
  const events = await coffer.ctx.db.selectFrom('domain_events').selectAll().where('resource_id', '=', id).execute();
  return JSON.stringify({ payment, events });
}

describe('payer tokens', () => {
  test('first use, reuse, unknown and malformed', async () => {
    const { token } = await coffer.newTenant();
    const created = await createPayment(coffer, token);
    const t = tokenOf(created);
    assert.deepEqual(await redeemPayerToken(coffer.ctx, t), { paymentId: created.body.payment_id, firstUse: true });
    assert.deepEqual(await redeemPayerToken(coffer.ctx, t), { paymentId: created.body.payment_id, firstUse: false });
    assert.equal(await redeemPayerToken(coffer.ctx, 'A'.repeat(32)), undefined);
    assert.equal(await redeemPayerToken(coffer.ctx, "' or 1=1 --"), undefined);
    assert.equal(await redeemPayerToken(coffer.ctx, ''), undefined);
  });

  test('concurrent redemptions of one token: exactly one first use', async () => {
    const { token } = await coffer.newTenant();
    const t = tokenOf(await createPayment(coffer, token));
    const results = await Promise.all(Array.from({ length: 10 }, () => redeemPayerToken(coffer.ctx, t)));
    assert.equal(results.filter((r) => r?.firstUse === true).length, 1);
    assert.equal(results.filter((r) => r?.firstUse === false).length, 9);
  });
});

describe('getPaymentForPayer', () => {
  test('gives the pages what they show, with personal data opened', async () => {
    const serviceId = await coffer.newService('Licensing Office');
    const { token } = await coffer.newKey(serviceId);
    const created = await createPayment(coffer, token, {
      email: 'p@example.org',
      language: 'cy',
      delayed_capture: true,
      prefilled_cardholder_details: { cardholder_name: 'Prefilled Name', billing_address: { line1: '1 Road', postcode: 'SW1A 1AA', country: 'GB', city: null } },
    });
    const view = await getPaymentForPayer(coffer.ctx, created.body.payment_id);
    assert.ok(view);
    assert.equal(view.serviceName, 'Licensing Office');
    assert.equal(view.amount, 1200);
    assert.equal(view.currency, 'GBP');
    assert.equal(view.language, 'cy');
    assert.equal(view.email, 'p@example.org');
    assert.equal(view.prefilledCardholderName, 'Prefilled Name');
    assert.deepEqual(view.prefilledBillingAddress, { line1: '1 Road', postcode: 'SW1A 1AA', country: 'GB' });
    assert.equal(view.returnUrl, 'https://service.example.org/return');
    assert.equal(view.delayedCapture, true);
    assert.equal(view.status, 'created');
    assert.deepEqual(view.state, { status: 'created', finished: false });
    assert.equal(view.mode, 'test');
    assert.equal(view.card, null);
    assert.equal(await getPaymentForPayer(coffer.ctx, 'aaaaaaaaaaaaaaaaaaaaaaaaaa'), undefined);
  });
});

describe('payer steps', () => {
  test('start is idempotent; authorise, confirm; each step refuses the wrong state', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id as string;
    assert.equal((await confirmPayment(coffer.ctx, id)).outcome, 'not_allowed_in_state');
    assert.deepEqual(await startPayerJourney(coffer.ctx, id), { outcome: 'started', status: 'entering_card_details' });
    assert.deepEqual(await startPayerJourney(coffer.ctx, id), { outcome: 'started', status: 'entering_card_details' });
    const auth = await authorisePayment(coffer.ctx, id, {
      card: card(VISA_OK, { cardholderName: 'Card Holder' }),
      email: 'typed@example.org',
      billingAddress: { line1: '2 Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
    });
    assert.deepEqual(auth, { outcome: 'authorised', state: { status: 'submitted', finished: false } });
    assert.equal((await authorisePayment(coffer.ctx, id, { card: card() })).outcome, 'not_allowed_in_state');
    assert.equal((await startPayerJourney(coffer.ctx, id)).outcome, 'not_allowed_in_state');
    const view = await getPaymentForPayer(coffer.ctx, id);
    assert.deepEqual(view?.card, {
      brand: 'visa',
      brandLabel: 'Visa',
      firstDigits: '444433',
      lastDigits: '1111',
      expiryDate: '12/30',
      cardType: 'credit',
      cardholderName: 'Card Holder',
      billingAddress: { line1: '2 Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
    });
    assert.equal(view?.email, 'typed@example.org');
    assert.deepEqual(await confirmPayment(coffer.ctx, id), { outcome: 'success', state: { status: 'success', finished: true } });
    assert.equal((await confirmPayment(coffer.ctx, id)).outcome, 'not_allowed_in_state');
    assert.equal((await cancelByPayer(coffer.ctx, id)).outcome, 'not_allowed_in_state');
    // The payer's email is searchable through its blind index.
    const search = await coffer.request('GET', '/v1/payments?email=TYPED@example.org&cardholder_name=card%20holder', { key: token });
    assert.equal(search.body.total, 1);
  });

  test('3-D Secure: the right answer authorises; a wrong one rejects (P0010)', async () => {
    const { token } = await coffer.newTenant();
    const ok = (await createPayment(coffer, token)).body.payment_id as string;
    const challenge = await authorisePayment(coffer.ctx, ok, { card: card(THREE_DS) });
    assert.equal(challenge.outcome, 'requires_3ds');
    assert.deepEqual('state' in challenge && challenge.state, { status: 'started', finished: false });
    assert.equal((await confirmPayment(coffer.ctx, ok)).outcome, 'not_allowed_in_state');
    assert.equal((await completeThreeDs(coffer.ctx, ok, '123456')).outcome, 'authorised');
    assert.equal((await completeThreeDs(coffer.ctx, ok, '123456')).outcome, 'not_allowed_in_state');
    const body = (await coffer.request('GET', `/v1/payments/${ok}`, { key: token })).body;
    assert.deepEqual(body.authorisation_summary, { three_d_secure: { required: true } });
    assert.equal(body.state.status, 'submitted');

    const bad = (await createPayment(coffer, token)).body.payment_id as string;
    await authorisePayment(coffer.ctx, bad, { card: card(THREE_DS) });
    assert.deepEqual(await completeThreeDs(coffer.ctx, bad, '000000'), { outcome: 'rejected', state: { status: 'failed', finished: true, code: 'P0010', message: 'Payment method rejected' } });
  });

  test('delayed capture: confirm makes it capturable', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token, { delayed_capture: true })).body.payment_id as string;
    await authorisePayment(coffer.ctx, id, { card: card() });
    assert.deepEqual(await confirmPayment(coffer.ctx, id), { outcome: 'capturable', state: { status: 'capturable', finished: false } });
  });

  test('an unreachable processor during authorisation is an error (P0050), as GOV.UK Pay reports a timeout', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id as string;
    const result = await authorisePayment(coffer.ctx, id, { card: card(UNREACHABLE) });
    assert.equal(result.outcome, 'error');
    assert.equal((await coffer.request('GET', `/v1/payments/${id}`, { key: token })).body.state.code, 'P0050');
  });

  test('the card number and CVC never reach the database, a domain event or the log', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id as string;
    const cvc = '987';
    await authorisePayment(coffer.ctx, id, { card: card(VISA_OK, { cvc }) });
    await confirmPayment(coffer.ctx, id);
    const dump = await dumpPayment(id);
    assert.ok(!dump.includes(VISA_OK), 'full number stored');
    assert.ok(!dump.includes(`"${cvc}"`) && !dump.includes(`:${cvc}`), 'CVC stored');
    assert.ok(!coffer.logLines.some((l) => l.includes(VISA_OK)), 'full number logged');
    const threeDs = (await createPayment(coffer, token)).body.payment_id as string;
    await authorisePayment(coffer.ctx, threeDs, { card: card(UNREACHABLE, { cvc }) });
    assert.ok(!(await dumpPayment(threeDs)).includes(UNREACHABLE));
    assert.ok(!coffer.logLines.some((l) => l.includes(UNREACHABLE)));
  });
});
