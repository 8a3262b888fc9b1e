// The /v1/webhooks API over real HTTP: happy paths, validation, and every auth case thrown at
// every route (no key, bad key, missing scope, another tenant's object).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIsolatedCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import { enableLiveAccount } from '../../src/services/service.service.js';
import { runOperation } from '../../src/main/operations.js';
import { cancelPayment, newPayment, newWebhookTenant, runWebhookWorkers, WEBHOOK_SCOPES } from './support.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startIsolatedCoffer();
});
after(() => coffer.close());

const RECEIVER = 'http://127.0.0.1:9/hooks';

describe('webhook endpoints API', () => {
  test('create shows the secret once; get and list never do', async () => {
    const tenant = await coffer.newTenant({ scopes: ['webhooks:write'] });
    const created = await coffer.request('POST', '/v1/webhooks', {
      key: tenant.token,
      body: { callback_url: RECEIVER, description: 'Finance system', subscriptions: ['card_payment_succeeded', 'card_payment_refunded'] },
    });
    assert.equal(created.status, 201);
    assert.match(created.body.signing_secret, /^whsec_/);
    assert.equal(Buffer.from(created.body.signing_secret.slice(6), 'base64').length, 32);
    const webhook = created.body.webhook;
    assert.match(webhook.id, /^wh_[0-9a-v]{26}$/);
    assert.equal(webhook.service_id, tenant.serviceId);
    assert.equal(webhook.mode, 'test');
    assert.equal(webhook.callback_url, RECEIVER);
    assert.equal(webhook.description, 'Finance system');
    assert.deepEqual(webhook.subscriptions, ['card_payment_succeeded', 'card_payment_refunded']);
    assert.equal(webhook.status, 'active');
    assert.equal(webhook.created_by, tenant.keyId);

    const got = await coffer.request('GET', `/v1/webhooks/${webhook.id}`, { key: tenant.token });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, webhook);
    assert.ok(!got.text.includes(created.body.signing_secret));
    const listed = await coffer.request('GET', '/v1/webhooks', { key: tenant.token });
    assert.deepEqual(listed.body.results, [webhook]);
    assert.ok(!listed.text.includes('whsec_'));
    // The secret is stored sealed, never as it was shown.
    const stored = await coffer.ctx.db.selectFrom('webhook_secrets').select('sealed').where('endpoint_id', '=', webhook.id).execute();
    assert.equal(stored.length, 1);
    assert.ok(!stored[0]!.sealed.includes(created.body.signing_secret.slice(6, 30)));
  });

  test('subscriptions default to every event type; PATCH changes url, description, types and status', async () => {
    const tenant = await coffer.newTenant({ scopes: ['webhooks:write'] });
    const created = await coffer.request('POST', '/v1/webhooks', { key: tenant.token, body: { callback_url: RECEIVER } });
    assert.equal(created.body.webhook.subscriptions.length, 7);
    const id = created.body.webhook.id;
    const patched = await coffer.request('PATCH', `/v1/webhooks/${id}`, {
      key: tenant.token,
      body: { callback_url: 'http://127.0.0.1:10/other', description: 'new', subscriptions: ['card_payment_captured'], status: 'inactive' },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.callback_url, 'http://127.0.0.1:10/other');
    assert.equal(patched.body.description, 'new');
    assert.deepEqual(patched.body.subscriptions, ['card_payment_captured']);
    assert.equal(patched.body.status, 'inactive');
  });

  test('bad input is refused with the field named', async () => {
    const tenant = await coffer.newTenant({ scopes: ['webhooks:write'] });
    const cases: [unknown, number, string][] = [
      [{}, 400, 'C0101'],
      [{ callback_url: 'not a url' }, 422, 'C0422'],
      [{ callback_url: 'ftp://example.org/x' }, 422, 'C0422'],
      [{ callback_url: 'https://user:pw@example.org/x' }, 422, 'C0422'],
      [{ callback_url: RECEIVER, subscriptions: ['card_payment_settled'] }, 422, 'C0102'],
      [{ callback_url: RECEIVER, subscriptions: [] }, 422, 'C0102'],
      [{ callback_url: RECEIVER, secret: 'mine' }, 400, 'C0104'],
      [{ callback_url: RECEIVER, description: 'x'.repeat(501) }, 422, 'C0102'],
    ];
    for (const [body, status, code] of cases) {
      const response = await coffer.request('POST', '/v1/webhooks', { key: tenant.token, body });
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal(response.body.code, code, JSON.stringify(body));
    }
  });

  test('literal private, loopback, link-local and unique-local targets are refused at creation when not allowed', async () => {
    const saved = coffer.ctx.webhooks;
    coffer.ctx.webhooks = { allowPrivateNetworks: [] };
    try {
      const tenant = await coffer.newTenant({ scopes: ['webhooks:write'] });
      for (const url of ['http://127.0.0.1/x', 'http://10.0.0.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://[fd00::1]/x', 'http://[::ffff:127.0.0.1]/x', 'http://0.0.0.0/x', 'http://localhost/x']) {
        const response = await coffer.request('POST', '/v1/webhooks', { key: tenant.token, body: { callback_url: url } });
        assert.equal(response.status, 422, url);
        assert.equal(response.body.field, 'callback_url', url);
      }
      // A name that resolves to a private address is refused too (a stub resolver stands in for DNS).
      coffer.ctx.webhooks = { allowPrivateNetworks: [], resolveHost: async () => [{ address: '10.1.2.3', family: 4 }] };
      const inside = await coffer.request('POST', '/v1/webhooks', { key: tenant.token, body: { callback_url: 'https://intranet.example.org/x' } });
      assert.equal(inside.status, 422);
      assert.match(inside.body.description, /10\.1\.2\.3 \(private\)/);
      coffer.ctx.webhooks = { allowPrivateNetworks: [], resolveHost: async () => [{ address: '93.184.215.14', family: 4 }] };
      const outside = await coffer.request('POST', '/v1/webhooks', { key: tenant.token, body: { callback_url: 'https://hooks.example.org/x' } });
      assert.equal(outside.status, 201);
    } finally {
      coffer.ctx.webhooks = saved;
    }
  });

  test('live endpoints must be https and get no private-network exception', { skip: !usingPostgres() && 'live accounts need PostgreSQL' }, async () => {
    const serviceId = await coffer.newService();
    await enableLiveAccount(coffer.ctx, serviceId);
    const live = await coffer.newKey(serviceId, { mode: 'live', scopes: ['webhooks:write'] });
    const http = await coffer.request('POST', '/v1/webhooks', { key: live.token, body: { callback_url: 'http://hooks.example.org/x' } });
    assert.equal(http.status, 422);
    assert.match(http.body.description, /https/);
    const loopback = await coffer.request('POST', '/v1/webhooks', { key: live.token, body: { callback_url: 'https://127.0.0.1/x' } });
    assert.equal(loopback.status, 422, 'the loopback exception is for test endpoints only');
    const test = await coffer.newKey(serviceId, { mode: 'test', scopes: ['webhooks:write'] });
    const testLoopback = await coffer.request('POST', '/v1/webhooks', { key: test.token, body: { callback_url: 'http://127.0.0.1/x' } });
    assert.equal(testLoopback.status, 201);
    const liveList = await coffer.request('GET', '/v1/webhooks', { key: live.token });
    assert.equal(liveList.body.results.length, 0, 'test endpoints are not the live account’s');
  });

  test('a message list is per endpoint, and per payment across endpoints', async () => {
    const tenant = await newWebhookTenant(coffer, RECEIVER);
    const second = await coffer.request('POST', '/v1/webhooks', { key: tenant.token, body: { callback_url: 'http://127.0.0.1:10/second' } });
    const paymentId = await newPayment(coffer, tenant.token);
    await cancelPayment(coffer, tenant.token, paymentId);
    await runWebhookWorkers(coffer);
    const perPayment = await coffer.request('GET', `/v1/payments/${paymentId}/webhook-messages`, { key: tenant.token });
    assert.equal(perPayment.status, 200);
    assert.deepEqual(perPayment.body.results.map((m: { endpoint_id: string }) => m.endpoint_id).sort(), [tenant.webhookId, second.body.webhook.id].sort());
    for (const message of perPayment.body.results) {
      assert.equal(message.attempts.length, 1);
      assert.equal(message.attempts[0].error, 'connection refused');
    }
    const perEndpoint = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
    assert.equal(perEndpoint.body.results.length, 1);
    const unknownPayment = await coffer.request('GET', '/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/webhook-messages', { key: tenant.token });
    assert.equal(unknownPayment.status, 404);
    const fresh = await newPayment(coffer, tenant.token, 'no-events-yet');
    const empty = await coffer.request('GET', `/v1/payments/${fresh}/webhook-messages`, { key: tenant.token });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.results, []);
  });
});

