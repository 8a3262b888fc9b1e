// Network allow-lists: an account's API list refuses outside addresses (IPv4 and IPv6), a
// key's own ranges still apply, the console list is separate, and X-Forwarded-For counts only
// when the peer is a trusted proxy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { runOperation } from '../../src/main/operations.js';
import { canonicalCidr, consoleAllows, networkAllows } from '../../src/network/network.service.js';
import { findAccountByServiceAndMode } from '../../src/services/service.repo.js';
import { createService } from '../../src/services/service.service.js';
import { auditRows, dropIsolatedStore, openIsolatedStore, waitForAudit } from '../audit/audit-support.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'src', 'main', 'cli.ts');

let coffer: TestCoffer;
let proxied: TestCoffer;
before(async () => {
  coffer = await startCoffer();
  proxied = await startCoffer({ trustedProxies: ['127.0.0.1'] });
});
after(async () => {
  await coffer.close();
  await proxied.close();
});

const allow = (c: TestCoffer, serviceId: string, purpose: 'api' | 'console', ...cidrs: string[]) =>
  runOperation(c.ctx, 'network.allow', { serviceId, mode: 'test', purpose, cidrs }, 'operator:netadmin') as Promise<{ cidr: string; purpose: string }[]>;
const remove = (c: TestCoffer, serviceId: string, purpose: 'api' | 'console', ...cidrs: string[]) =>
  runOperation(c.ctx, 'network.remove', { serviceId, mode: 'test', purpose, cidrs }, 'operator:netadmin') as Promise<{ cidr: string }[]>;

describe('API allow-list', () => {
  test('with no ranges every address may call; once set, an outside address is refused with 403', async () => {
    const tenant = await coffer.newTenant();
    assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token })).status, 200);

    await allow(coffer, tenant.serviceId, 'api', '203.0.113.0/24', '2001:db8::/32');
    const refused = await coffer.request('GET', '/v1/account', { key: tenant.token });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'C0404');
    const [entry] = await waitForAudit(coffer.ctx, { request_id: refused.headers.get('x-request-id')! });
    assert.equal(entry!.action, 'auth.denied');
    assert.equal(entry!.details.auth, 'ACCOUNT_IP_NOT_ALLOWED');
    assert.equal(entry!.actor_id, tenant.keyId);

    await allow(coffer, tenant.serviceId, 'api', '127.0.0.1');
    assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token })).status, 200, 'a change takes effect at once on this node');

    await remove(coffer, tenant.serviceId, 'api', '127.0.0.1/32');
    assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token })).status, 403);
  });

  test('IPv4 and IPv6 ranges are matched by prefix, and IPv4-mapped IPv6 peers as IPv4', async () => {
    const tenant = await coffer.newTenant();
    await allow(coffer, tenant.serviceId, 'api', '10.0.0.0/8', '2001:db8:abcd::/48');
    const account = (await findAccountByServiceAndMode(coffer.ctx.db, tenant.serviceId, 'test'))!;
    const allows = (ip: string) => networkAllows(coffer.ctx, account.id, 'api', ip);
    assert.equal(await allows('10.255.1.2'), true);
    assert.equal(await allows('::ffff:10.1.2.3'), true);
    assert.equal(await allows('11.0.0.1'), false);
    assert.equal(await allows('2001:db8:abcd:12::1'), true);
    assert.equal(await allows('2001:db8:abce::1'), false);
    assert.equal(await allows('not an ip'), false);
  });

  test("a key's own ranges still apply on top of the account's", async () => {
    const serviceId = await coffer.newService();
    const key = await coffer.newKey(serviceId, { allowedIps: ['192.0.2.0/24'] });
    await allow(coffer, serviceId, 'api', '127.0.0.0/8');
    const response = await coffer.request('GET', '/v1/account', { key: key.token });
    assert.equal(response.status, 403, 'the account allows loopback, the key does not');
  });

  test('the console list is separate from the API list', async () => {
    const tenant = await coffer.newTenant();
    await allow(coffer, tenant.serviceId, 'console', '198.51.100.0/24');
    assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token })).status, 200, 'the API list is still empty');
    assert.equal(await consoleAllows(coffer.ctx, tenant.serviceId, 'test', '198.51.100.20'), true);
    assert.equal(await consoleAllows(coffer.ctx, tenant.serviceId, 'test', '127.0.0.1'), false);
  });

  test('ranges are stored as the network they mean, once; changes are audited under the operator', async () => {
    const tenant = await coffer.newTenant();
    const list = await allow(coffer, tenant.serviceId, 'api', '203.0.113.77/24', '203.0.113.0/24', '2001:0db8:0:0:1::/64');
    assert.deepEqual(list.map((r) => r.cidr).sort(), ['2001:db8::/64', '203.0.113.0/24']);
    const entries = await auditRows(coffer.ctx, { action: 'network.allow', service_id: tenant.serviceId });
    assert.deepEqual(entries.map((e) => e.object_id).sort(), ['2001:db8::/64', '203.0.113.0/24'], 'the duplicate range is recorded once');
    assert.ok(entries.every((e) => e.actor_id === 'operator:netadmin' && e.details.purpose === 'api'));
    const listed = (await runOperation(coffer.ctx, 'network.list', { serviceId: tenant.serviceId, mode: 'test' }, 'operator:netadmin')) as unknown[];
    assert.equal(listed.length, 2);
  });

  test('bad input is refused: not a range, unknown purpose, a live account that does not exist, removing an absent range', async () => {
    const tenant = await coffer.newTenant();
    await assert.rejects(allow(coffer, tenant.serviceId, 'api', '10.0.0.0/33'), { code: 'C0422', field: 'cidr' });
    await assert.rejects(allow(coffer, tenant.serviceId, 'api', 'example.org'), { code: 'C0422' });
    await assert.rejects(runOperation(coffer.ctx, 'network.allow', { serviceId: tenant.serviceId, mode: 'test', purpose: 'web', cidrs: ['10.0.0.0/8'] }, 'op'), { code: 'C0422' });
    await assert.rejects(runOperation(coffer.ctx, 'network.allow', { serviceId: tenant.serviceId, mode: 'live', purpose: 'api', cidrs: ['10.0.0.0/8'] }, 'op'), { code: 'C0422', field: 'mode' });
    await assert.rejects(remove(coffer, tenant.serviceId, 'api', '10.0.0.0/8'), { code: 'C0409' });
    await assert.rejects(runOperation(coffer.ctx, 'network.list', { serviceId: 'svc_nope', mode: 'test' }, 'op'), { code: 'C0405' });
  });

  test('canonical ranges', () => {
    assert.equal(canonicalCidr('10.1.2.3/8'), '10.0.0.0/8');
    assert.equal(canonicalCidr('10.1.2.3'), '10.1.2.3/32');
    assert.equal(canonicalCidr('2001:db8::1'), '2001:db8::1/128');
    assert.equal(canonicalCidr('2001:db8:ffff::/33'), '2001:db8:8000::/33');
    assert.equal(canonicalCidr('::/0'), '::/0');
    assert.equal(canonicalCidr('1.2.3.4/-1'), undefined);
  });
});

