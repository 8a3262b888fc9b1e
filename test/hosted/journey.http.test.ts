// The payment pages over real HTTP: token exchange and session binding, the card form with its
// validation, each outcome of the sandbox's cards, 3-D Secure, confirm, cancel, and the guard
// that keeps back buttons, double submits, parallel tabs and expiry from authorising twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { listEventsForResource } from '../../src/events/event.repo.js';
import { paymentExpiryWorker } from '../../src/payments/payment.workers.js';
import { updatePageSettings } from '../../src/hosted/hosted.settings.js';
import { SANDBOX_3DS_CODE } from '../../src/connectors/sandbox/sandbox.cards.js';
import { apiStatus, cardForm, createTestPayment, PayerClient, textOf, type PageResponse } from './payer-client.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startIsolatedCoffer();
});
after(async () => {
  await coffer.close();
});

const newPayment = (overrides: Record<string, unknown> = {}, key?: string) => createTestPayment(coffer, overrides, key);
const statusOf = async (key: string, id: string) => (await apiStatus(coffer, key, id)).status;

/** Opens next_url in a fresh browser and lands on the card page. */
async function open(overrides: Record<string, unknown> = {}, key?: string) {
  const payment = await newPayment(overrides, key);
  const payer = new PayerClient(coffer);
  const exchanged = await payer.get(payment.path);
  assert.equal(exchanged.status, 303, exchanged.html);
  assert.equal(exchanged.location, `/card_details/${payment.id}`);
  const page = await payer.get(exchanged.location);
  assert.equal(page.status, 200, page.html);
  return { ...payment, payer, page };
}

async function eventTypes(key: string, id: string): Promise<string[]> {
  const account = (await coffer.request('GET', '/v1/account', { key })).body.account_id as string;
  return (await listEventsForResource(coffer.ctx.db, account, 'payment', id)).map((e) => e.event_type);
}

function errorSummary(html: string): Array<{ href: string; text: string }> {
  const block = /<div class="error-summary"[\s\S]*?<\/div>/.exec(html)?.[0] ?? '';
  return [...block.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => ({ href: m[1]!, text: m[2]! }));
}

test('happy path: token → card page → confirm → return_url, and the API says success', async () => {
  const { key, id, payer, page } = await open();
  assert.match(page.html, /<html lang="en">/);
  assert.match(page.html, /£12\.00/);
  assert.match(page.html, /A licence/);
  assert.equal(await statusOf(key, id), 'started');
  const submitted = await payer.submit(page, `/card_details/${id}`, cardForm('4444333322221111'));
  assert.equal(submitted.status, 303, submitted.html);
  assert.equal(submitted.location, `/card_details/${id}/confirm`);
  const confirm = await payer.get(submitted.location);
  assert.equal(confirm.status, 200);
  assert.equal(textOf(confirm.html, 'confirm-card'), 'Card ending in 1111 (Visa)');
  assert.equal(textOf(confirm.html, 'confirm-name'), 'Ms Test Payer');
  assert.equal(textOf(confirm.html, 'confirm-email'), 'payer@example.org');
  assert.equal(textOf(confirm.html, 'confirm-expiry'), '12/30');
  assert.doesNotMatch(confirm.html, /4444333322221111|444433/);
  assert.equal(await statusOf(key, id), 'submitted');
  const done = await payer.submit(confirm, `/card_details/${id}/confirm`, {});
  assert.equal(done.status, 303);
  assert.equal(done.location, 'https://service.example.org/return');
  const api = await apiStatus(coffer, key, id);
  assert.equal(api.status, 'success');
  const card = api.body.card_details as Record<string, unknown>;
  assert.equal(card.last_digits_card_number, '1111');
  assert.equal(card.first_digits_card_number, '444433');
  assert.equal(card.card_brand, 'Visa');
  assert.equal(card.cardholder_name, 'Ms Test Payer');
  assert.equal(card.expiry_date, '12/30');
  assert.deepEqual(card.billing_address, { line1: '1 Test Street', city: 'Cardiff', postcode: 'CF10 1AA', country: 'GB' });
  assert.equal(api.body.email, 'payer@example.org');
});

