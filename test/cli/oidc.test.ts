// `coffer oidc …` as an operator runs it: the client secret comes from stdin (never argv), is
// stored sealed, and the provider can be listed and removed. Sign-in through a provider against a
// real OpenID provider is tested in test/console/oidc.test.ts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { disposeTemplate, ROOT, runCoffer, workspace, type RunResult, type Workspace } from './support.js';

after(disposeTemplate);

function runWithInput(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<RunResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main', 'cli.ts'), ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function storedProviders(w: Workspace) {
  const store = await w.openStore();
  try {
    return await store.db.selectFrom('console_oidc_providers').selectAll().execute();
  } finally {
    await store.close();
  }
}

test('add (secret from stdin, stored sealed), list, refuse bad input, remove', async () => {
  const w = await workspace();
  try {
    const created = await runCoffer(['service', 'create', '--name', 'Council tax'], w.env);
    assert.equal(created.code, 0, created.stderr);
    const serviceId = created.stdout.trim();
    const secret = `cli-secret-${Date.now()}-do-not-store`;

    const add = ['oidc', 'add', '--service', serviceId, '--name', 'Example Council', '--issuer', 'https://login.example.org/tenant', '--client-id', 'coffer-console', '--domain', 'example.org', '--domain', 'Staff.Example.org'];
    const added = await runWithInput(add, w.env, `${secret}\n`);
    assert.equal(added.code, 0, added.stderr);
    const providerId = added.stdout.trim();
    assert.match(providerId, /^idp_/);
    assert.match(added.stderr, /\/console\/sign-in\/oidc\/callback/);
    assert.ok(added.stderr.includes(`/console/sign-in/oidc/${providerId}`));

    const listed = await runCoffer(['oidc', 'list', '--service', serviceId], w.env);
    assert.equal(listed.code, 0, listed.stderr);
    const row = listed.stdout.trim().split('\t');
    assert.deepEqual(row, [providerId, serviceId, 'Example Council', 'https://login.example.org/tenant', 'coffer-console', 'example.org,staff.example.org', '-']);
    assert.ok(!listed.stdout.includes(secret) && !added.stdout.includes(secret) && !added.stderr.includes(secret));

    const mine = (await storedProviders(w)).filter((p) => p.service_id === serviceId);
    assert.equal(mine.length, 1);
    assert.ok(!JSON.stringify(mine[0]).includes(secret), 'the client secret is stored sealed, not in clear');

    const badIssuer = await runWithInput([...add.slice(0, 7), 'http://login.example.org', ...add.slice(8)], w.env, `${secret}\n`);
    assert.equal(badIssuer.code, 1);
    assert.match(badIssuer.stderr, /Issuer must be an https:\/\/ URL/);
    const noSecret = await runWithInput(add, w.env, '');
    assert.equal(noSecret.code, 1);
    assert.match(noSecret.stderr, /Client secret is required/);

    const removed = await runCoffer(['oidc', 'remove', '--service', serviceId, '--provider', providerId], w.env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await storedProviders(w)).filter((p) => p.service_id === serviceId).length, 0);
    const again = await runCoffer(['oidc', 'remove', '--service', serviceId, '--provider', providerId], w.env);
    assert.equal(again.code, 1, 'removing an unknown provider fails');
  } finally {
    await w.dispose();
  }
});
