// POST /v1/keys/leaked: a live key reported by a secret scanner is revoked at once and the API
// refuses it; every report gets the same 202; the route is limited per client address.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { alertsOf } from './support.js';
import { LEAK_REPORTS_PER_MINUTE } from '../../src/alerts/alert.routes.js';
import { generateKeyToken } from '../../src/keys/key.format.js';

const METRICS_TOKEN = 'metrics-token-for-alert-tests-0123456789';
let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer({ trustedProxies: ['127.0.0.1'], metricsToken: METRICS_TOKEN });
});
after(async () => {
  await coffer.close();
});

// Counters live in the database, which PostgreSQL runs share: each run takes its own addresses.
const run = `${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
let reporter = 0;
/** Each test reports from its own address, so the per-address limit is its own. */
const report = (body: unknown, ip = `10.${run}.${++reporter}`) => coffer.request('POST', '/v1/keys/leaked', { body, headers: { 'x-forwarded-for': ip } });

test('a reported live key is revoked at once, the API refuses it, and the service is alerted', async () => {
  const tenant = await coffer.newTenant();
  assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token })).status, 200);
  const answer = await report([{ token: tenant.token, type: 'coffer_api_key', url: 'https://github.com/someone/repo/blob/main/.env', source: 'content' }]);
  assert.equal(answer.status, 202);
  assert.deepEqual(answer.body, { status: 'received' });
  assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token })).status, 401, 'refused at once');
  const key = await coffer.ctx.db.selectFrom('api_keys').select(['revoked_at', 'revoked_by']).where('id', '=', tenant.keyId).executeTakeFirstOrThrow();
  assert.ok(key.revoked_at);
  assert.equal(key.revoked_by, 'leak-report');
  const alerts = await alertsOf(coffer, tenant.serviceId, 'key_leaked');
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.severity, 'critical');
  assert.equal(alerts[0]?.details.revoked_now, true);
  assert.equal(alerts[0]?.details.url, 'https://github.com/someone/repo/blob/main/.env');
  assert.ok(!JSON.stringify(alerts).includes(tenant.token), 'the key itself is never stored in the alert');
  const audit = await coffer.ctx.db.selectFrom('audit_log').select(['action', 'actor_id']).where('object_id', '=', tenant.keyId).where('action', '=', 'key.revoke').execute();
  assert.equal(audit.length, 1);
});

test('unknown, malformed and already revoked keys get the same answer; a revoked one still alerts', async () => {
  const tenant = await coffer.newTenant();
  await report({ token: tenant.token });
  const unknown = await report({ token: generateKeyToken('live') });
  const malformed = await report({ token: 'coffer_live_nonsense' });
  const again = await report({ token: tenant.token });
  for (const answer of [unknown, malformed, again]) {
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body, { status: 'received' });
  }
  const alerts = await alertsOf(coffer, tenant.serviceId, 'key_leaked');
  assert.equal(alerts.length, 1, 'the second report adds to the open alert');
  assert.equal(alerts[0]?.occurrences, 2);
});

test('needs no key, but is limited per client address', async () => {
  const ip = `10.${run}.201`;
  const tokens = Array.from({ length: LEAK_REPORTS_PER_MINUTE }, () => ({ token: generateKeyToken('test') }));
  assert.equal((await report(tokens, ip)).status, 202);
  const limited = await report({ token: generateKeyToken('test') }, ip);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.code, 'C0429');
  assert.equal((await report({ token: generateKeyToken('test') }, `10.${run}.202`)).status, 202, 'another address is not limited');
});

test('a body that is not a report is refused with 400-class error, not processed', async () => {
  const answer = await coffer.request('POST', '/v1/keys/leaked', { body: { nope: true } });
  assert.ok(answer.status >= 400 && answer.status < 500, answer.text);
});

test('/metrics counts alerts by detector and status', async () => {
  const tenant = await coffer.newTenant();
  await report({ token: tenant.token });
  const metrics = await coffer.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(metrics.status, 200);
  const line = metrics.text.split('\n').find((l) => l.startsWith('coffer_security_alerts{') && l.includes('detector="key_leaked"') && l.includes('status="open"'));
  assert.ok(line, 'a coffer_security_alerts line for open key_leaked alerts');
  assert.ok(Number(line.split(' ').at(-1)) >= 1);
});
