// /metrics: Prometheus text behind its own bearer token; absent (404) without one configured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { revokeKey } from '../../src/keys/key.service.js';
import { registerMetricSource } from '../../src/metrics/metrics.js';
import { waitForAudit } from '../audit/audit-support.js';

const TOKEN = 'metrics-token-for-the-tests-0123456789';
let coffer: TestCoffer;
let bare: TestCoffer;
before(async () => {
  coffer = await startCoffer({ metricsToken: TOKEN });
  bare = await startCoffer();
});
after(async () => {
  await coffer.close();
  await bare.close();
});

const scrape = async (c: TestCoffer = coffer) => {
  const response = await c.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  return response.text;
};

/** The value of one series, e.g. value(text, 'coffer_key_verifications_total{outcome="VALID"}'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  test('without a configured token the route does not exist', async () => {
    assert.equal((await bare.request('GET', '/metrics')).status, 404);
    assert.equal((await bare.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
  });

  test('no token, a wrong token or an API key is refused, and the refusal is audited', async () => {
    assert.equal((await coffer.request('GET', '/metrics')).status, 401);
    assert.equal((await coffer.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
    const tenant = await coffer.newTenant();
    const response = await coffer.request('GET', '/metrics', { key: tenant.token });
    assert.equal(response.status, 401);
    const [entry] = await waitForAudit(coffer.ctx, { request_id: response.headers.get('x-request-id')! });
    assert.equal(entry!.action, 'auth.failure');
    assert.equal(entry!.details.route, '/metrics');
  });

  test('counts requests and latency by route template, and key verifications by outcome', async () => {
    const tenant = await coffer.newTenant({ scopes: ['keys:read'] });
    const before = await scrape();
    const valid = value(before, 'coffer_key_verifications_total{outcome="VALID"}') ?? 0;
    const revoked = value(before, 'coffer_key_verifications_total{outcome="REVOKED"}') ?? 0;
    const keyGets = value(before, 'coffer_http_requests_total{method="GET",route="/v1/keys/:keyId",status="200"}') ?? 0;

    await coffer.request('GET', `/v1/keys/${tenant.keyId}`, { key: tenant.token });
    await coffer.request('GET', `/v1/keys/${tenant.keyId}`, { key: tenant.token });
    await revokeKey(coffer.ctx, tenant.keyId, { by: 'test' });
    await coffer.request('GET', '/v1/account', { key: tenant.token });
    await coffer.request('GET', '/v1/account', { key: 'coffer_test_malformed' });

    const after = await scrape();
    assert.equal(value(after, 'coffer_key_verifications_total{outcome="VALID"}'), valid + 2);
    assert.equal(value(after, 'coffer_key_verifications_total{outcome="REVOKED"}'), revoked + 1);
    assert.ok((value(after, 'coffer_key_verifications_total{outcome="MALFORMED"}') ?? 0) >= 1);
    assert.equal(value(after, 'coffer_http_requests_total{method="GET",route="/v1/keys/:keyId",status="200"}'), keyGets + 2);
    assert.ok(!after.includes(tenant.keyId), 'raw URLs never become labels');
    assert.match(after, /coffer_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/keys\/:keyId"\} \d+/);
    assert.match(after, /# TYPE coffer_http_request_duration_seconds histogram/);
  });

  test('reports database figures: payments by state, webhook backlog, unsealed audit entries', async () => {
    const text = await scrape();
    assert.match(text, /# HELP coffer_payments Payments by mode and state/);
    assert.match(text, /# HELP coffer_webhook_messages /);
    assert.match(text, /# HELP coffer_webhook_backlog_due /);
    assert.match(text, /coffer_audit_unsealed_entries \d+/);
    assert.match(text, /coffer_audit_queue_entries \d+/);
  });

  test('a domain adds its own figure; a failing source is left out without breaking the scrape', async () => {
    registerMetricSource({ name: 'coffer_test_answer', help: 'A test figure', labelNames: ['kind'], read: async () => [{ labels: { kind: 'x' }, value: 42 }] });
    registerMetricSource({
      name: 'coffer_test_broken',
      help: 'A broken figure',
      labelNames: [],
      read: async () => {
        throw new Error('table missing');
      },
    });
    const text = await scrape();
    assert.equal(value(text, 'coffer_test_answer{kind="x"}'), 42);
    assert.doesNotMatch(text, /coffer_test_broken/);
  });
});
