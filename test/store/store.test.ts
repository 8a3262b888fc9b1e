// The store underneath everything: migrations that several nodes may apply at once, the
// embedded store's persistence in its data directory, and its one-process-at-a-time lock.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/store/database.js';
import { lockFile, tryLock } from '../../src/store/embedded-lock.js';
import { migrateToLatest, pendingMigrations } from '../../src/store/migrate.js';
import { migrations } from '../../src/store/migrations/index.js';
import { usingPostgres } from '../support/harness.js';
import { baseEnv, disposeTemplate, runCoffer, startServe } from '../cli/support.js';

after(disposeTemplate);

const ALL = Object.keys(migrations).sort();

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'coffer-store-'));
}

describe('migrations', () => {
  test('applied concurrently from several connections on a fresh PostgreSQL database: each applies once', { skip: !usingPostgres() && 'needs PostgreSQL' }, async () => {
    const base = process.env.COFFER_TEST_DATABASE_URL!;
    const name = `coffer_store_migrate_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    const nodes = await Promise.all(Array.from({ length: 5 }, () => openStore({ databaseUrl: url.toString(), poolSize: 2 })));
    try {
      const applied = await Promise.all(nodes.map((node) => migrateToLatest(node.db)));
      const all = applied.flat().sort();
      assert.deepEqual(all, ALL, `each migration applied exactly once across the nodes: ${JSON.stringify(applied)}`);
      for (const node of nodes) assert.deepEqual(await pendingMigrations(node.db), []);
      const rows = await nodes[0]!.db.selectFrom('coffer_migrations' as never).select('name' as never).execute();
      assert.equal(rows.length, ALL.length);
      // The schema is whole: a write through every foundation table works.
      await nodes[1]!.db.insertInto('services').values({ id: 'svc_concurrent', name: 'x', created_at: new Date() }).execute();
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });

  test('a second run on a current database applies nothing', async () => {
    const dir = usingPostgres() ? undefined : tempDir();
    const store = await openStore(dir ? { embeddedDir: dir } : { databaseUrl: process.env.COFFER_TEST_DATABASE_URL, poolSize: 2 });
    try {
      await migrateToLatest(store.db);
      assert.deepEqual(await migrateToLatest(store.db), []);
      assert.deepEqual(await pendingMigrations(store.db), []);
    } finally {
      await store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the embedded store', { skip: usingPostgres() && 'embedded store only' }, () => {
  test('persists across close and reopen in the same data directory', async () => {
    const dir = tempDir();
    try {
      const first = await openStore({ embeddedDir: dir });
      await migrateToLatest(first.db);
      await first.db.insertInto('services').values({ id: 'svc_persisted', name: 'Kept', created_at: new Date('2026-01-02T03:04:05Z') }).execute();
      await first.close();

      const second = await openStore({ embeddedDir: dir });
      try {
        assert.deepEqual(await pendingMigrations(second.db), [], 'migrations stay applied');
        const row = await second.db.selectFrom('services').selectAll().where('id', '=', 'svc_persisted').executeTakeFirst();
        assert.deepEqual(row, { id: 'svc_persisted', name: 'Kept', created_at: new Date('2026-01-02T03:04:05Z') });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the lock names its holder; a live holder keeps it, a dead one loses it', () => {
    const dir = tempDir();
    try {
      const held = tryLock(dir, 'serve');
      assert.equal(held.acquired, true);
      const refused = tryLock(dir, 'command');
      assert.deepEqual(refused, { acquired: false, holder: { pid: process.pid, role: 'serve' } });
      if (held.acquired) held.release();
      const after = tryLock(dir, 'command');
      assert.equal(after.acquired, true, 'released');
      if (after.acquired) after.release();

      // A holder that died without cleaning up (kill -9) leaves a stale lock, which is taken over.
      writeFileSync(lockFile(dir), JSON.stringify({ pid: 2 ** 22 + 12345, role: 'serve' }));
      const takeover = tryLock(dir, 'serve');
      assert.equal(takeover.acquired, true);
      if (takeover.acquired) takeover.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a second coffer serve on the same data directory refuses with a clear message; the first is unharmed', async () => {
    const dir = tempDir();
    const env = baseEnv({ COFFER_DATA_DIR: dir });
    const first = await startServe(env);
    try {
      const second = await runCoffer(['serve'], { ...env, PORT: '0' });
      assert.equal(second.code, 2);
      assert.match(
        second.stderr,
        new RegExp(`^Coffer cannot start: The embedded store in ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is in use by process ${first.child.pid} \\(another coffer serve\\)\\. Stop it first, or give this one its own COFFER_DATA_DIR\\.$`, 'm'), // eslint-disable-line security/detect-non-literal-regexp -- escaped test input
      );
      assert.equal((await fetch(`${first.url}/readyz`)).status, 200);
    } finally {
      first.child.kill('SIGTERM');
      const exit = await first.exited;
      assert.equal(exit.code, 0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
