// GET /v1/audit: an account searches its own entries by actor, action, object and time; the
// search is itself recorded; nobody sees another account's entries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { auditRows, waitForAudit } from './audit-support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

async function auditor() {
  const tenant = await coffer.newTenant({ scopes: ['audit:read', 'keys:write'] });
  return tenant;
}

describe('GET /v1/audit', () => {
  test('finds the account’s entries by action, actor and object, newest first', async () => {
    const tenant = await auditor();
    const other = await coffer.newKey(tenant.serviceId);
    const revoke = await coffer.request('POST', `/v1/keys/${other.id}/revoke`, { key: tenant.token, body: {} });
    assert.equal(revoke.status, 200);
    await waitForAudit(coffer.ctx, { request_id: revoke.headers.get('x-request-id')!, action: 'api.request' });

    const byAction = await coffer.request('GET', '/v1/audit?action=key.revoke', { key: tenant.token });
    assert.equal(byAction.status, 200);
    assert.equal(byAction.body.results.length, 1);
    const [entry] = byAction.body.results;
    assert.equal(entry.action, 'key.revoke');
    assert.deepEqual(entry.actor, { type: 'key', id: tenant.keyId });
    assert.deepEqual(entry.object, { type: 'key', id: other.id });
    assert.equal(entry.request_id, revoke.headers.get('x-request-id'));
    assert.equal(entry.outcome, 'success');
    assert.match(entry.id, /^aud_[0-9a-v]{26}$/);

    const byObject = await coffer.request('GET', `/v1/audit?object_type=key&object_id=${other.id}`, { key: tenant.token });
    assert.deepEqual(byObject.body.results.map((e: { action: string }) => e.action).sort(), ['api.request', 'key.create', 'key.revoke']);

    const byPrefix = await coffer.request('GET', '/v1/audit?action=key.*', { key: tenant.token });
    assert.ok(byPrefix.body.results.every((e: { action: string }) => e.action.startsWith('key.')));
    assert.ok(byPrefix.body.results.length >= 3);

    const byActor = await coffer.request('GET', `/v1/audit?actor=${tenant.keyId}`, { key: tenant.token });
    assert.ok(byActor.body.results.length >= 2);
    assert.ok(byActor.body.results.every((e: { actor: { id: string } }) => e.actor.id === tenant.keyId));
    const ids = byActor.body.results.map((e: { occurred_at: string }) => e.occurred_at);
    assert.deepEqual([...ids].sort().reverse(), ids, 'newest first');
  });

  test('filters by time and pages with a cursor', async () => {
    const tenant = await auditor();
    const start = coffer.clock.now();
    for (let i = 0; i < 3; i++) {
      coffer.clock.advance(60_000);
      await coffer.newKey(tenant.serviceId, { name: `k${i}` });
    }
    const from = new Date(start.getTime() + 90_000).toISOString();
    const recent = await coffer.request('GET', `/v1/audit?action=key.create&from=${encodeURIComponent(from)}`, { key: tenant.token });
    assert.equal(recent.body.results.length, 2);

    const page1 = await coffer.request('GET', '/v1/audit?action=key.create&limit=2', { key: tenant.token });
    assert.equal(page1.body.results.length, 2);
    assert.match(page1.body.next_cursor, /^c\d+$/);
    const page2 = await coffer.request('GET', `/v1/audit?action=key.create&limit=2&cursor=${page1.body.next_cursor}`, { key: tenant.token });
    assert.equal(page2.body.results.length, 2, 'three created here plus the auditor key');
    assert.equal(page2.body.next_cursor, null);
    const all = [...page1.body.results, ...page2.body.results].map((e: { id: string }) => e.id);
    assert.equal(new Set(all).size, 4);
  });

  test('reading the log is itself recorded, with the filter used', async () => {
    const tenant = await auditor();
    const response = await coffer.request('GET', '/v1/audit?action=payment.create', { key: tenant.token });
    assert.equal(response.status, 200);
    const [read] = await auditRows(coffer.ctx, { action: 'audit.read', request_id: response.headers.get('x-request-id')! });
    assert.ok(read);
    assert.equal(read.actor_id, tenant.keyId);
    assert.deepEqual((read.details.filter as Record<string, unknown>).action, 'payment.create');
  });

  test('refuses bad filters and cursors', async () => {
    const tenant = await auditor();
    const bad = await coffer.request('GET', '/v1/audit?from=yesterday', { key: tenant.token });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'C0102');
    const unknown = await coffer.request('GET', '/v1/audit?colour=red', { key: tenant.token });
    assert.equal(unknown.status, 400);
    const cursor = await coffer.request('GET', '/v1/audit?cursor=abc', { key: tenant.token });
    assert.equal(cursor.status, 422);
    assert.equal(cursor.body.field, 'cursor');
  });
});

describe('GET /v1/audit security', () => {
  test('no key, a bad key, and a key without audit:read are refused', async () => {
    assert.equal((await coffer.request('GET', '/v1/audit')).status, 401);
    assert.equal((await coffer.request('GET', '/v1/audit', { key: 'coffer_test_nope' })).status, 401);
    const payments = await coffer.newTenant();
    const response = await coffer.request('GET', '/v1/audit', { key: payments.token });
    assert.equal(response.status, 403);
    assert.equal(response.body.code, 'C0403');
  });

  test("another account's entries are never returned, even by id filters", async () => {
    const mine = await auditor();
    const theirs = await auditor();
    const theirKey = await coffer.newKey(theirs.serviceId);
    const response = await coffer.request('GET', `/v1/audit?object_id=${theirKey.id}`, { key: mine.token });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.results, []);
    const everything = await coffer.request('GET', '/v1/audit?limit=500', { key: mine.token });
    const accounts = new Set(everything.body.results.map((e: { account_id: string }) => e.account_id));
    assert.equal(accounts.size, 1);
    assert.ok(everything.body.results.every((e: { service_id: string }) => e.service_id === mine.serviceId));
  });
});