test('delayed capture: confirming leaves the payment capturable and returns to the service', async () => {
  const { key, id, payer, page } = await open({ delayed_capture: true });
  const confirm = await payer.get((await payer.submit(page, `/card_details/${id}`, cardForm('4242424242424242'))).location!);
  const done = await payer.submit(confirm, `/card_details/${id}/confirm`, {});
  assert.equal(done.location, 'https://service.example.org/return');
  assert.equal(await statusOf(key, id), 'capturable');
  const outcome = await payer.follow(`/card_details/${id}`);
  assert.equal(textOf(outcome.html, 'outcome-title'), 'You have already paid');
});

test('refused cards all read "declined", whichever detail was wrong, and fail with P0010', async () => {
  const texts = new Set<string>();
  for (const number of ['4000000000000002', '4000000000000069', '4000000000000127']) {
    const { key, id, payer, page } = await open();
    const submitted = await payer.submit(page, `/card_details/${id}`, cardForm(number));
    assert.equal(submitted.location, `/card_details/${id}/outcome`);
    const outcome = await payer.get(submitted.location!);
    assert.equal(outcome.status, 200);
    texts.add(outcome.html.replace(/name="csrf_token" value="[^"]+"/, '').replaceAll(id, 'ID'));
    assert.equal(textOf(outcome.html, 'outcome-title'), 'Your payment has been declined');
    assert.match(outcome.html, /href="https:\/\/service\.example\.org\/return"/);
    const api = await apiStatus(coffer, key, id);
    assert.deepEqual([api.status, api.code], ['failed', 'P0010']);
  }
  assert.equal(texts.size, 1, 'the three refusals render the very same page');
});

test('a processing error ends in error / P0050 with a page that says no money was taken', async () => {
  const { key, id, payer, page } = await open();
  const submitted = await payer.submit(page, `/card_details/${id}`, cardForm('4000000000000119'));
  const outcome = await payer.get(submitted.location!);
  assert.equal(textOf(outcome.html, 'outcome-title'), 'Your payment was not successful');
  const api = await apiStatus(coffer, key, id);
  assert.deepEqual([api.status, api.code], ['error', 'P0050']);
});

test('corporate and prepaid test cards authorise and show on the API as GOV.UK Pay reports them', async () => {
  for (const number of ['4111111111111111', '4131840000000003', '5101180000000007', '371449635398431', '36148900647913']) {
    const { key, id, payer, page } = await open();
    const submitted = await payer.submit(page, `/card_details/${id}`, cardForm(number));
    assert.equal(submitted.location, `/card_details/${id}/confirm`, `${number}: ${submitted.html.slice(0, 300)}`);
    assert.equal(await statusOf(key, id), 'submitted');
  }
});

test('a test account takes only test cards: another valid number is refused on the form, before any processor call', async () => {
  const { key, id, payer, page } = await open();
  const response = await payer.submit(page, `/card_details/${id}`, cardForm('4012888888881881'));
  assert.equal(response.status, 400);
  assert.deepEqual(errorSummary(response.html), [{ href: '#cardNo', text: 'This is a test payment: use one of the test card numbers' }]);
  assert.equal(await statusOf(key, id), 'started');
});

test('3-D Secure: the right code authorises and the payment completes', async () => {
  const { key, id, payer, page } = await open();
  const submitted = await payer.submit(page, `/card_details/${id}`, cardForm('4000000000003220'));
  assert.equal(submitted.location, `/card_details/${id}/3ds_required`);
  const challenge = await payer.get(submitted.location!);
  assert.equal(challenge.status, 200);
  assert.ok(challenge.html.includes(`the code is ${SANDBOX_3DS_CODE}`));
  assert.equal(await statusOf(key, id), 'started');
  const malformed = await payer.submit(challenge, `/card_details/${id}/3ds_required`, { otp: '12' });
  assert.equal(malformed.status, 400);
  assert.deepEqual(errorSummary(malformed.html), [{ href: '#otp', text: 'The one-time code must be 6 digits' }]);
  const answered = await payer.submit(challenge, `/card_details/${id}/3ds_required`, { otp: SANDBOX_3DS_CODE });
  assert.equal(answered.location, `/card_details/${id}/confirm`);
  const confirm = await payer.get(answered.location!);
  assert.equal((await payer.submit(confirm, `/card_details/${id}/confirm`, {})).location, 'https://service.example.org/return');
  assert.equal(await statusOf(key, id), 'success');
});

test('3-D Secure: a wrong code rejects the payment (failed / P0010)', async () => {
  const { key, id, payer, page } = await open();
  const challenge = await payer.get((await payer.submit(page, `/card_details/${id}`, cardForm('5555555555554428'))).location!);
  const answered = await payer.submit(challenge, `/card_details/${id}/3ds_required`, { otp: '654321' });
  assert.equal(answered.location, `/card_details/${id}/outcome`);
  assert.equal(textOf((await payer.get(answered.location!)).html, 'outcome-title'), 'Your payment has been declined');
  const api = await apiStatus(coffer, key, id);
  assert.deepEqual([api.status, api.code], ['failed', 'P0010']);
  // The challenge cannot be answered again.
  const again = await payer.submit(challenge, `/card_details/${id}/3ds_required`, { otp: SANDBOX_3DS_CODE });
  assert.equal(again.location, `/card_details/${id}/outcome`);
});

test('cancel: the payment fails with P0030 and the payer goes back to the service', async () => {
  const { key, id, payer, page } = await open();
  const cancelled = await payer.submit(page, `/card_details/${id}/cancel`, {});
  assert.equal(cancelled.status, 303);
  assert.equal(cancelled.location, 'https://service.example.org/return');
  const api = await apiStatus(coffer, key, id);
  assert.deepEqual([api.status, api.code], ['failed', 'P0030']);
  const back = await payer.follow(`/card_details/${id}`);
  assert.equal(textOf(back.html, 'outcome-title'), 'Your payment has been cancelled');
});

test('cancel from the confirm page voids the authorisation', async () => {
  const { key, id, payer, page } = await open();
  const confirm = await payer.get((await payer.submit(page, `/card_details/${id}`, cardForm('4444333322221111'))).location!);
  assert.equal((await payer.submit(confirm, `/card_details/${id}/cancel`, {})).location, 'https://service.example.org/return');
  const api = await apiStatus(coffer, key, id);
  assert.deepEqual([api.status, api.code], ['failed', 'P0030']);
});

test('back button and double submit after paying never authorise twice', async () => {
  const { key, id, payer, page } = await open();
  const form = cardForm('4444333322221111');
  const first = await payer.submit(page, `/card_details/${id}`, form);
  assert.equal(first.location, `/card_details/${id}/confirm`);
  // The same form again (double click, or back then submit): sent to where the payment is.
  const second = await payer.submit(page, `/card_details/${id}`, form);
  assert.equal(second.status, 303);
  assert.equal(second.location, `/card_details/${id}/confirm`);
  const confirm = await payer.get(`/card_details/${id}/confirm`);
  await payer.submit(confirm, `/card_details/${id}/confirm`, {});
  const again = await payer.submit(confirm, `/card_details/${id}/confirm`, {});
  assert.equal(again.location, `/card_details/${id}/outcome`);
  const back = await payer.follow(`/card_details/${id}`);
  assert.equal(back.path, `/card_details/${id}/outcome`);
  assert.equal(textOf(back.html, 'outcome-title'), 'You have already paid');
  const events = await eventTypes(key, id);
  assert.equal(events.filter((e) => e === 'authorisation_submitted').length, 1, events.join());
  assert.equal(events.filter((e) => e === 'payment_succeeded').length, 1, events.join());
});

test('parallel tabs submitting at once: exactly one authorisation', async () => {
  const { key, id, payer, page } = await open();
  const results = await Promise.all([0, 1, 2, 3].map(() => payer.submit(page, `/card_details/${id}`, cardForm('4444333322221111'))));
  for (const r of results) assert.equal(r.status, 303, r.html.slice(0, 500));
  const events = await eventTypes(key, id);
  assert.equal(events.filter((e) => e === 'authorisation_submitted').length, 1, events.join());
  assert.equal(await statusOf(key, id), 'submitted');
});

test('a payment that expires while the page is open: the submit lands on the expired page', async () => {
  const { key, id, payer, page } = await open();
  coffer.clock.advance(91 * 60_000);
  await paymentExpiryWorker.run(coffer.ctx);
  const submitted = await payer.submit(page, `/card_details/${id}`, cardForm('4444333322221111'));
  assert.equal(submitted.location, `/card_details/${id}/outcome`);
  const outcome = await payer.get(submitted.location!);
  assert.equal(textOf(outcome.html, 'outcome-title'), 'Your payment session has expired');
  const api = await apiStatus(coffer, key, id);
  assert.deepEqual([api.status, api.code], ['failed', 'P0020']);
});

test('the token is single use: the same browser goes on, another browser sees "already used"', async () => {
  const { id, path, payer } = await open();
  const same = await payer.get(path);
  assert.equal(same.status, 303);
  assert.equal(same.location, `/card_details/${id}`);
  const other = new PayerClient(coffer);
  const used = await other.get(path);
  assert.equal(used.status, 403);
  assert.match(used.html, /This payment link has already been used/);
  assert.equal(used.headers.get('set-cookie'), null, 'no session is handed out for a used link');
  // Nor can the other browser reach the payment's pages directly.
  const direct = await other.get(`/card_details/${id}`);
  assert.equal(direct.status, 403);
  assert.match(direct.html, /Your session has ended/);
});

test('a fresh next_url from GET /v1/payments/{id} rebinds the payment to the browser that uses it', async () => {
  const { key, id, payer } = await open();
  const fresh = (await coffer.request('GET', `/v1/payments/${id}`, { key })).body._links.next_url.href as string;
  const other = new PayerClient(coffer);
  assert.equal((await other.get(fresh.replace(coffer.url, ''))).location, `/card_details/${id}`);
  assert.equal((await other.get(`/card_details/${id}`)).status, 200);
  assert.equal((await payer.get(`/card_details/${id}`)).status, 403);
});

test('unknown and malformed tokens get the "link not valid" page', async () => {
  const payer = new PayerClient(coffer);
  for (const token of ['abc', 'A'.repeat(32), '<script>x</script>']) {
    const response = await payer.get(`/secure/${encodeURIComponent(token)}`);
    assert.equal(response.status, 404);
    assert.match(response.html, /This payment link is not valid/);
    assert.doesNotMatch(response.html, /<script>x/);
  }
});

test('next_url_post: POSTing chargeTokenId from the service binds and redirects', async () => {
  const payment = await newPayment();
  assert.deepEqual(payment.body._links.next_url_post.params, { chargeTokenId: payment.path.replace('/secure/', '') });
  const payer = new PayerClient(coffer);
  const response = await payer.post('/secure', { chargeTokenId: payment.path.replace('/secure/', '') });
  assert.equal(response.status, 303);
  assert.equal(response.location, `/card_details/${payment.id}`);
  assert.equal((await payer.get(response.location!)).status, 200);
});

test('arriving from the service site: an interstitial moves on from our origin before the token is spent', async () => {
  const payment = await newPayment();
  const payer = new PayerClient(coffer);
  const first = await payer.get(payment.path, { 'sec-fetch-site': 'cross-site' });
  assert.equal(first.status, 200);
  assert.ok(first.html.includes(`<meta http-equiv="refresh" content="0;url=${payment.path}">`), first.html);
  assert.ok(first.html.includes(`<a class="button" href="${payment.path}" id="continue">`));
  assert.equal(first.headers.get('set-cookie'), null);
  // The same-origin hop uses the token for the first time.
  const second = await payer.get(payment.path, { 'sec-fetch-site': 'same-origin' });
  assert.equal(second.status, 303);
  assert.equal(second.location, `/card_details/${payment.id}`);
});

test('a browser with a payer session keeps it when it opens a second payment', async () => {
  const first = await open();
  const second = await newPayment();
  const cookieBefore = [...first.payer.cookies.values()].join();
  assert.equal((await first.payer.get(second.path)).location, `/card_details/${second.id}`);
  assert.equal([...first.payer.cookies.values()].join(), cookieBefore, 'no new session');
  assert.equal((await first.payer.get(`/card_details/${first.id}`)).status, 200);
  assert.equal((await first.payer.get(`/card_details/${second.id}`)).status, 200);
});

test('CSRF: a POST without the token, with another session\'s token, or from another site is refused', async () => {
  const { key, id, payer } = await open();
  const other = await open();
  const form = cardForm('4444333322221111');
  const missing = await payer.post(`/card_details/${id}`, form);
  assert.equal(missing.status, 403);
  assert.match(missing.html, /This page cannot be used/);
  const foreign = await payer.post(`/card_details/${id}`, { ...form, csrf_token: /name="csrf_token" value="([^"]+)"/.exec(other.page.html)![1]! });
  assert.equal(foreign.status, 403);
  const page = await payer.get(`/card_details/${id}`);
  const token = /name="csrf_token" value="([^"]+)"/.exec(page.html)![1]!;
  const crossSite = await payer.post(`/card_details/${id}`, { ...form, csrf_token: token }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
  assert.equal(crossSite.status, 403);
  const noSession = await new PayerClient(coffer).post(`/card_details/${id}`, { ...form, csrf_token: token });
  assert.equal(noSession.status, 403);
  assert.equal(await statusOf(key, id), 'started');
  for (const r of [missing, foreign, crossSite, noSession]) assert.doesNotMatch(r.html, /4444333322221111/);
});

