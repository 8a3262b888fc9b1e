// `coffer key …` as an operator runs it: real processes, real stores, what is printed where.
// Secrets go to stdout alone (so KEY=$(coffer key create …) works); everything else to stderr.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKeyToken } from '../../src/keys/key.format.js';
import { disposeTemplate, inWorkspace, KEY_ID, newService, ok, runCoffer, tableRow, type Workspace } from './support.js';

after(disposeTemplate);

/** Reads one key row straight from the store (the CLI must have exited: the store is free). */
async function keyRow(w: Workspace, keyId: string) {
  const store = await w.openStore();
  try {
    return await store.db.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
  } finally {
    await store.close();
  }
}

describe('coffer key commands', () => {
  test('key create prints only the key, checksum-valid; key list is a table without the secret', async () => {
    await inWorkspace(async (w) => {
      const serviceId = await newService(w);
      const created = ok(
        await runCoffer(['key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'web shop', '--scope', 'payments:read', '--scope', 'keys:*', '--expires-in', '30d', '--allow-ip', '10.0.0.0/8'], w.env),
        'key create',
      );
      assert.match(created.stdout, /^coffer_test_[0-9A-Za-z]{36}\n$/);
      const token = created.stdout.trim();
      assert.deepEqual(parseKeyToken(token), { ok: true, mode: 'test' });
      assert.match(created.stderr, /only time the key is shown/);
      const keyId = KEY_ID.exec(created.stderr)?.[1];
      assert.ok(keyId, created.stderr);

      const list = ok(await runCoffer(['key', 'list', '--service', serviceId], w.env), 'key list');
      const [header, ...rows] = list.stdout.trim().split('\n');
      assert.match(header!, /^ID\s+NAME\s+MODE\s+KEY\s+STATUS\s+SCOPES\s+EXPIRES\s+LAST_USED$/);
      assert.equal(rows.length, 1);
      const cells = tableRow(list.stdout, keyId);
      assert.deepEqual(cells?.slice(0, 6), [keyId, 'web shop', 'test', `coffer_test_…${token.slice(-4)}`, 'active', 'payments:read,keys:read,keys:write']);
      assert.match(cells?.[6] ?? '', /^\d{4}-\d\d-\d\dT/, 'the expiry is shown');
      assert.equal(cells?.[7], 'never');
      assert.ok(!list.stdout.includes(token.slice(12, -4)), 'the secret part is never listed');
      assert.ok(!/[0-9a-f]{64}/.test(list.stdout), 'nor its hash');

      const row = await keyRow(w, keyId);
      assert.deepEqual(row.allowed_ips, ['10.0.0.0/8']);
      assert.match(row.created_by, /^operator:/);
    });
  });

  test('key revoke records the reason; a second revoke is refused', async () => {
    await inWorkspace(async (w) => {
      const serviceId = await newService(w);
      const created = ok(await runCoffer(['key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'old'], w.env), 'key create');
      const keyId = KEY_ID.exec(created.stderr)![1]!;
      const revoked = ok(await runCoffer(['key', 'revoke', keyId, '--reason', 'left in a public repository'], w.env), 'key revoke');
      assert.equal(revoked.stdout, '');
      assert.ok(revoked.stderr.includes(`Revoked ${keyId}.`), revoked.stderr);
      const row = await keyRow(w, keyId);
      assert.equal(row.revoked_reason, 'left in a public repository');
      assert.match(String(row.revoked_by), /^operator:/);
      assert.ok(row.revoked_at instanceof Date);

      const again = await runCoffer(['key', 'revoke', keyId], w.env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^Error: The key is already revoked/m);
      const list = ok(await runCoffer(['key', 'list', '--service', serviceId], w.env), 'key list');
      assert.equal(tableRow(list.stdout, keyId)?.[4], 'revoked');
    });
  });

  test('key roll prints a new key with the same settings and cuts the old one to the overlap', async () => {
    await inWorkspace(async (w) => {
      const serviceId = await newService(w);
      const created = ok(await runCoffer(['key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'rolling', '--scope', 'refunds:write'], w.env), 'key create');
      const oldId = KEY_ID.exec(created.stderr)![1]!;
      const before = Date.now();
      const rolled = ok(await runCoffer(['key', 'roll', oldId, '--overlap', '1h'], w.env), 'key roll');
      assert.match(rolled.stdout, /^coffer_test_[0-9A-Za-z]{36}\n$/);
      assert.notEqual(rolled.stdout, created.stdout);
      assert.deepEqual(parseKeyToken(rolled.stdout.trim()), { ok: true, mode: 'test' });
      assert.ok(rolled.stderr.includes(`${oldId} stops working at `), rolled.stderr);
      const old = await keyRow(w, oldId);
      assert.equal(old.revoked_at, null, 'the old key is not revoked: it keeps working through the overlap');
      const overlapEnd = old.expires_at!.getTime();
      assert.ok(overlapEnd >= before + 3_600_000 - 1000 && overlapEnd <= Date.now() + 3_600_000, `old key ends ${old.expires_at?.toISOString()}`);
      const replacement = await keyRow(w, old.rolled_to_key_id!);
      assert.deepEqual(replacement.scopes, ['refunds:write']);
      assert.equal(replacement.rolled_from_key_id, oldId);
    });
  });

});