describe('message bodies', () => {
  test('a key that may read webhooks but not payments sees the delivery record without the payment in it', async () => {
    const tenant = await newWebhookTenant(coffer, RECEIVER);
    const paymentId = await newPayment(coffer, tenant.token, 'least-privilege');
    await cancelPayment(coffer, tenant.token, paymentId);
    await runWebhookWorkers(coffer);
    const webhooksOnly = await coffer.newKey(tenant.serviceId, { scopes: ['webhooks:read'] });
    const both = await coffer.newKey(tenant.serviceId, { scopes: ['webhooks:read', 'payments:read'] });
    for (const path of [`/v1/webhooks/${tenant.webhookId}/messages`, `/v1/payments/${paymentId}/webhook-messages`]) {
      const limited = await coffer.request('GET', path, { key: webhooksOnly.token });
      assert.equal(limited.status, 200, path);
      assert.equal(limited.body.results[0].body, null, path);
      assert.equal(limited.body.results[0].attempts.length, 1, path);
      const full = await coffer.request('GET', path, { key: both.token });
      assert.equal(JSON.parse(full.body.results[0].body).resource_id, paymentId, path);
    }
  });
});

describe('webhook API security', () => {
  test('every route refuses no key, a bad key and a key without the scope; another tenant’s objects are 404', async () => {
    const owner = await newWebhookTenant(coffer, RECEIVER);
    const paymentId = await newPayment(coffer, owner.token, 'security');
    await cancelPayment(coffer, owner.token, paymentId);
    await runWebhookWorkers(coffer);
    const messageId = (await coffer.request('GET', `/v1/webhooks/${owner.webhookId}/messages`, { key: owner.token })).body.results[0].id as string;
    const stranger = await coffer.newTenant({ scopes: WEBHOOK_SCOPES });
    const paymentsOnly = await coffer.newTenant({ scopes: ['payments:read', 'payments:write'] });
    const readOnly = await coffer.newTenant({ scopes: ['webhooks:read'] });

    const routes: { method: string; path: string; body?: unknown; scope: 'webhooks:read' | 'webhooks:write'; foreign: boolean }[] = [
      { method: 'POST', path: '/v1/webhooks', body: { callback_url: RECEIVER }, scope: 'webhooks:write', foreign: false },
      { method: 'GET', path: '/v1/webhooks', scope: 'webhooks:read', foreign: false },
      { method: 'GET', path: `/v1/webhooks/${owner.webhookId}`, scope: 'webhooks:read', foreign: true },
      { method: 'PATCH', path: `/v1/webhooks/${owner.webhookId}`, body: { description: 'x' }, scope: 'webhooks:write', foreign: true },
      { method: 'POST', path: `/v1/webhooks/${owner.webhookId}/rotate-secret`, body: {}, scope: 'webhooks:write', foreign: true },
      { method: 'GET', path: `/v1/webhooks/${owner.webhookId}/messages`, scope: 'webhooks:read', foreign: true },
      { method: 'GET', path: `/v1/webhooks/${owner.webhookId}/attempts`, scope: 'webhooks:read', foreign: true },
      { method: 'GET', path: `/v1/webhooks/${owner.webhookId}/messages/${messageId}`, scope: 'webhooks:read', foreign: true },
      { method: 'POST', path: `/v1/webhooks/${owner.webhookId}/messages/${messageId}/resend`, scope: 'webhooks:write', foreign: true },
      { method: 'GET', path: `/v1/payments/${paymentId}/webhook-messages`, scope: 'webhooks:read', foreign: true },
    ];
    for (const route of routes) {
      const label = `${route.method} ${route.path}`;
      const send = (key?: string) => coffer.request(route.method, route.path, { ...(key ? { key } : {}), ...(route.body !== undefined ? { body: route.body } : {}) });
      assert.equal((await send()).status, 401, `${label}: no key`);
      assert.equal((await send('coffer_test_notarealkeynotarealkeynotarealkey')).status, 401, `${label}: bad key`);
      const noScope = await send(paymentsOnly.token);
      assert.equal(noScope.status, 403, `${label}: payments key`);
      assert.ok(String(noScope.body.description).includes(route.scope), label);
      if (route.scope === 'webhooks:write') assert.equal((await send(readOnly.token)).status, 403, `${label}: read-only key`);
      if (route.foreign) {
        const foreign = await send(stranger.token);
        assert.equal(foreign.status, 404, `${label}: another tenant`);
        assert.equal(foreign.body.code, 'C0405', label);
      }
    }
    // The stranger's attempts changed nothing of the owner's.
    const endpoint = await coffer.request('GET', `/v1/webhooks/${owner.webhookId}`, { key: owner.token });
    assert.equal(endpoint.body.description, '');
    assert.ok(!coffer.logLines.some((l) => l.includes(owner.secret.slice(6, 30))), 'a signing secret was logged');
  });
});

