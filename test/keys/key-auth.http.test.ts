// Every state an API key can be in, thrown at the API over real HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import { revokeKey, rollKey } from '../../src/keys/key.service.js';
import { enableLiveAccount } from '../../src/services/service.service.js';
import { openStore } from '../../src/store/database.js';
import { buildServer } from '../../src/http/server.js';
import { parseKeyToken } from '../../src/keys/key.format.js';
import { verifyKey } from '../../src/keys/key.verifier.js';
import { networkAllows } from '../../src/network/network.service.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const HOUR = 3_600_000;

function assertGeneric401(response: { status: number; body: Record<string, unknown>; headers: Headers }) {
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('www-authenticate'), 'Bearer');
  assert.deepEqual(Object.keys(response.body).sort(), ['code', 'description', 'request_id']);
  assert.equal(response.body.code, 'C0401');
  assert.equal(response.body.description, 'Credentials are missing or invalid');
  assert.equal(response.body.request_id, response.headers.get('x-request-id'));
}

describe('API key authentication', () => {
  test('a valid key reaches its own service, account and mode', async () => {
    const { serviceId, token, keyId } = await coffer.newTenant();
    const response = await coffer.request('GET', '/v1/account', { key: token });
    assert.equal(response.status, 200);
    assert.equal(response.body.service_id, serviceId);
    assert.equal(response.body.mode, 'test');
    assert.equal(response.body.key.id, keyId);
    assert.match(response.body.account_id, /^acct_[0-9a-v]{26}$/);
  });

  test('a key has the documented shape and checksum', async () => {
    const { token } = await coffer.newTenant();
    assert.match(token, /^coffer_test_[0-9A-Za-z]{36}$/);
    assert.deepEqual(parseKeyToken(token), { ok: true, mode: 'test' });
  });

  test('no key, a malformed header, and a non-Bearer scheme all get the generic 401', async () => {
    assertGeneric401(await coffer.request('GET', '/v1/account'));
    assertGeneric401(await coffer.request('GET', '/v1/account', { headers: { authorization: 'Bearer' } }));
    assertGeneric401(await coffer.request('GET', '/v1/account', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }));
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: 'not-a-key' }));
  });

  test('a mistyped key fails its checksum and never reaches the database', async () => {
    const { token } = await coffer.newTenant();
    const last = token.at(-1) === 'a' ? 'b' : 'a';
    const mistyped = token.slice(0, 20) + (token[20] === 'x' ? 'y' : 'x') + token.slice(21);
    assert.equal(parseKeyToken(mistyped).ok, false);
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: mistyped }));
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: token.slice(0, -1) + last }));
    assert.ok(coffer.logLines.some((l) => l.includes('"auth":"BAD_CHECKSUM"')));
  });

  test('a well-formed key that was never issued is unknown', async () => {
    const { token } = await coffer.newTenant();
    const { generateKeyToken } = await import('../../src/keys/key.format.js');
    const stranger = generateKeyToken('test');
    assert.notEqual(stranger, token);
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: stranger }));
    assert.ok(coffer.logLines.some((l) => l.includes('"auth":"NOT_FOUND"')));
  });

  test('an expired key is refused from the moment it expires', async () => {
    const serviceId = await coffer.newService();
    const { token } = await coffer.newKey(serviceId, { expiresInMs: 2 * HOUR });
    assert.equal((await coffer.request('GET', '/v1/account', { key: token })).status, 200);
    coffer.clock.advance(2 * HOUR);
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: token }));
    assert.ok(coffer.logLines.some((l) => l.includes('"auth":"EXPIRED"')));
  });

  test('a revoked key stops working at once on the node that revoked it', async () => {
    const { token, keyId } = await coffer.newTenant();
    assert.equal((await coffer.request('GET', '/v1/account', { key: token })).status, 200);
    await revokeKey(coffer.ctx, keyId, { by: 'test', reason: 'leaked in a log' });
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: token }));
    assert.ok(coffer.logLines.some((l) => l.includes('"auth":"REVOKED"')));
  });

  test('a rolled key works inside the overlap and stops after it; the new key works throughout', async () => {
    const { token: oldToken, keyId } = await coffer.newTenant({ scopes: ['payments:read', 'keys:read'] });
    const rolled = await rollKey(coffer.ctx, keyId, { overlapMs: HOUR, by: 'test' });
    assert.notEqual(rolled.token, oldToken);
    assert.deepEqual(rolled.key.scopes, ['payments:read', 'keys:read']);
    assert.equal(rolled.key.rolled_from_key_id, keyId);
    assert.equal(rolled.previous.status, 'expiring');

    assert.equal((await coffer.request('GET', '/v1/account', { key: oldToken })).status, 200);
    assert.equal((await coffer.request('GET', '/v1/account', { key: rolled.token })).status, 200);
    coffer.clock.advance(HOUR - 1);
    assert.equal((await coffer.request('GET', '/v1/account', { key: oldToken })).status, 200);
    coffer.clock.advance(1);
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: oldToken }));
    assert.equal((await coffer.request('GET', '/v1/account', { key: rolled.token })).status, 200);
  });

  test('a roll with no overlap revokes the old key now; a key cannot be rolled twice', async () => {
    const { token: oldToken, keyId } = await coffer.newTenant();
    const rolled = await rollKey(coffer.ctx, keyId, { overlapMs: 0, by: 'test' });
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: oldToken }));
    assert.equal((await coffer.request('GET', '/v1/account', { key: rolled.token })).status, 200);
    await assert.rejects(rollKey(coffer.ctx, keyId, { overlapMs: 0, by: 'test' }), { code: 'C0409' });
  });

  test('a key without the scope a route needs gets 403, naming the scope', async () => {
    const { token } = await coffer.newTenant({ scopes: ['payments:read'] });
    const response = await coffer.request('GET', '/v1/keys', { key: token });
    assert.equal(response.status, 403);
    assert.equal(response.body.code, 'C0403');
    assert.match(response.body.description, /keys:read/);
  });

  test('a key used from outside its allowed IP ranges gets 403; inside, 200', async () => {
    const serviceId = await coffer.newService();
    const outside = await coffer.newKey(serviceId, { allowedIps: ['10.0.0.0/8', '2001:db8::/32'] });
    const inside = await coffer.newKey(serviceId, { allowedIps: ['127.0.0.1/32'] });
    const refused = await coffer.request('GET', '/v1/account', { key: outside.token });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'C0404');
    assert.equal((await coffer.request('GET', '/v1/account', { key: inside.token })).status, 200);
  });

  test('a key this node has just checked is answered without waiting, and its refusals still hold', async () => {
    // The hot path (auth.ts): a cached key, allow-list and network are checked with no promise.
    const { token } = await coffer.newTenant({ scopes: ['payments:read'] });
    assert.equal((await coffer.request('GET', '/v1/account', { key: token })).status, 200);
    const outcome = verifyKey(coffer.ctx, token, '127.0.0.1');
    assert.ok(!(outcome instanceof Promise), 'a cached key is verified synchronously');
    assert.equal(outcome.valid, true);
    const { accountId } = outcome.valid ? outcome.key : { accountId: '' };
    assert.equal(typeof networkAllows(coffer.ctx, accountId, 'api', '127.0.0.1'), 'boolean', 'a cached allow-list answers synchronously');

    // The same refusals as on a cache miss, now decided on the synchronous path.
    for (let i = 0; i < 2; i++) {
      const refused = await coffer.request('GET', '/v1/keys', { key: token });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'C0403');
    }
    const serviceId = await coffer.newService();
    const outside = await coffer.newKey(serviceId, { allowedIps: ['10.0.0.0/8'] });
    for (let i = 0; i < 2; i++) assert.equal((await coffer.request('GET', '/v1/account', { key: outside.token })).body.code, 'C0404');
    assert.ok(!(verifyKey(coffer.ctx, outside.token, '127.0.0.1') instanceof Promise));
  });

  test("another service's key object answers 404, as does a key that does not exist", async () => {
    const mine = await coffer.newTenant({ scopes: ['keys:read', 'keys:write'] });
    const theirs = await coffer.newTenant();
    const foreign = await coffer.request('GET', `/v1/keys/${theirs.keyId}`, { key: mine.token });
    const missing = await coffer.request('GET', '/v1/keys/key_00000000000000000000000000', { key: mine.token });
    assert.equal(foreign.status, 404);
    assert.deepEqual({ ...foreign.body, request_id: 'x' }, { ...missing.body, request_id: 'x' });
    assert.equal((await coffer.request('POST', `/v1/keys/${theirs.keyId}/revoke`, { key: mine.token, body: {} })).status, 404);
    assert.equal((await coffer.request('GET', '/v1/account', { key: theirs.token })).status, 200, 'the foreign key is untouched');
    const own = await coffer.request('GET', `/v1/keys/${mine.keyId}`, { key: mine.token });
    assert.equal(own.status, 200);
    assert.equal(own.body.id, mine.keyId);
    assert.equal(own.body.token_hash, undefined);
  });

  test('test keys reach only test data and live keys only live data', { skip: !usingPostgres() && 'live accounts need PostgreSQL' }, async () => {
    const serviceId = await coffer.newService();
    await enableLiveAccount(coffer.ctx, serviceId);
    const test = await coffer.newKey(serviceId, { mode: 'test', scopes: ['keys:read'] });
    const live = await coffer.newKey(serviceId, { mode: 'live', scopes: ['keys:read'] });
    assert.match(live.token, /^coffer_live_/);
    const liveAccount = await coffer.request('GET', '/v1/account', { key: live.token });
    const testAccount = await coffer.request('GET', '/v1/account', { key: test.token });
    assert.equal(liveAccount.body.mode, 'live');
    assert.notEqual(liveAccount.body.account_id, testAccount.body.account_id);
    assert.equal((await coffer.request('GET', `/v1/keys/${live.id}`, { key: test.token })).status, 404);
    assert.equal((await coffer.request('GET', `/v1/keys/${test.id}`, { key: live.token })).status, 404);
    const listed = await coffer.request('GET', '/v1/keys', { key: test.token });
    assert.deepEqual(listed.body.results.map((k: { id: string }) => k.id), [test.id]);
  });

  test('a key whose prefix is changed to the other mode fails its checksum', async () => {
    const { token } = await coffer.newTenant();
    const relabelled = token.replace('coffer_test_', 'coffer_live_');
    assert.equal(parseKeyToken(relabelled).ok, false);
    assertGeneric401(await coffer.request('GET', '/v1/account', { key: relabelled }));
  });

  test('no key ever appears in a log line', async () => {
    const { token } = await coffer.newTenant();
    await coffer.request('GET', '/v1/account', { key: token });
    await coffer.request('GET', `/v1/account?leak=${token}`, { key: token });
    assert.ok(coffer.logLines.length > 0);
    assert.ok(!coffer.logLines.some((l) => l.includes(token.slice(12, 42))), 'the secret part of a key was logged');
  });
});

describe('revocation across nodes', { skip: !usingPostgres() && 'the embedded store has one node by design' }, () => {
  test('a revocation on one node takes effect on another within a second', async () => {
    const otherStore = await openStore({ databaseUrl: process.env.COFFER_TEST_DATABASE_URL, poolSize: 2 });
    const otherCtx = { ...coffer.ctx, db: otherStore.db };
    const other = await buildServer(otherCtx, { baseUrl: 'http://127.0.0.1', version: 'test', trustedProxies: [], securityTxt: { contact: 'mailto:a@b.c', expires: undefined } });
    await other.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = other.server.address();
      const otherUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const { token, keyId } = await coffer.newTenant();
      const callOther = () => fetch(`${otherUrl}/v1/account`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
      assert.equal(await callOther(), 200);
      await revokeKey(coffer.ctx, keyId, { by: 'test' });
      coffer.clock.advance(1000);
      assert.equal(await callOther(), 401);
    } finally {
      await other.close();
      await otherStore.close();
    }
  });
});