test('validation: each field gets its own message, linked from the error summary, and the number and CVC are never echoed', async () => {
  const { key, id, payer, page } = await open();
  const empty = await payer.submit(page, `/card_details/${id}`, {
    cardNo: '', expiryMonth: '', expiryYear: '', cardholderName: '', cvc: '', addressLine1: '', addressCity: '', addressPostcode: '', addressCountry: '', email: '',
  });
  assert.equal(empty.status, 400);
  assert.match(empty.html, /<title>Error: Enter card details/);
  assert.deepEqual(errorSummary(empty.html), [
    { href: '#cardNo', text: 'Enter your card number' },
    { href: '#expiryMonth', text: 'Enter the expiry date' },
    { href: '#cardholderName', text: 'Enter the name as it appears on the card' },
    { href: '#cvc', text: 'Enter the card security code' },
    { href: '#addressLine1', text: 'Enter the building and street' },
    { href: '#addressCity', text: 'Enter the town or city' },
    { href: '#addressPostcode', text: 'Enter the postcode' },
    { href: '#addressCountry', text: 'Select the country or territory' },
    { href: '#email', text: 'Enter your email address' },
  ]);
  assert.match(empty.html, /id="cardNo"[^>]*aria-describedby="accepted-cards card-brand cardNo-error"/);
  assert.match(empty.html, /id="cardNo-error"/);

  const cases: Array<[Record<string, string>, string, string]> = [
    [{ cardNo: '4444 3333 2222 111x' }, '#cardNo', 'Card number must only include numbers 0 to 9 and spaces'],
    [{ cardNo: '44443333' }, '#cardNo', 'Card number must be between 12 and 19 digits'],
    [{ cardNo: '4444333322221112' }, '#cardNo', 'Enter a valid card number: check the digits'],
    [{ expiryMonth: '13' }, '#expiryMonth', 'Expiry month must be a number from 1 to 12'],
    [{ expiryYear: '202' }, '#expiryYear', 'Expiry year must be 2 or 4 digits, for example 28'],
    [{ expiryMonth: '10', expiryYear: '2026' }, '#expiryMonth', 'The expiry date must be in the future'],
    [{ cvc: '12' }, '#cvc', 'Card security code must be 3 or 4 digits'],
    [{ cvc: '1234' }, '#cvc', 'Card security code must be 3 digits for this card'],
    [{ cardNo: '371449635398431', cvc: '123' }, '#cvc', 'Card security code must be 4 digits for American Express'],
    [{ cardholderName: '4444 3333 2222 1111' }, '#cardholderName', 'Enter the name on the card, not the card number'],
    [{ cardholderName: '123' }, '#cardholderName', 'Enter the name on the card, not the security code'],
    [{ addressLine1: '4242424242424242 Street' }, '#addressLine1', 'Address must not contain a card number'],
    [{ addressPostcode: 'NOT A CODE' }, '#addressPostcode', 'Enter a real UK postcode, for example SW1A 1AA'],
    [{ addressCountry: 'ZZ' }, '#addressCountry', 'Select the country or territory'],
    [{ email: 'not-an-email' }, '#email', 'Enter an email address in the correct format, like name@example.com'],
    [{ email: 'a@localhost' }, '#email', 'Enter an email address in the correct format, like name@example.com'],
  ];
  for (const [override, href, text] of cases) {
    const fresh = await payer.get(`/card_details/${id}`);
    const response = await payer.submit(fresh, `/card_details/${id}`, cardForm('4444333322221111', override));
    assert.equal(response.status, 400, JSON.stringify(override));
    assert.deepEqual(errorSummary(response.html), [{ href, text }], JSON.stringify(override));
    assert.doesNotMatch(response.html, /4444333322221111|4444 3333 2222 111|371449635398431/);
    assert.doesNotMatch(response.html, /value="123"|value="1234"/);
  }
  // What the payer typed elsewhere is kept.
  const kept = await payer.submit(await payer.get(`/card_details/${id}`), `/card_details/${id}`, cardForm('4444333322221112', { cardholderName: 'Ms Kept' }));
  assert.match(kept.html, /id="cardholderName"[^>]*value="Ms Kept"/);
  assert.equal(await statusOf(key, id), 'started');
});

