// Per-account rate limits (429 P0900, GOV.UK Pay's buckets, configurable per account, counted
// in the database: Redis has its own file, rate-limit-redis.test.ts) and Idempotency-Key on the
// other POSTs: cancel, capture and refunds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import { configureAccount } from '../../src/payments/account-settings.js';
import { DEFAULT_LIMITS, LEASE_FROM, leaseSize } from '../../src/payments/rate-limit.js';
import { runOperation } from '../../src/main/operations.js';
import { assertError, paid, validPayment } from './support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer({ redisUrl: false });
});
after(() => coffer.close());

async function accountOf(serviceId: string): Promise<string> {
  return (await coffer.ctx.db.selectFrom('accounts').select('id').where('service_id', '=', serviceId).where('mode', '=', 'test').executeTakeFirstOrThrow()).id;
}
const create = (key: string) => coffer.request('POST', '/v1/payments', { key, body: validPayment() });

describe('rate limits', () => {
  test("GOV.UK Pay's defaults: the 16th payment created in one second is 429 P0900", async () => {
    const saved = coffer.ctx.payments;
    coffer.ctx.payments = { defaultRateLimits: DEFAULT_LIMITS };
    try {
      const { token } = await coffer.newTenant();
      for (let i = 0; i < 15; i++) assert.equal((await create(token)).status, 201);
      const limited = await create(token);
      assertError(limited, 429, 'P0900', { description: 'Too many requests' });
      // Other buckets are separate: GETs still pass.
      assert.equal((await coffer.request('GET', '/v1/payments', { key: token })).status, 200);
      coffer.clock.advance(1000);
      assert.equal((await create(token)).status, 201);
    } finally {
      coffer.ctx.payments = saved;
    }
  });

  test("an account's own limits apply, per bucket and per account, and refused requests change nothing", async () => {
    const { token, serviceId } = await coffer.newTenant();
    const other = await coffer.newTenant();
    const id = await paid(coffer, token, { delayed_capture: true });
    await configureAccount(coffer.ctx, await accountOf(serviceId), { rate_limit_create_per_second: 2, rate_limit_get_per_second: 3, rate_limit_capture_per_second: 1, rate_limit_post_per_second: 1 });
    coffer.clock.advance(6000); // past the cached limits and into a fresh window
    assert.equal((await create(token)).status, 201);
    assert.equal((await create(token)).status, 201);
    assertError(await create(token), 429, 'P0900');
    const count = await coffer.ctx.db.selectFrom('payments').select((eb) => eb.fn.countAll<number>().as('n')).where('service_id', '=', serviceId).executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 3);
    for (let i = 0; i < 3; i++) assert.equal((await coffer.request('GET', `/v1/payments/${id}`, { key: token })).status, 200);
    assertError(await coffer.request('GET', `/v1/payments/${id}`, { key: token }), 429, 'P0900');
    assert.equal((await coffer.request('POST', `/v1/payments/${id}/capture`, { key: token })).status, 204);
    assertError(await coffer.request('POST', `/v1/payments/${id}/capture`, { key: token }), 429, 'P0900');
    assert.equal((await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 1 } })).status, 202);
    assertError(await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 1 } }), 429, 'P0900');
    // Another account is untouched by this one's traffic.
    assert.equal((await create(other.token)).status, 201);
    // Without a key there is nothing to count: 401, not 429.
    assert.equal((await coffer.request('POST', '/v1/payments', { body: validPayment() })).status, 401);
  });
});