describe('client address behind proxies', () => {
  test('X-Forwarded-For from an untrusted peer is ignored: the socket address decides', async () => {
    const tenant = await coffer.newTenant();
    await allow(coffer, tenant.serviceId, 'api', '203.0.113.0/24');
    const spoofed = await coffer.request('GET', '/v1/account', { key: tenant.token, headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(spoofed.status, 403);
    const [entry] = await waitForAudit(coffer.ctx, { request_id: spoofed.headers.get('x-request-id')! });
    assert.equal(entry!.ip, '127.0.0.1', 'the recorded address is the real peer');
  });

  test('behind a trusted proxy the forwarded client address is used, for the list and the log', async () => {
    const tenant = await proxied.newTenant();
    await allow(proxied, tenant.serviceId, 'api', '203.0.113.0/24');
    const inside = await proxied.request('GET', '/v1/account', { key: tenant.token, headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(inside.status, 200);
    const [entry] = await waitForAudit(proxied.ctx, { request_id: inside.headers.get('x-request-id')! });
    assert.equal(entry!.ip, '203.0.113.9');
    const outside = await proxied.request('GET', '/v1/account', { key: tenant.token, headers: { 'x-forwarded-for': '198.51.100.1' } });
    assert.equal(outside.status, 403);
    const direct = await proxied.request('GET', '/v1/account', { key: tenant.token });
    assert.equal(direct.status, 403, 'the proxy itself is not in the list');
  });
});

describe('coffer network (the CLI)', () => {
  test('allow, list and remove ranges from the command line', async () => {
    const store = await openIsolatedStore();
    try {
      const service = await createService(store.ctx, { name: 'CLI network' });
      await store.close();
      const env = { ...process.env, ...store.env };
      if (!store.env.DATABASE_URL) delete env.DATABASE_URL;
      const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', CLI, 'network', ...args], { env });
      const added = await cli('allow', '--service', service.id, '--mode', 'test', '--for', 'api', '192.0.2.0/24', '2001:db8::/32');
      assert.match(added.stdout, /api\s+192\.0\.2\.0\/24/);
      assert.match(added.stdout, /api\s+2001:db8::\/32/);
      await cli('allow', '--service', service.id, '--mode', 'test', '--for', 'console', '10.0.0.0/8');
      const listed = await cli('list', '--service', service.id, '--mode', 'test', '--for', 'console');
      assert.match(listed.stdout, /console\s+10\.0\.0\.0\/8/);
      assert.doesNotMatch(listed.stdout, /192\.0\.2/);
      const removed = await cli('remove', '--service', service.id, '--mode', 'test', '--for', 'api', '192.0.2.0/24');
      assert.doesNotMatch(removed.stdout, /192\.0\.2/);
      const wrong = await cli('allow', '--service', service.id, '--mode', 'test', '--for', 'api', 'nonsense').catch((err: { code: number; stderr: string }) => err);
      assert.equal((wrong as { code: number }).code, 1);
      assert.match((wrong as { stderr: string }).stderr, /"nonsense" is not an IP address or CIDR range/);
    } finally {
      await dropIsolatedStore(store);
    }
  });
});
