// The payment pages over real HTTP: token exchange and session binding, the card form with its
// validation, each outcome of the sandbox's cards, 3-D Secure, confirm, cancel, and the guard
// that keeps back buttons and double submits from ever authorising twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { createPayment, statusOf } from '../payments/support.js';
import { cardForm, PayerClient, textOf } from './payer-client.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(async () => {
  await coffer.close();
});

async function newPayment(overrides: Record<string, unknown> = {}) {
  const tenant = await coffer.newTenant();
  const created = await createPayment(coffer, tenant.token, overrides);
  const nextUrl = created.body._links.next_url.href as string;
  return { key: tenant.token, id: created.body.payment_id as string, nextUrl, path: nextUrl.replace(coffer.url, '') };
}

/** Opens next_url in a fresh browser and lands on the card page. */
async function open(overrides: Record<string, unknown> = {}) {
  const payment = await newPayment(overrides);
  const payer = new PayerClient(coffer);
  const exchanged = await payer.get(payment.path);
  assert.equal(exchanged.status, 303, exchanged.html);
  assert.equal(exchanged.location, `/card_details/${payment.id}`);
  const page = await payer.get(exchanged.location);
  assert.equal(page.status, 200, page.html);
  return { ...payment, payer, page };
}

test('happy path: token → card page → confirm → return_url, and the API says success', async () => {
  const { key, id, payer, page } = await open();
  assert.match(page.html, /<html lang="en">/);
  assert.match(page.html, /£12\.00/);
  assert.equal(await statusOf(coffer, key, id), 'started');
  const submitted = await payer.submit(page, `/card_details/${id}`, cardForm('4444333322221111'));
  assert.equal(submitted.status, 303, submitted.html);
  assert.equal(submitted.location, `/card_details/${id}/confirm`);
  const confirm = await payer.get(submitted.location);
  assert.equal(confirm.status, 200);
  assert.equal(textOf(confirm.html, 'confirm-card'), 'Card ending in 1111 (Visa)');
  assert.equal(textOf(confirm.html, 'confirm-name'), 'Ms Test Payer');
  assert.equal(textOf(confirm.html, 'confirm-email'), 'payer@example.org');
  assert.equal(await statusOf(coffer, key, id), 'submitted');
  const done = await payer.submit(confirm, `/card_details/${id}/confirm`, {});
  assert.equal(done.status, 303);
  assert.equal(done.location, 'https://service.example.org/return');
  const api = await coffer.request('GET', `/v1/payments/${id}`, { key });
  assert.equal(api.body.state.status, 'success');
  assert.equal(api.body.card_details.last_digits_card_number, '1111');
  assert.equal(api.body.card_details.first_digits_card_number, '444433');
  assert.equal(api.body.card_details.card_brand, 'Visa');
  assert.equal(api.body.card_details.cardholder_name, 'Ms Test Payer');
  assert.equal(api.body.email, 'payer@example.org');
});
