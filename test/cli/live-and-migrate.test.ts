// Live accounts and migrations from the CLI: where live money is refused, and `coffer migrate`
// on a new store and on a current one.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { parseKeyToken } from '../../src/keys/key.format.js';
import { usingPostgres } from '../support/harness.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseEnv, disposeTemplate, inWorkspace, newService, ok, runCoffer } from './support.js';

after(disposeTemplate);

describe('live accounts from the CLI', () => {
  test('enable-live is refused on the embedded store, saying to use PostgreSQL', { skip: usingPostgres() && 'embedded store only' }, async () => {
    await inWorkspace(async (w) => {
      const serviceId = await newService(w);
      const result = await runCoffer(['service', 'enable-live', '--service', serviceId], w.env);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /Live accounts need PostgreSQL: the embedded store does not fsync.*Set DATABASE_URL to a PostgreSQL server\./);
      const live = await runCoffer(['key', 'create', '--service', serviceId, '--mode', 'live', '--name', 'x'], w.env);
      assert.equal(live.code, 1);
      assert.match(live.stderr, /The live account is not enabled for this service/);
      assert.equal(live.stdout, '');
    });
  });

  test('on PostgreSQL: refused without COFFER_MASTER_KEY in the environment; with it, enabled, and live keys follow', { skip: !usingPostgres() && 'needs PostgreSQL' }, async () => {
    await inWorkspace(async (w) => {
      const serviceId = await newService(w);
      const withoutKey = { ...w.env };
      delete withoutKey.COFFER_MASTER_KEY;
      const refused = await runCoffer(['service', 'enable-live', '--service', serviceId], withoutKey);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /COFFER_MASTER_KEY: required with DATABASE_URL/);

      const enabled = ok(await runCoffer(['service', 'enable-live', '--service', serviceId], w.env), 'enable-live');
      assert.match(enabled.stderr, /Live account acct_[0-9a-v]{26} enabled\./);
      const live = ok(await runCoffer(['key', 'create', '--service', serviceId, '--mode', 'live', '--name', 'till'], w.env), 'live key');
      assert.deepEqual(parseKeyToken(live.stdout.trim()), { ok: true, mode: 'live' });
    });
  });
});

describe('coffer migrate', () => {
  test('applies every migration to a new store once, then finds it up to date', async () => {
    if (usingPostgres()) {
      const base = process.env.COFFER_TEST_DATABASE_URL!;
      const name = `coffer_cli_migrate_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`create database ${name}`);
      try {
        const url = new URL(base);
        url.pathname = `/${name}`;
        const env = baseEnv({ DATABASE_URL: url.toString(), COFFER_MASTER_KEY: randomBytes(32).toString('base64') });
        const first = ok(await runCoffer(['migrate'], env), 'migrate');
        assert.match(first.stderr, /^Applied: 0001_foundation, /m);
        const second = ok(await runCoffer(['migrate'], env), 'migrate again');
        assert.match(second.stderr, /The database is up to date\./);
      } finally {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
      return;
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'coffer-cli-migrate-'));
    try {
      const env = baseEnv({ COFFER_DATA_DIR: dataDir });
      const first = ok(await runCoffer(['migrate'], env), 'migrate');
      assert.match(first.stderr, /^Applied: 0001_foundation, /m);
      assert.match(first.stderr, /COFFER_MASTER_KEY is not set: generated one into the data directory/);
      const again = ok(await runCoffer(['migrate'], env), 'migrate again');
      assert.match(again.stderr, /The database is up to date\./);
      assert.ok(!again.stderr.includes('generated one'), 'the generated key is reused, not regenerated');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
