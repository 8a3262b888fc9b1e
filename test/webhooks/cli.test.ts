// `coffer webhook …` as an operator runs it: the real CLI in a child process, on an embedded
// store in a fresh data directory, configured only through the environment.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/main/config.js';

const CLI = fileURLToPath(new URL('../../src/main/cli.ts', import.meta.url));
let dataDir: string;
before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'coffer-webhook-cli-'));
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

function coffer(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COFFER_') && k !== 'DATABASE_URL'));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...base, COFFER_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('webhook create prints the secret alone on stdout and the id on stderr; list shows it', async () => {
  const service = await coffer(['service', 'create', '--name', 'Parking permits']);
  assert.equal(service.code, 0, service.stderr);
  const serviceId = service.stdout.trim();

  const refused = await coffer(['webhook', 'create', '--service', serviceId, '--mode', 'test', '--url', 'http://127.0.0.1:4000/coffer']);
  assert.equal(refused.code, 1, 'loopback is refused unless the operator allows it');
  assert.match(refused.stderr, /loopback/);

  const allow = { COFFER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'loopback' };
  const created = await coffer(
    ['webhook', 'create', '--service', serviceId, '--mode', 'test', '--url', 'http://127.0.0.1:4000/coffer', '--event', 'card_payment_succeeded', '--event', 'card_payment_refunded'],
    allow,
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^whsec_[A-Za-z0-9+/]{43}=\n$/);
  const id = /Created webhook (wh_[0-9a-v]{26})/.exec(created.stderr)?.[1];
  assert.ok(id, created.stderr);
  assert.match(created.stderr, /card_payment_succeeded, card_payment_refunded/);
  assert.match(created.stderr, /only time the signing secret is shown/);

  const listed = await coffer(['webhook', 'list', '--service', serviceId], allow);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.stdout.trim().split('\n'), [`${id}  test  active  http://127.0.0.1:4000/coffer  card_payment_succeeded,card_payment_refunded`]);
  assert.ok(!listed.stdout.includes('whsec_'));

  const rotated = await coffer(['webhook', 'rotate-secret', id, '--service', serviceId, '--mode', 'test', '--overlap', '1h'], allow);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /^whsec_/);
  assert.notEqual(rotated.stdout, created.stdout);
});

test('the webhook settings are read from the environment and checked', () => {
  const ok = loadConfig({ COFFER_WEBHOOKS_TIMEOUT: '15s', COFFER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'loopback, 10.20.0.0/16' });
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.webhooks, { timeoutMs: 15_000, allowPrivateNetworks: ['loopback', '10.20.0.0/16'] });
  const defaults = loadConfig({});
  assert.ok(defaults.ok);
  assert.deepEqual(defaults.config.webhooks, { timeoutMs: 10_000, allowPrivateNetworks: [] });
  const bad = loadConfig({ COFFER_WEBHOOKS_TIMEOUT: '5m', COFFER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'everything' });
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.problems.some((p) => p.startsWith('COFFER_WEBHOOKS_TIMEOUT')));
  assert.ok(!bad.ok && bad.problems.some((p) => p.includes('"everything"')));
});