test('account settings: billing address off, email optional or off, accepted brands', async () => {
  const tenant = await coffer.newTenant();
  const account = (await coffer.request('GET', '/v1/account', { key: tenant.token })).body.account_id as string;
  await updatePageSettings(coffer.ctx, account, { collectBillingAddress: false, emailCollection: 'optional', acceptedBrands: ['visa', 'master-card'] });
  const { id, payer, page } = await open({}, tenant.token);
  assert.doesNotMatch(page.html, /id="addressLine1"/);
  assert.match(page.html, /Email \(optional\)/);
  assert.match(page.html, /Accepted cards: Visa, Mastercard/);
  const amex = await payer.submit(page, `/card_details/${id}`, cardForm('371449635398431', { email: '' }));
  assert.deepEqual(errorSummary(amex.html), [{ href: '#cardNo', text: 'American Express cards are not accepted: use a different card' }]);
  const ok = await payer.submit(page, `/card_details/${id}`, { ...cardForm('4444333322221111', { email: '' }) });
  assert.equal(ok.location, `/card_details/${id}/confirm`);
  const confirm = await payer.get(ok.location!);
  assert.doesNotMatch(confirm.html, /confirm-email|confirm-address/);

  await updatePageSettings(coffer.ctx, account, { emailCollection: 'off' });
  const second = await open({}, tenant.token);
  assert.doesNotMatch(second.page.html, /id="email"/);
  await assert.rejects(updatePageSettings(coffer.ctx, account, { acceptedBrands: ['visa', 'bogus'] }));
  await assert.rejects(updatePageSettings(coffer.ctx, account, { acceptedBrands: [] }));
});

