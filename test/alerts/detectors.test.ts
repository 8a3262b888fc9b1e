// Each detector fires on its pattern and stays quiet on normal traffic, driven through the real
// code paths: HTTP requests, sign-in, the hosted pages, refunds. (Disabled webhook endpoints are
// in delivery.test.ts, which has a database of its own for the webhook workers.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { alertsOf, emailsQueued, setDetectors } from './support.js';
import { client, enrolledUser, PASSWORD, uniqueEmail } from '../console/helpers.js';
import { signInWithPassword } from '../../src/console/identity/signin.service.js';
import { attemptKeys, checkAttempt, recordAttempt } from '../../src/hosted/card-testing.js';
import { revokeKey } from '../../src/keys/key.service.js';
import { paid } from '../payments/support.js';
import { newPayment } from '../webhooks/support.js';
import { networkOf } from '../../src/alerts/detectors/keys.js';
import { cardForm, createTestPayment, PayerClient } from '../hosted/payer-client.js';
import { occurrencesToRaise } from '../../src/alerts/detectors/threshold.js';

let coffer: TestCoffer;
before(async () => {
  // Loopback is a trusted proxy here, so tests can speak from other addresses via X-Forwarded-For.
  coffer = await startCoffer({ trustedProxies: ['127.0.0.1'] });
});
after(async () => {
  await coffer.close();
});

