// The new-country detector: a key's first country is learnt quietly, the same country from
// another network is not news (the network detector speaks for that), a new country raises a
// critical alert. Countries come from the bundled CC0 MMDB database; addresses are real public
// ones whose registration is stable (a UK ISP, the BBC, Google's public DNS).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { alertsOf } from './support.js';
import { countryOf } from '../../src/alerts/geoip.js';
import { loadConfig } from '../../src/main/config.js';

let coffer: TestCoffer;
before(async () => {
  // Loopback is a trusted proxy here, so tests can speak from other addresses via X-Forwarded-For.
  coffer = await startCoffer({ trustedProxies: ['127.0.0.1'] });
});
after(async () => coffer.close());

const from = (ip: string) => ({ 'x-forwarded-for': ip });

describe('key used from a new country', () => {
  test('countries from the bundled database; private and documentation addresses have none; off is off', () => {
    assert.equal(countryOf(undefined, '81.2.69.142'), 'GB');
    assert.equal(countryOf(undefined, '8.8.8.8'), 'US');
    assert.equal(countryOf(undefined, '10.1.2.3'), undefined);
    assert.equal(countryOf(undefined, '127.0.0.1'), undefined);
    assert.equal(countryOf(undefined, 'not an address'), undefined);
    assert.equal(countryOf('off', '8.8.8.8'), undefined);
  });

  test('first country learnt, same country elsewhere quiet, a new country alerts', async () => {
    const tenant = await coffer.newTenant();
    const call = async (ip: string) => assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token, headers: from(ip) })).status, 200);
    await call('81.2.69.142');
    await call('212.58.244.22');
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId, 'key_new_country'), [], 'GB learnt, then GB again from another network');
    assert.equal((await alertsOf(coffer, tenant.serviceId, 'key_new_network')).length, 1, 'the network detector saw the second network');

    await call('8.8.8.8');
    const alerts = await alertsOf(coffer, tenant.serviceId, 'key_new_country');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.severity, 'critical');
    assert.equal(alerts[0]?.details.country, 'US');
    assert.equal(alerts[0]?.details.key_id, tenant.keyId);
    assert.match(alerts[0]?.summary ?? '', /country it had not been used from before \(US\)/);
  });

  test('addresses with no country never alert', async () => {
    const tenant = await coffer.newTenant();
    for (const ip of ['81.2.69.142', '203.0.113.7', '198.51.100.9', '2001:db8:9::1']) {
      assert.equal((await coffer.request('GET', '/v1/account', { key: tenant.token, headers: from(ip) })).status, 200);
    }
    assert.deepEqual(await alertsOf(coffer, tenant.serviceId, 'key_new_country'), []);
  });

  test('COFFER_GEOIP_DB: a file that is not a database is refused at start; off is accepted', () => {
    const bad = loadConfig({ COFFER_GEOIP_DB: '/etc/hostname' });
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.problems.some((p) => p.startsWith('COFFER_GEOIP_DB:')), JSON.stringify(bad));
    const off = loadConfig({ COFFER_GEOIP_DB: 'off' });
    assert.ok(off.ok && off.config.alerts.geoIpDatabase === 'off');
  });
});
