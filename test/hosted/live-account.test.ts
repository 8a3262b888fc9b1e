// Live accounts never take test cards, proven where a payer meets it: a live payment opened in
// the payment pages and paid with each of the sandbox's test cards is refused on the card page
// with a clear message, the number is not echoed back, and nothing is authorised (the API still
// shows the payment started, without card details, and no authorisation event exists). Live
// accounts need PostgreSQL and an operator's master key, so this runs on PostgreSQL only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enableLiveAccount } from '../../src/services/service.service.js';
import { listEventsForResource } from '../../src/events/event.repo.js';
import { SANDBOX_CARDS } from '../../src/connectors/sandbox/sandbox.cards.js';
import { startCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import { apiStatus, cardForm, createTestPayment, PayerClient } from './payer-client.js';

let coffer: TestCoffer;
let live: { token: string; accountId: string };

describe('a live account in the payment pages', { skip: !usingPostgres() && 'live accounts need PostgreSQL (set COFFER_TEST_DATABASE_URL)' }, () => {
  before(async () => {
    coffer = await startCoffer(); // its master key counts as the operator's, from the environment
    const serviceId = await coffer.newService('Live service');
    const account = await enableLiveAccount(coffer.ctx, serviceId);
    live = { token: (await coffer.newKey(serviceId, { mode: 'live' })).token, accountId: account.id };
  });
  after(async () => {
    await coffer?.close();
  });

  test('refuses every sandbox test card on the card page, says why, and authorises nothing', async () => {
    const numbers = [...new Set(SANDBOX_CARDS.map((card) => card.number))];
    assert.ok(numbers.includes('4444333322221111'), 'the success card is among them');
    for (const number of numbers) {
      const payment = await createTestPayment(coffer, {}, live.token);
      const payer = new PayerClient(coffer);
      const exchanged = await payer.get(payment.path);
      assert.equal(exchanged.status, 303, exchanged.html);
      const page = await payer.get(exchanged.location!);
      assert.equal(page.status, 200, page.html);

      const refused = await payer.submit(page, `/card_details/${payment.id}`, cardForm(number));
      assert.equal(refused.status, 400, `${number} was not refused on the card page`);
      assert.match(refused.html, /<a href="#cardNo">Test cards cannot be used for real payments<\/a>/, number);
      assert.match(refused.html, /id="cardNo-error">[^<]*<span class="visually-hidden">Error:<\/span> Test cards cannot be used for real payments<\/p>/, 'beside the field');
      assert.doesNotMatch(refused.html, new RegExp(number), 'the number is not echoed back'); // eslint-disable-line security/detect-non-literal-regexp -- digits from the sandbox's own list

      const api = await apiStatus(coffer, live.token, payment.id);
      assert.equal(api.status, 'started', `${number}: the payment is still waiting for a card`);
      assert.equal(api.body.card_details ?? null, null, `${number}: no card was recorded`);
      const events = (await listEventsForResource(coffer.ctx.db, live.accountId, 'payment', payment.id)).map((e) => e.event_type);
      assert.ok(!events.some((type) => /authoris|capture|succeeded/.test(type)), `${number}: ${events.join(', ')}`);
      assert.equal(events.at(-1), 'payment_started');
    }
  });
});