describe('failed console sign-ins', () => {
  test('per user: the fifth failure in 15 minutes raises one alert for the user\'s service; four do not', async () => {
    const user = await enrolledUser(coffer);
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    for (let i = 0; i < 4; i++) assert.equal((await signInWithPassword(coffer.ctx, { email: user.email, password: 'wrong' }, client(ip))).ok, false);
    assert.deepEqual(await alertsOf(coffer, user.serviceId, 'signin_failures_user'), [], 'four failures are normal');
    for (let i = 0; i < 3; i++) await signInWithPassword(coffer.ctx, { email: user.email, password: 'wrong' }, client(ip));
    const alerts = await alertsOf(coffer, user.serviceId, 'signin_failures_user');
    assert.equal(alerts.length, 1, 'a flood is one alert');
    assert.equal(alerts[0]?.occurrences, 7);
    assert.equal(alerts[0]?.subject, `user:${user.userId}`);
    assert.equal(await emailsQueued(coffer, alerts[0]!.id), 1, 'one email, not one per failure');
  });

  test('successful sign-ins raise nothing', async () => {
    const user = await enrolledUser(coffer);
    for (let i = 0; i < 6; i++) assert.equal((await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client())).ok, true);
    assert.deepEqual(await alertsOf(coffer, user.serviceId), []);
  });

  test('per address: ten failures from one address alert the services whose users it tried', async () => {
    const a = await enrolledUser(coffer);
    const b = await enrolledUser(coffer);
    // Its own address each run: counters live in the database, which PostgreSQL runs share.
    const ip = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::77`;
    // Spread over users so no single user reaches its own threshold.
    const targets = [a.email, b.email, uniqueEmail('nobody')];
    for (let i = 0; i < 9; i++) await signInWithPassword(coffer.ctx, { email: targets[i % 3]!, password: 'wrong' }, client(ip));
    assert.deepEqual(await alertsOf(coffer, a.serviceId, 'signin_failures_ip'), []);
    await signInWithPassword(coffer.ctx, { email: targets[0]!, password: 'wrong' }, client(ip));
    for (const user of [a, b]) {
      const alerts = await alertsOf(coffer, user.serviceId, 'signin_failures_ip');
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]?.subject, `ip:${ip}`);
    }
    assert.deepEqual(await alertsOf(coffer, a.serviceId, 'signin_failures_user'), []);
  });
});

describe('rate-limit breaches', () => {
  test('ten 429s in five minutes raise an alert; staying under the limit raises none', async () => {
    const tenant = await coffer.newTenant();
    const saved = coffer.ctx.payments;
    coffer.ctx.payments = { defaultRateLimits: { create_payment: 1e9, capture_payment: 1e9, post: 1e9, get: 1 } };
    try {
      assert.equal((await coffer.request('GET', '/v1/payments', { key: tenant.token })).status, 200);
      assert.deepEqual(await alertsOf(coffer, tenant.serviceId), [], 'within the limit: quiet');
      let refused = 0;
      for (let i = 0; i < 9; i++) if ((await coffer.request('GET', '/v1/payments', { key: tenant.token })).status === 429) refused++;
      assert.equal(refused, 9);
      assert.deepEqual(await alertsOf(coffer, tenant.serviceId, 'rate_limit_breaches'), [], 'nine refusals: quiet');
      assert.equal((await coffer.request('GET', '/v1/payments', { key: tenant.token })).status, 429);
      const alerts = await alertsOf(coffer, tenant.serviceId, 'rate_limit_breaches');
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]?.occurrences, 10);
    } finally {
      coffer.ctx.payments = saved;
    }
  });
});

describe('card testing on the payment pages', () => {
  const attemptFor = (tenant: { serviceId: string }, accountId: string, paymentId: string, ip: string, cardNumber: string) =>
    attemptKeys(coffer.ctx, { paymentId, accountId, serviceId: tenant.serviceId, mode: 'test' }, ip, cardNumber);

  async function accountOf(token: string): Promise<string> {
    return (await coffer.request('GET', '/v1/account', { key: token })).body.account_id as string;
  }

  test('declines and distinct cards from one address raise alerts; one payer paying does not', async () => {
    const tenant = await coffer.newTenant();
    const accountId = await accountOf(tenant.token);
    const pay = async () => newPayment(coffer, tenant.token);
    const normal = attemptFor(tenant, accountId, await pay(), '198.51.100.1', '4444333322221111');
    await recordAttempt(coffer.ctx, normal, 'authorised');
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId), [], 'one authorised card: quiet');

    for (let i = 0; i < 5; i++) {
      await recordAttempt(coffer.ctx, attemptFor(tenant, accountId, await pay(), '198.51.100.66', `400000000000000${i}`), 'declined');
    }
    const declines = await alertsOf(coffer, tenant.serviceId, 'card_testing_declines_ip');
    assert.equal(declines.length, 1);
    assert.equal(declines[0]?.occurrences, 5);
    const cards = await alertsOf(coffer, tenant.serviceId, 'card_testing_cards_ip');
    assert.equal(cards.length, 1, 'five different cards from one address');
    assert.doesNotMatch(JSON.stringify([declines, cards]), /198\.51\.100\.66|4000000000/, 'neither the address nor a card appears');
  });

  test('over HTTP: declined cards on the payment pages, then the limit refusal, each raise their alert; a paying payer raises none', async () => {
    const tenant = await coffer.newTenant();
    const openPage = async () => {
      const payment = await createTestPayment(coffer, {}, tenant.token);
      const payer = new PayerClient(coffer);
      const exchanged = await payer.get(payment.path);
      const page = await payer.get(exchanged.location ?? '');
      assert.equal(page.status, 200);
      return { id: payment.id, payer, page };
    };
    const good = await openPage();
    assert.equal((await good.payer.submit(good.page, `/card_details/${good.id}`, cardForm('4444333322221111'))).location, `/card_details/${good.id}/confirm`);
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId), [], 'a payer paying: quiet');
    for (let i = 0; i < 3; i++) {
      const { id, payer, page } = await openPage();
      assert.equal((await payer.submit(page, `/card_details/${id}`, cardForm('4000000000000002'))).location, `/card_details/${id}/outcome`);
    }
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId, 'card_testing_refusals'), []);
    const { id, payer, page } = await openPage();
    assert.equal((await payer.submit(page, `/card_details/${id}`, cardForm('4000000000000002'))).status, 429);
    const refusals = await alertsOf(coffer, tenant.serviceId, 'card_testing_refusals');
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]?.details.reason, 'card_declines');
  });

  test('many cards on one payment raise an alert', async () => {
    const tenant = await coffer.newTenant();
    const accountId = await accountOf(tenant.token);
    const paymentId = await newPayment(coffer, tenant.token);
    for (let i = 0; i < 3; i++) await recordAttempt(coffer.ctx, attemptFor(tenant, accountId, paymentId, `198.51.100.${10 + i}`, `411111111111111${i}`), 'declined');
    const alerts = await alertsOf(coffer, tenant.serviceId, 'card_testing_cards_payment');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.subject, `payment:${paymentId}`);
  });

  test('a refusal at a card-testing limit raises a critical alert in the refusal\'s transaction', async () => {
    const tenant = await coffer.newTenant();
    const accountId = await accountOf(tenant.token);
    const attempt = attemptFor(tenant, accountId, await newPayment(coffer, tenant.token), '198.51.100.99', '4444333322221111');
    for (let i = 0; i < 3; i++) await recordAttempt(coffer.ctx, attempt, 'declined');
    assert.equal(await checkAttempt(coffer.ctx, attempt), 'payment');
    const alerts = await alertsOf(coffer, tenant.serviceId, 'card_testing_refusals');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.severity, 'critical');
  });
});

describe('key use', () => {
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  test('a key used from a second network raises an alert; the same /24 does not', async () => {
    const tenant = await coffer.newTenant();
    assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token, headers: from('203.0.113.10') })).status, 200);
    assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token, headers: from('203.0.113.200') })).status, 200);
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId), [], 'first network learnt, same /24 is not new');
    assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token, headers: from('2001:db8:1234::5') })).status, 200);
    const alerts = await alertsOf(coffer, tenant.serviceId, 'key_new_network');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.details.network, '2001:db8:1234::/48');
  });

  test('networks: /24 for IPv4 (also when IPv4-mapped), /48 for IPv6', () => {
    assert.equal(networkOf('192.0.2.44'), '192.0.2.0/24');
    assert.equal(networkOf('::ffff:192.0.2.44'), '192.0.2.0/24');
    assert.equal(networkOf('2001:db8:abcd:12::1'), '2001:db8:abcd::/48');
    assert.equal(networkOf('not an ip'), undefined);
  });

  test('using a revoked key raises a critical alert; the live key beside it does not', async () => {
    const tenant = await coffer.newTenant();
    const other = await coffer.newKey(tenant.serviceId);
    await revokeKey(coffer.ctx, tenant.keyId, { by: 'test' });
    assert.equal((await coffer.request('GET', '/v1/account', { key: other.token })).status, 200);
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId, 'key_revoked_use'), []);
    for (let i = 0; i < 3; i++) assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token })).status, 401);
    const alerts = await alertsOf(coffer, tenant.serviceId, 'key_revoked_use');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.occurrences, 3);
    assert.equal(alerts[0]?.severity, 'critical');
  });

  test('using an expired key raises an alert', async () => {
    const serviceId = await coffer.newService();
    const key = await coffer.newKey(serviceId, { expiresInMs: 60_000 });
    coffer.clock.advance(61_000);
    assert.equal((await coffer.request('GET', '/v1/account', { key: key.token })).status, 401);
    const alerts = await alertsOf(coffer, serviceId, 'key_revoked_use');
    assert.equal(alerts[0]?.details.reason, 'expired');
  });
});

describe('refund spikes', () => {
  test('refunds above the floor and the account\'s normal raise an alert (count and amount); fewer do not', async () => {
    setDetectors(coffer, { refund_spike_count: { threshold: 3, windowMs: 3_600_000 }, refund_spike_amount: { threshold: 2000, windowMs: 3_600_000 } });
    const tenant = await coffer.newTenant();
    const refund = async (amount: number) => {
      const id = await paid(coffer, tenant.token);
      const response = await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: tenant.token, body: { amount } });
      assert.equal(response.status, 202, response.text);
    };
    await refund(100);
    await refund(100);
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId), [], 'two small refunds: quiet');
    await refund(100);
    const byCount = await alertsOf(coffer, tenant.serviceId, 'refund_spike_count');
    assert.equal(byCount.length, 1);
    assert.equal(byCount[0]?.details.count, 3);
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId, 'refund_spike_amount'), []);
    await refund(1200);
    await refund(1200);
    assert.equal((await alertsOf(coffer, tenant.serviceId, 'refund_spike_amount')).length, 1);
  });
});

describe('floods', () => {
  test('past 100 events in a window an alert is updated once per 100, so its count stays within a batch', () => {
    const raised = Array.from({ length: 350 }, (_, i) => occurrencesToRaise(coffer.ctx, 'rate_limit_breaches', i + 1));
    assert.equal(raised.slice(0, 9).every((n) => n === 0), true, 'below the threshold of 10');
    assert.equal(raised[9], 10, 'the tenth raises with the whole count');
    assert.equal(raised.slice(10, 100).every((n) => n === 1), true, 'then one by one up to 100');
    assert.deepEqual(raised.slice(100).filter((n) => n > 0), [100, 100], 'then by hundreds: at 200 and 300');
    assert.equal(raised.reduce((a, b) => a + b, 0), 300);
  });
});
