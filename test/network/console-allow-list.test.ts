// The console allow-list on the console's service pages: an address outside the service's
// console ranges is refused on every page of that service (before its role or step-up checks),
// an address inside is served, and X-Forwarded-For counts only when the peer is a trusted proxy.
// Over real HTTP, signed in through the real invite, password and TOTP steps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { runOperation } from '../../src/main/operations.js';
import { fillPath, SERVICE_PAGES } from '../../src/console/pages/console.shell.js';
import { enrolledUser, type EnrolledUser } from '../console/helpers.js';
import { waitForAudit } from '../audit/audit-support.js';

const OFFICE = '203.0.113.0/24';
const IN_OFFICE = '203.0.113.9';
const ELSEWHERE = '198.51.100.1';

let direct: TestCoffer;
let proxied: TestCoffer;
before(async () => {
  direct = await startCoffer();
  proxied = await startCoffer({ trustedProxies: ['127.0.0.1'] });
});
after(async () => {
  await direct.close();
  await proxied.close();
});

const allowConsole = (coffer: TestCoffer, serviceId: string, ...cidrs: string[]) =>
  runOperation(coffer.ctx, 'network.allow', { serviceId, mode: 'test', purpose: 'console', cidrs }, 'operator:netadmin');

/** An administrator of a service whose console is limited to the office range. */
async function officeOnlyAdmin(coffer: TestCoffer): Promise<EnrolledUser> {
  const user = await enrolledUser(coffer, { role: 'administrator' });
  await allowConsole(coffer, user.serviceId, OFFICE);
  return user;
}

function open(coffer: TestCoffer, user: EnrolledUser, path = '', headers: Record<string, string> = {}) {
  return fetch(`${coffer.url}/console/services/${user.serviceId}/test${path}`, {
    redirect: 'manual',
    headers: { cookie: `__Host-coffer_session=${user.token}`, ...headers },
  });
}

test('an address outside the console ranges is refused on every service page, and the refusal is recorded', async () => {
  const user = await officeOnlyAdmin(direct);
  const pages = SERVICE_PAGES.filter((p) => p.method === 'GET');
  assert.ok(pages.length >= 5, 'the service pages are registered');
  for (const page of pages) {
    const response = await open(direct, user, fillPath(page.path, { paymentId: 'x', keyId: 'x', webhookId: 'x', userId: 'x', alertId: 'x', messageId: 'x' }));
    assert.equal(response.status, 403, `GET ${page.path} from outside the office`);
  }
  const refused = await open(direct, user);
  const entries = await waitForAudit(direct.ctx, { request_id: refused.headers.get('x-request-id')! });
  assert.equal(entries[0]!.action, 'auth.denied');
  assert.equal(entries[0]!.actor_id, user.userId);
  assert.equal(entries[0]!.ip, '127.0.0.1');
});

test('the console list does not limit the API, nor another service’s console', async () => {
  const user = await officeOnlyAdmin(direct);
  const other = await enrolledUser(direct, { role: 'administrator' });
  assert.equal((await open(direct, other)).status, 200, 'another service with no console ranges');
  const key = await direct.newKey(user.serviceId);
  assert.equal((await direct.request('GET', '/v1/account', { key: key.token })).status, 200, 'the API list is separate');
});

test('an address inside the console ranges is served', async () => {
  const user = await officeOnlyAdmin(direct);
  await allowConsole(direct, user.serviceId, '127.0.0.0/8');
  const response = await open(direct, user);
  assert.equal(response.status, 200, await response.text());
});

test('a spoofed X-Forwarded-For from an untrusted peer is ignored: the socket address decides', async () => {
  const user = await officeOnlyAdmin(direct);
  const spoofed = await open(direct, user, '', { 'x-forwarded-for': IN_OFFICE });
  assert.equal(spoofed.status, 403);
  const [entry] = await waitForAudit(direct.ctx, { request_id: spoofed.headers.get('x-request-id')! });
  assert.equal(entry!.ip, '127.0.0.1', 'the log names the real peer, not the claimed one');
});

test('behind a trusted proxy the forwarded client address decides', async () => {
  const user = await officeOnlyAdmin(proxied);
  const inside = await open(proxied, user, '', { 'x-forwarded-for': IN_OFFICE });
  assert.equal(inside.status, 200, await inside.text());
  const outside = await open(proxied, user, '', { 'x-forwarded-for': ELSEWHERE });
  assert.equal(outside.status, 403);
  // A client-supplied hop in front of the proxy's own does not help either: the proxy's hop is the client.
  const chained = await open(proxied, user, '', { 'x-forwarded-for': `${IN_OFFICE}, ${ELSEWHERE}` });
  assert.equal(chained.status, 403);
});