describe('operator CLI operations', () => {
  test('webhook.create prints a secret for the named service and mode; rotate-secret issues another', async () => {
    const serviceId = await coffer.newService();
    const created = (await runOperation(coffer.ctx, 'webhook.create', { serviceId, mode: 'test', url: RECEIVER, eventTypes: ['card_payment_succeeded'] }, 'operator:test')) as {
      signingSecret: string;
      webhook: { id: string; subscriptions: string[]; created_by: string };
    };
    assert.match(created.signingSecret, /^whsec_/);
    assert.deepEqual(created.webhook.subscriptions, ['card_payment_succeeded']);
    assert.equal(created.webhook.created_by, 'operator:test');
    const listed = (await runOperation(coffer.ctx, 'webhook.list', { serviceId }, 'operator:test')) as { id: string }[];
    assert.deepEqual(listed.map((w) => w.id), [created.webhook.id]);
    const rotated = (await runOperation(coffer.ctx, 'webhook.rotate-secret', { serviceId, mode: 'test', webhookId: created.webhook.id, overlapMs: 0 }, 'operator:test')) as { signingSecret: string };
    assert.notEqual(rotated.signingSecret, created.signingSecret);
    await assert.rejects(runOperation(coffer.ctx, 'webhook.create', { serviceId, mode: 'test', url: RECEIVER, eventTypes: ['nope'] }, 'operator:test'), { code: 'C0422' });
  });
});