describe('raised limits, counted in leases', () => {
  const LIMIT = 300; // a lease of 3
  const search = (node: TestCoffer, key: string) => node.request('GET', '/v1/payments', { key });
  const sharedCount = async (accountId: string) =>
    (await coffer.ctx.db.selectFrom('rate_limit_counters').select('count').where('bucket', '=', `get:${accountId}`).execute()).reduce((sum, row) => sum + Number(row.count), 0);
  async function raisedTenant(): Promise<{ token: string; accountId: string }> {
    const { token, serviceId } = await coffer.newTenant();
    const accountId = await accountOf(serviceId);
    await configureAccount(coffer.ctx, accountId, { rate_limit_get_per_second: LIMIT });
    coffer.clock.advance(6000); // past every node's cached settings, into a fresh window
    return { token, accountId };
  }

  test('below LEASE_FROM every request is counted; from it, a hundredth of the limit at a time', () => {
    assert.equal(leaseSize(DEFAULT_LIMITS.get), 1);
    assert.equal(leaseSize(LEASE_FROM - 1), 1);
    assert.equal(leaseSize(LIMIT), 3);
    assert.equal(leaseSize(1e9), 10_000);
  });

  test('on one node the limit is exact, and the shared count takes a write per lease, not per request', async () => {
    const { token, accountId } = await raisedTenant();
    const statuses = (await Promise.all(Array.from({ length: LIMIT + 40 }, () => search(coffer, token)))).map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, LIMIT);
    assert.equal(statuses.filter((s) => s === 429).length, 40);
    const counted = await sharedCount(accountId);
    // 100 leases of 3, and perhaps one more refused: not one count per request (340).
    assert.ok(counted >= LIMIT && counted <= LIMIT + leaseSize(LIMIT), `shared count ${counted}`);
    coffer.clock.advance(1000);
    assert.equal((await search(coffer, token)).status, 200, 'a new second, a new lease');
  });

  test('a limit lowered under a lease bites at once: the second already spent counts', async () => {
    const { token, accountId } = await raisedTenant();
    for (let i = 0; i < 10; i++) assert.equal((await search(coffer, token)).status, 200);
    const serviceId = (await coffer.ctx.db.selectFrom('accounts').select('service_id').where('id', '=', accountId).executeTakeFirstOrThrow()).service_id;
    await runOperation(coffer.ctx, 'payments.set', { serviceId, mode: 'test', rateLimitGet: 5 }, 'operator:test');
    assertError(await search(coffer, token), 429, 'P0900');
    coffer.clock.advance(1000);
    for (let i = 0; i < 5; i++) assert.equal((await search(coffer, token)).status, 200);
    assertError(await search(coffer, token), 429, 'P0900');
  });

  test('two nodes on one database never pass more than the limit between them', { skip: !usingPostgres() && 'two nodes need PostgreSQL' }, async () => {
    const other = await startCoffer({ clock: coffer.clock, redisUrl: false });
    try {
      const { token, accountId } = await raisedTenant();
      const statuses = (await Promise.all(Array.from({ length: LIMIT }, (_, i) => search(i % 2 === 0 ? coffer : other, token)))).concat(
        await Promise.all(Array.from({ length: 40 }, (_, i) => search(i % 2 === 0 ? coffer : other, token))),
      );
      const passed = statuses.filter((r) => r.status === 200).length;
      // Each node may end the second with part of a lease unspent: at most a lease less, each.
      assert.ok(passed <= LIMIT && passed >= LIMIT - 2 * (leaseSize(LIMIT) - 1), `${passed} passed`);
      assert.equal(statuses.filter((r) => r.status !== 200 && r.status !== 429).length, 0);
      assert.ok((await sharedCount(accountId)) <= LIMIT + 2 * leaseSize(LIMIT));
    } finally {
      await other.close();
    }
  });
});