test('prefilled cardholder name, address and email from the payment are on the form', async () => {
  const { page } = await open({
    email: 'pre@example.org',
    prefilled_cardholder_details: { cardholder_name: 'Ms Pre Filled', billing_address: { line1: '2 Pre Road', city: 'Swansea', postcode: 'SA1 1AA', country: 'GB' } },
  });
  assert.match(page.html, /id="cardholderName"[^>]*value="Ms Pre Filled"/);
  assert.match(page.html, /id="addressLine1"[^>]*value="2 Pre Road"/);
  assert.match(page.html, /id="email"[^>]*value="pre@example.org"/);
  assert.match(page.html, /<option value="GB" selected>United Kingdom<\/option>/);
});

test('Welsh: language cy renders every page of the journey in Welsh', async () => {
  const { id, payer, page } = await open({ language: 'cy' });
  assert.match(page.html, /<html lang="cy">/);
  assert.match(page.html, /<h1 class="heading-l">Rhowch fanylion y cerdyn<\/h1>/);
  assert.match(page.html, /<option value="GB" selected>Y Deyrnas Unedig<\/option>/);
  const invalid = await payer.submit(page, `/card_details/${id}`, cardForm('4444333322221112'));
  assert.deepEqual(errorSummary(invalid.html), [{ href: '#cardNo', text: 'Rhowch rif cerdyn dilys: gwiriwch y digidau' }]);
  assert.match(invalid.html, /<title>Gwall: /);
  const confirm = await payer.get((await payer.submit(page, `/card_details/${id}`, cardForm('4444333322221111'))).location!);
  assert.match(confirm.html, /Cadarnhau eich taliad/);
  assert.match(confirm.html, /Cerdyn yn gorffen â 1111/);
  const other = new PayerClient(coffer);
  const denied = await other.get(`/card_details/${id}`);
  assert.equal(denied.status, 403);
});

