// Every action leaves its audit entry, with the right who, what, object, when, where, outcome
// and request id, and never a card number or a key. Over real HTTP, on the store under test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import { recordAudit } from '../../src/audit/audit.service.js';
import { runOperation } from '../../src/main/operations.js';
import { enableLiveAccount } from '../../src/services/service.service.js';
import { sealAll } from '../../src/audit/audit.chain.js';
import { chainHash } from '../../src/audit/audit.entry.js';
import { auditRows, waitForAudit } from './audit-support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const NOW = '2026-11-25T12:00:00.000Z';
const UA = 'audit-test/1.0';

describe('audit entries for changes', () => {
  test('creating a service and a key records service.create and key.create in their transactions', async () => {
    const serviceId = await coffer.newService('Audited');
    const [service] = await auditRows(coffer.ctx, { action: 'service.create', service_id: serviceId });
    assert.ok(service);
    assert.equal(service.object_type, 'service');
    assert.equal(service.object_id, serviceId);
    assert.match(service.account_id ?? '', /^acct_/);
    assert.deepEqual(service.details, { name: 'Audited' });
    assert.equal(service.actor_type, 'system');

    const key = await coffer.newKey(serviceId, { name: 'ci', createdBy: 'operator:alice', scopes: ['keys:write'] });
    const [created] = await auditRows(coffer.ctx, { action: 'key.create', object_id: key.id });
    assert.ok(created);
    assert.equal(created.actor_type, 'operator');
    assert.equal(created.actor_id, 'operator:alice');
    assert.equal(created.object_type, 'key');
    assert.equal(created.service_id, serviceId);
    assert.equal(created.account_id, service.account_id);
    assert.equal(created.occurred_at.toISOString(), NOW);
    assert.equal(created.outcome, 'success');
    assert.deepEqual(created.details.scopes, ['keys:write']);
    assert.equal(JSON.stringify(created).includes(key.token), false, 'the key itself is never in the log');
  });

  test('revoking a key over the API records who, from where, with which request', async () => {
    const admin = await coffer.newTenant({ scopes: ['keys:write'] });
    const victim = await coffer.newKey(admin.serviceId);
    const response = await coffer.request('POST', `/v1/keys/${victim.id}/revoke`, { key: admin.token, body: { reason: 'left the team' }, headers: { 'user-agent': UA } });
    assert.equal(response.status, 200);
    const requestId = response.headers.get('x-request-id');

    const [revoke] = await auditRows(coffer.ctx, { action: 'key.revoke', object_id: victim.id });
    assert.ok(revoke);
    assert.equal(revoke.actor_type, 'key');
    assert.equal(revoke.actor_id, admin.keyId);
    assert.equal(revoke.service_id, admin.serviceId);
    assert.equal(revoke.ip, '127.0.0.1');
    assert.equal(revoke.user_agent, UA);
    assert.equal(revoke.request_id, requestId);
    assert.equal(revoke.outcome, 'success');
    assert.deepEqual(revoke.details, { reason: 'left the team' });

    const [request] = await waitForAudit(coffer.ctx, { action: 'api.request', request_id: requestId! });
    assert.ok(request);
    assert.equal(request.object_type, 'key');
    assert.equal(request.object_id, victim.id);
    assert.deepEqual({ ...request.details, duration_ms: 0 }, { method: 'POST', route: '/v1/keys/:keyId/revoke', status: 200, duration_ms: 0 });
  });

  test('a change that fails records nothing of the change, but the refused request is recorded', async () => {
    const admin = await coffer.newTenant({ scopes: ['keys:write'] });
    await coffer.request('POST', `/v1/keys/${admin.keyId}/roll`, { key: admin.token, body: { overlap: '0' } });
    const again = await coffer.request('POST', `/v1/keys/${admin.keyId}/revoke`, { key: admin.token });
    assert.equal(again.status, 401, 'the rolled key was revoked at once');
    const rolls = await auditRows(coffer.ctx, { action: 'key.roll', object_id: admin.keyId });
    assert.equal(rolls.length, 1);
    assert.equal(rolls[0]!.details.revoked_now, true);
    assert.match(String(rolls[0]!.details.new_key_id), /^key_/);
    assert.equal((await auditRows(coffer.ctx, { action: 'key.revoke', object_id: admin.keyId })).length, 0);
    const [refused] = await waitForAudit(coffer.ctx, { action: 'auth.failure', request_id: again.headers.get('x-request-id')! });
    assert.equal(refused!.actor_id, admin.keyId, 'the refused key is named');
    assert.equal(refused!.outcome, 'denied');
    assert.equal(refused!.details.auth, 'REVOKED');
    assert.equal(refused!.account_id, rolls[0]!.account_id);
  });

  test('an entry recorded in a transaction that rolls back is gone with it', async () => {
    const marker = `rollback-${Date.now()}`;
    await assert.rejects(
      coffer.ctx.db.transaction().execute(async (trx) => {
        await recordAudit(trx, { action: 'test.rollback', object: { type: 'test', id: marker }, at: coffer.clock.now() });
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    assert.equal((await auditRows(coffer.ctx, { object_id: marker })).length, 0);
  });

  test('enabling live records service.enable_live (PostgreSQL only: the embedded store refuses live)', { skip: !usingPostgres() }, async () => {
    const serviceId = await coffer.newService();
    const account = await enableLiveAccount(coffer.ctx, serviceId);
    const [entry] = await auditRows(coffer.ctx, { action: 'service.enable_live', service_id: serviceId });
    assert.equal(entry?.object_id, account.id);
    assert.equal(entry?.account_id, account.id);
  });
});

describe('audit entries for every request', () => {
  test('a read is recorded with its route, status and key', async () => {
    const tenant = await coffer.newTenant();
    const response = await coffer.request('GET', '/v1/account', { key: tenant.token, headers: { 'user-agent': UA } });
    assert.equal(response.status, 200);
    const [entry] = await waitForAudit(coffer.ctx, { request_id: response.headers.get('x-request-id')! });
    assert.equal(entry!.action, 'api.request');
    assert.equal(entry!.actor_id, tenant.keyId);
    assert.equal(entry!.actor_type, 'key');
    assert.equal(entry!.service_id, tenant.serviceId);
    assert.equal(entry!.outcome, 'success');
    assert.equal(entry!.user_agent, UA);
    assert.equal(entry!.ip, '127.0.0.1');
    assert.equal(entry!.details.route, '/v1/account');
    assert.equal(entry!.details.status, 200);
  });

  test('a request without a key is recorded as an anonymous auth.failure', async () => {
    const response = await coffer.request('GET', '/v1/account');
    assert.equal(response.status, 401);
    const [entry] = await waitForAudit(coffer.ctx, { request_id: response.headers.get('x-request-id')! });
    assert.equal(entry!.action, 'auth.failure');
    assert.equal(entry!.actor_type, 'anonymous');
    assert.equal(entry!.outcome, 'denied');
    assert.equal(entry!.details.auth, 'MISSING');
  });

  test('a key without the scope is recorded as auth.denied against that key', async () => {
    const tenant = await coffer.newTenant({ scopes: ['payments:read'] });
    const response = await coffer.request('GET', '/v1/keys', { key: tenant.token });
    assert.equal(response.status, 403);
    const [entry] = await waitForAudit(coffer.ctx, { request_id: response.headers.get('x-request-id')! });
    assert.equal(entry!.action, 'auth.denied');
    assert.equal(entry!.actor_id, tenant.keyId);
    assert.equal(entry!.details.auth, 'MISSING_SCOPE');
  });

  test('public routes (health) are not recorded; probes of unknown API paths are', async () => {
    const health = await coffer.request('GET', '/healthz');
    const probe = await coffer.request('GET', '/v1/nothing-here');
    assert.equal(probe.status, 404);
    await waitForAudit(coffer.ctx, { request_id: probe.headers.get('x-request-id')! });
    assert.equal((await auditRows(coffer.ctx, { request_id: health.headers.get('x-request-id')! })).length, 0);
  });
});

describe('what never reaches the audit log', () => {
  test('card numbers, CVCs and keys are scrubbed from every field', async () => {
    const tenant = await coffer.newTenant();
    const response = await coffer.request('GET', '/v1/account', {
      key: tenant.token,
      headers: { 'user-agent': `evil 4242 4242 4242 4242 ${tenant.token}` },
    });
    const [entry] = await waitForAudit(coffer.ctx, { request_id: response.headers.get('x-request-id')! });
    assert.equal(entry!.user_agent, 'evil [REDACTED-PAN] coffer_test_[REDACTED]');

    const id = await recordAudit(coffer.ctx.db, {
      action: 'test.scrub',
      at: coffer.clock.now(),
      object: { type: 'note', id: '4000 0566 5566 5556' },
      details: { card_number: '4111111111111111', cvc: '123', note: 'paid with 5555555555554444', nested: { password: 'hunter2', ok: 'kept' } },
    });
    const [row] = await auditRows(coffer.ctx, { action: 'test.scrub' });
    assert.ok(row && row.entry_id === id);
    assert.equal(row.object_id, '[REDACTED-PAN]');
    assert.deepEqual(row.details, { card_number: '[REDACTED]', cvc: '[REDACTED]', note: 'paid with [REDACTED-PAN]', nested: { password: '[REDACTED]', ok: 'kept' } });
  });

  test('a malformed action name is a bug, refused before anything is written', async () => {
    await assert.rejects(recordAudit(coffer.ctx.db, { action: 'Payment Created', at: coffer.clock.now() }), TypeError);
  });
});

describe('CLI commands', () => {
  test('an operator command records the command and, inside it, the change, under the operator', async () => {
    const serviceId = await coffer.newService();
    const key = await coffer.newKey(serviceId);
    await runOperation(coffer.ctx, 'key.revoke', { keyId: key.id, reason: 'rotated' }, 'operator:bob');
    const [change] = await auditRows(coffer.ctx, { action: 'key.revoke', object_id: key.id });
    assert.equal(change!.actor_id, 'operator:bob');
    assert.equal(change!.actor_type, 'operator');
    assert.equal(change!.user_agent, 'coffer-cli');
    const commands = await auditRows(coffer.ctx, { action: 'cli.key.revoke', actor_id: 'operator:bob' });
    const command = commands.find((c) => (c.details.args as Record<string, unknown>).keyId === key.id);
    assert.ok(command);
    assert.equal(command.outcome, 'success');

    await assert.rejects(runOperation(coffer.ctx, 'key.revoke', { keyId: key.id }, 'operator:bob'));
    const failed = (await auditRows(coffer.ctx, { action: 'cli.key.revoke', actor_id: 'operator:bob' })).filter((c) => c.outcome === 'failure');
    assert.equal(failed.length, 1);
    assert.match(String(failed[0]!.details.error), /already revoked/);
  });

  test('a service created from the CLI names the operator', async () => {
    const created = (await runOperation(coffer.ctx, 'service.create', { name: 'From the CLI' }, 'operator:carol')) as { id: string };
    const [entry] = await auditRows(coffer.ctx, { action: 'service.create', service_id: created.id });
    assert.equal(entry!.actor_id, 'operator:carol');
  });
});

describe('request entries are stored exactly as recorded', () => {
  // Request entries are written with COPY (on both stores), whose text format gives backslashes,
  // tabs and `\N` (NULL) a meaning of their own: an entry must come back byte for byte, and its
  // hash, computed before it was written, must still cover what is stored.
  test('backslashes, quotes and a literal \\N survive, and the stored row matches its hash', async () => {
    const tenant = await coffer.newTenant();
    const userAgent = 'odd\\agent "quoted" \\N\tend';
    const response = await coffer.request('GET', `/v1/payments/${encodeURIComponent('\\N')}`, { key: tenant.token, headers: { 'user-agent': userAgent } });
    assert.equal(response.status, 404);
    const requestId = response.headers.get('x-request-id')!;
    await waitForAudit(coffer.ctx, { action: 'api.request', request_id: requestId });
    await sealAll(coffer.ctx);
    const [entry] = await auditRows(coffer.ctx, { action: 'api.request', request_id: requestId });
    assert.ok(entry);
    assert.equal(entry.user_agent, 'odd\\agent "quoted" \\N end', 'the tab, a control character, is cleaned to a space; the rest is kept');
    assert.equal(entry.object_type, 'payment');
    assert.equal(entry.object_id, '\\N', 'a value that reads \\N is not NULL');
    assert.equal(entry.details.route, '/v1/payments/:paymentId');
    assert.ok(entry.seq !== null);
    assert.equal(entry.hash, chainHash(entry.prev_hash!, entry.seq, entry));
  });
});
