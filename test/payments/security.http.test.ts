// Every payments and refunds endpoint against every authentication case: no key, a bad key, a
// key without the scope, and another service's key (its payment is a 404 with the endpoint's
// own P-code, and changes nothing). Test and live are separate accounts of one service.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { prefixedId } from '../../src/platform/random.js';
import { paid } from './support.js';

let coffer: TestCoffer;
let owner: { serviceId: string; token: string };
let paymentId: string;
let refundId: string;

before(async () => {
  coffer = await startCoffer();
  owner = await coffer.newTenant();
  paymentId = await paid(coffer, owner.token, { delayed_capture: true });
  // A second, captured payment with a refund.
  const captured = await paid(coffer, owner.token);
  refundId = (await coffer.request('POST', `/v1/payments/${captured}/refunds`, { key: owner.token, body: { amount: 1 } })).body.refund_id;
  paymentOfRefund = captured;
});
after(() => coffer.close());
let paymentOfRefund: string;

interface Route {
  method: string;
  path: () => string;
  body?: unknown;
  scope: string;
  notFound?: string;
}

const routes: Route[] = [
  { method: 'POST', path: () => '/v1/payments', body: { amount: 1, reference: 'r', description: 'd', return_url: 'https://x.org' }, scope: 'payments:write' },
  { method: 'GET', path: () => '/v1/payments', scope: 'payments:read' },
  { method: 'GET', path: () => `/v1/payments/${paymentId}`, scope: 'payments:read', notFound: 'P0200' },
  { method: 'GET', path: () => `/v1/payments/${paymentId}/events`, scope: 'payments:read', notFound: 'P0300' },
  { method: 'POST', path: () => `/v1/payments/${paymentId}/cancel`, scope: 'payments:write', notFound: 'P0500' },
  { method: 'POST', path: () => `/v1/payments/${paymentId}/capture`, scope: 'payments:write', notFound: 'P1000' },
  { method: 'POST', path: () => `/v1/payments/${paymentOfRefund}/refunds`, body: { amount: 1 }, scope: 'refunds:write', notFound: 'P0600' },
  { method: 'GET', path: () => `/v1/payments/${paymentOfRefund}/refunds`, scope: 'refunds:read', notFound: 'P0800' },
  { method: 'GET', path: () => `/v1/payments/${paymentOfRefund}/refunds/${refundId}`, scope: 'refunds:read', notFound: 'P0700' },
  { method: 'GET', path: () => '/v1/refunds', scope: 'refunds:read' },
];

async function ownerView() {
  return JSON.stringify([
    (await coffer.request('GET', `/v1/payments/${paymentId}`, { key: owner.token })).body.state,
    (await coffer.request('GET', `/v1/payments/${paymentOfRefund}`, { key: owner.token })).body.refund_summary,
  ]);
}

describe('payments API security', () => {
  for (const route of routes) {
    const name = `${route.method} ${route.path.toString().replace(/.*=> /, '')}`;
    test(`${name}: no key and a bad key get the generic 401`, async () => {
      for (const key of [undefined, 'coffer_test_notarealkeynotarealkeynotarealkey']) {
        const response = await coffer.request(route.method, route.path(), { ...(key ? { key } : {}), body: route.body });
        assert.equal(response.status, 401, response.text);
        assert.equal(response.body.code, 'C0401');
      }
    });

    test(`${name}: a key without ${route.scope} gets 403`, async () => {
      const { token } = await coffer.newKey(owner.serviceId, { scopes: ['keys:read'] });
      const response = await coffer.request(route.method, route.path(), { key: token, body: route.body });
      assert.equal(response.status, 403, response.text);
      assert.equal(response.body.code, 'C0403');
    });

    if (route.notFound) {
      test(`${name}: another service's key gets 404 ${route.notFound} and changes nothing`, async () => {
        const before = await ownerView();
        const stranger = await coffer.newTenant();
        const response = await coffer.request(route.method, route.path(), { key: stranger.token, body: route.body });
        assert.equal(response.status, 404, response.text);
        assert.equal(response.body.code, route.notFound);
        assert.equal(await ownerView(), before);
      });
    }
  }

  test("search never shows another service's payments or refunds", async () => {
    const stranger = await coffer.newTenant();
    assert.equal((await coffer.request('GET', '/v1/payments', { key: stranger.token })).body.total, 0);
    assert.equal((await coffer.request('GET', '/v1/refunds', { key: stranger.token })).body.total, 0);
    assert.ok((await coffer.request('GET', '/v1/payments', { key: owner.token })).body.total >= 2);
  });

  test("the same service's live key does not see its test payments", async () => {
    await coffer.ctx.db.insertInto('accounts').values({ id: prefixedId('acct'), service_id: owner.serviceId, mode: 'live', created_at: coffer.clock.now() }).execute();
    const live = await coffer.newKey(owner.serviceId, { mode: 'live' });
    const response = await coffer.request('GET', `/v1/payments/${paymentId}`, { key: live.token });
    assert.equal(response.status, 404);
    assert.equal(response.body.code, 'P0200');
    assert.equal((await coffer.request('GET', '/v1/payments', { key: live.token })).body.total, 0);
  });

  test('a payments:read key can read but not create, cancel or capture', async () => {
    const { token } = await coffer.newKey(owner.serviceId, { scopes: ['payments:read'] });
    assert.equal((await coffer.request('GET', `/v1/payments/${paymentId}`, { key: token })).status, 200);
    assert.equal((await coffer.request('POST', `/v1/payments/${paymentId}/capture`, { key: token })).status, 403);
    assert.equal((await coffer.request('GET', `/v1/payments/${paymentId}`, { key: owner.token })).body.state.status, 'capturable');
  });
});