test('every page carries the strict CSP, no-store, no-referrer, and the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict', async () => {
  const { id, payer, page, path } = await open();
  const cookie = payer.setCookies.find((c) => c.startsWith('__Host-coffer_payer='));
  assert.ok(cookie, payer.setCookies.join('\n'));
  assert.match(cookie, /; Path=\//);
  assert.match(cookie, /; Secure/);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.doesNotMatch(cookie, /Domain=/i);
  const pages: PageResponse[] = [page, await payer.get(path), await new PayerClient(coffer).get(path), await new PayerClient(coffer).get('/secure/nope')];
  const confirm = await payer.get((await payer.submit(page, `/card_details/${id}`, cardForm('4444333322221111'))).location!);
  pages.push(confirm);
  for (const response of pages) {
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /require-trusted-types-for 'script'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/(?!service\.example\.org)/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.doesNotMatch(response.html, /<script>|<script [^>]*>[^<]+<\/script>|style="|<style/);
  }
  // The only origin a form may lead to besides Coffer is the service's own return_url origin.
  assert.match(confirm.headers.get('content-security-policy')!, /form-action 'self' https:\/\/service\.example\.org;/);
});

test('scripts and styles are served by Coffer with SRI hashes that match what is served', async () => {
  const { payer, page } = await open();
  const tags = [...page.html.matchAll(/<(?:script src|link rel="stylesheet" href)="([^"]+)" integrity="([^"]+)"/g)];
  assert.equal(tags.length, 2, 'one stylesheet, one script');
  for (const [, url, integrity] of tags) {
    assert.ok(url!.startsWith('/assets/pay/'), url);
    const response = await fetch(coffer.url + url!);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const body = Buffer.from(await response.arrayBuffer());
    assert.equal(integrity, `sha384-${createHash('sha384').update(body).digest('base64')}`);
  }
  assert.equal((await payer.get('/assets/pay/0000000000000000/web-page.css')).status, 404);
});

test('the JSON API still refuses form bodies', async () => {
  const tenant = await coffer.newTenant();
  const response = await coffer.request('POST', '/v1/payments', {
    key: tenant.token,
    rawBody: 'amount=100&reference=x&description=y&return_url=https://x.example',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(response.status, 415, response.text);
});

test('card testing: after 3 declines of one card the next attempt is refused before the processor, and recorded', async () => {
  const tenant = await coffer.newTenant();
  for (let i = 0; i < 3; i++) {
    const { id, payer, page } = await open({}, tenant.token);
    assert.equal((await payer.submit(page, `/card_details/${id}`, cardForm('4000000000000002'))).location, `/card_details/${id}/outcome`);
  }
  const { key, id, payer, page } = await open({}, tenant.token);
  const refused = await payer.submit(page, `/card_details/${id}`, cardForm('4000000000000002'));
  assert.equal(refused.status, 429);
  assert.match(refused.html, /Too many attempts/);
  assert.equal(await statusOf(key, id), 'started', 'the card never reached the processor');
  assert.ok((await eventTypes(key, id)).includes('card_testing_limit_reached'));
  // Another card from the same place still goes through; test accounts count per account.
  const ok = await payer.submit(await payer.get(`/card_details/${id}`), `/card_details/${id}`, cardForm('4444333322221111'));
  assert.equal(ok.location, `/card_details/${id}/confirm`);
  const other = await open();
  assert.equal((await other.payer.submit(other.page, `/card_details/${other.id}`, cardForm('4000000000000002'))).location, `/card_details/${other.id}/outcome`);
});