describe('operator settings (coffer payments show|set)', () => {
  test('set takes effect at once on this node, "default" restores the defaults, bad limits are refused', async () => {
    const { token, serviceId } = await coffer.newTenant();
    assert.equal((await create(token)).status, 201);
    const set = (await runOperation(coffer.ctx, 'payments.set', { serviceId, mode: 'test', rateLimitCreate: 1, allowMoto: true }, 'operator:test')) as {
      allow_moto: boolean;
      rate_limits_per_second: { create_payment: number };
    };
    assert.equal(set.allow_moto, true);
    assert.equal(set.rate_limits_per_second.create_payment, 1);
    coffer.clock.advance(1000);
    assert.equal((await coffer.request('POST', '/v1/payments', { key: token, body: validPayment({ moto: true }) })).status, 201);
    assertError(await create(token), 429, 'P0900');
    const reset = (await runOperation(coffer.ctx, 'payments.set', { serviceId, mode: 'test', rateLimitCreate: 'default' }, 'operator:test')) as {
      rate_limits_per_second: { create_payment: number };
    };
    assert.equal(reset.rate_limits_per_second.create_payment, 1e9);
    assert.equal((await create(token)).status, 201);
    await assert.rejects(runOperation(coffer.ctx, 'payments.set', { serviceId, mode: 'test', rateLimitGet: 0 }, 'operator:test'), /rateLimitGet/);
    await assert.rejects(runOperation(coffer.ctx, 'payments.show', { serviceId, mode: 'live' }, 'operator:test'));
  });
});

describe('Idempotency-Key on cancel, capture and refunds', () => {
  test('a refund retried with its key is replayed, never refunded twice; another body is 409 P0191', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token);
    const headers = { 'idempotency-key': 'refund-1' };
    const first = await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 100 }, headers });
    assert.equal(first.status, 202);
    const again = await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 100 }, headers });
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, first.body);
    assertError(await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 200 }, headers }), 409, 'P0191', { header: 'Idempotency-Key' });
    const refunds = (await coffer.request('GET', `/v1/payments/${id}/refunds`, { key: token })).body._embedded.refunds;
    assert.equal(refunds.length, 1);
    // A refused request gives its key back: the same key works once the request is right.
    const refused = await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 5000 }, headers: { 'idempotency-key': 'refund-2' } });
    assertError(refused, 400, 'P0603');
    assert.equal((await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 50 }, headers: { 'idempotency-key': 'refund-2' } })).status, 202);
    assertError(await coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 1 }, headers: { 'idempotency-key': 'bad key!' } }), 422, 'P0102', { header: 'Idempotency-Key' });
  });

  test('20 concurrent refunds with one key refund once', async () => {
    const { token } = await coffer.newTenant();
    const id = await paid(coffer, token);
    const headers = { 'idempotency-key': 'burst' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => coffer.request('POST', `/v1/payments/${id}/refunds`, { key: token, body: { amount: 10 }, headers })));
    const refunds = (await coffer.request('GET', `/v1/payments/${id}/refunds`, { key: token })).body._embedded.refunds;
    assert.equal(refunds.length, 1);
    for (const r of responses) assert.ok(r.status === 202 || (r.status === 409 && r.body.code === 'P0191'), r.text);
  });

  test('cancel and capture replay 204 with their key; without it a repeat is refused', async () => {
    const { token } = await coffer.newTenant();
    const cancelled = (await coffer.request('POST', '/v1/payments', { key: token, body: validPayment() })).body.payment_id;
    const headers = { 'idempotency-key': 'cancel-1' };
    assert.equal((await coffer.request('POST', `/v1/payments/${cancelled}/cancel`, { key: token, headers })).status, 204);
    assert.equal((await coffer.request('POST', `/v1/payments/${cancelled}/cancel`, { key: token, headers })).status, 204);
    assertError(await coffer.request('POST', `/v1/payments/${cancelled}/cancel`, { key: token }), 400, 'P0501');
    const capturable = await paid(coffer, token, { delayed_capture: true });
    const captureHeaders = { 'idempotency-key': 'capture-1' };
    assert.equal((await coffer.request('POST', `/v1/payments/${capturable}/capture`, { key: token, headers: captureHeaders })).status, 204);
    assert.equal((await coffer.request('POST', `/v1/payments/${capturable}/capture`, { key: token, headers: captureHeaders })).status, 204);
    assertError(await coffer.request('POST', `/v1/payments/${capturable}/capture`, { key: token }), 409, 'P1003');
    // The same key on another payment is another request: 409 P0191.
    const another = await paid(coffer, token, { delayed_capture: true });
    assertError(await coffer.request('POST', `/v1/payments/${another}/capture`, { key: token, headers: captureHeaders }), 409, 'P0191');
  });
});
