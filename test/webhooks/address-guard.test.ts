// The SSRF guard: which addresses a webhook may reach, and proof that a delivery connects to
// the very address that was checked (a stub resolver stands in for DNS).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeAddress, parseNetworkExceptions } from '../../src/webhooks/address-guard.js';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { cancelPayment, newPayment, newWebhookTenant, runWebhookWorkers, startReceiver, type Receiver } from './support.js';

describe('judgeAddress', () => {
  const refused: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.4.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:a00:1::1', '6to4'],
    ['2001:db8::1', 'reserved'],
    ['::127.0.0.1', 'loopback'],
  ];
  for (const [address, range] of refused) {
    test(`refuses ${address} (${range})`, () => {
      assert.deepEqual(judgeAddress(address), { allowed: false, range });
    });
  }

  test('allows globally routable unicast, IPv4 and IPv6', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '2a00:1450:4009:81f::200e', '::ffff:93.184.215.14']) {
      assert.deepEqual(judgeAddress(address), { allowed: true }, address);
    }
  });

  test('exceptions allow exactly the named ranges or CIDRs, nothing more', () => {
    const { exceptions, problems } = parseNetworkExceptions(['loopback', '10.20.0.0/16', 'fd12::/16']);
    assert.deepEqual(problems, []);
    assert.equal(judgeAddress('127.0.0.1', exceptions).allowed, true);
    assert.equal(judgeAddress('::1', exceptions).allowed, true);
    assert.equal(judgeAddress('::ffff:127.0.0.1', exceptions).allowed, true);
    assert.equal(judgeAddress('10.20.3.4', exceptions).allowed, true);
    assert.equal(judgeAddress('fd12::5', exceptions).allowed, true);
    assert.equal(judgeAddress('10.21.0.1', exceptions).allowed, false);
    assert.equal(judgeAddress('169.254.169.254', exceptions).allowed, false);
    assert.equal(judgeAddress('fd00::1', exceptions).allowed, false);
    assert.deepEqual(parseNetworkExceptions(['everything', '10.0.0.0/99']).problems, ['everything', '10.0.0.0/99']);
  });
});

describe('deliveries and the guard', () => {
  let coffer: TestCoffer;
  let receiver: Receiver;
  before(async () => {
    coffer = await startIsolatedCoffer();
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await coffer.close();
  });
  beforeEach(async () => {
    coffer.ctx.webhooks = { allowPrivateNetworks: ['loopback'] };
    coffer.clock.advance(30 * 86_400_000);
    await runWebhookWorkers(coffer);
    receiver.requests.length = 0;
  });

  async function messagesOf(tenant: { token: string; webhookId: string }) {
    return (await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token })).body.results;
  }

  test('loopback is refused at delivery once the test setting no longer allows it', async () => {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    coffer.ctx.webhooks = { allowPrivateNetworks: [] };
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests.length, 0);
    const [message] = await messagesOf(tenant);
    assert.equal(message.attempts[0].error, 'refused: 127.0.0.1 resolves to 127.0.0.1 (loopback), which webhooks may not reach');
    assert.equal(message.attempts[0].address, '127.0.0.1');
  });

  test('a name is resolved once per attempt and the connection goes to the address checked', async () => {
    const answers = ['127.0.0.1', '10.0.0.1'];
    const asked: string[] = [];
    coffer.ctx.webhooks = {
      allowPrivateNetworks: ['loopback'],
      resolveHost: async (host) => {
        asked.push(host);
        return [{ address: answers[Math.min(asked.length - 1, answers.length - 1)]!, family: 4 }];
      },
    };
    const tenant = await newWebhookTenant(coffer, `http://hooks.receiver.test:${receiver.port}/webhooks/coffer`);
    asked.length = 0;
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    // hooks.receiver.test exists in no DNS: only the checked address can have been dialled.
    assert.deepEqual(asked, ['hooks.receiver.test']);
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0]!.headers.host, `hooks.receiver.test:${receiver.port}`);
    assert.equal((await messagesOf(tenant))[0].attempts[0].address, '127.0.0.1');
  });

  test('a name that resolves to a private address at delivery time (DNS rebinding) is refused', async () => {
    let flip = false;
    coffer.ctx.webhooks = {
      allowPrivateNetworks: [],
      resolveHost: async () => [{ address: flip ? '169.254.169.254' : '93.184.215.14', family: 4 }],
    };
    const tenant = await newWebhookTenant(coffer, 'http://rebind.example.org/hook');
    flip = true;
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    const [message] = await messagesOf(tenant);
    assert.equal(message.status, 'pending');
    assert.match(message.attempts[0].error, /^refused: rebind\.example\.org resolves to 169\.254\.169\.254 \(linkLocal\)/);
  });

  test('a name with one private address among public ones is refused', async () => {
    coffer.ctx.webhooks = {
      allowPrivateNetworks: [],
      resolveHost: async () => [
        { address: '93.184.215.14', family: 4 },
        { address: '::ffff:10.0.0.1', family: 6 },
      ],
    };
    const created = await coffer.request('POST', '/v1/webhooks', {
      key: (await coffer.newTenant({ scopes: ['webhooks:write'] })).token,
      body: { callback_url: 'https://mixed.example.org/hook' },
    });
    assert.equal(created.status, 422);
    assert.match(created.body.description, /::ffff:10\.0\.0\.1 \(private\)/);
  });
});
