// Many writers, many sealers: two processes (each with several connections) write entries and
// seal the chain at the same time, some transactions committing after later ones. The chain
// must end up holding every entry exactly once, in one unbroken, verifiable order.
// PostgreSQL only: the embedded store is one process's by design.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { recordAudit } from '../../src/audit/audit.service.js';
import { sealAll, sealPending } from '../../src/audit/audit.chain.js';
import { verifyAuditLog } from '../../src/audit/audit.verify.js';
import { usingPostgres } from '../support/harness.js';
import { dropIsolatedStore, openIsolatedStore } from './audit-support.js';

const run = promisify(execFile);
const WRITER = join(import.meta.dirname, 'fixtures', 'audit-writer.ts');
const skip = usingPostgres() ? false : 'PostgreSQL only: the embedded store has one process by design';

describe('concurrent writers', { skip }, () => {
  test('an entry whose transaction commits late is sealed on a later run, never skipped', async () => {
    const store = await openIsolatedStore();
    try {
      const { ctx } = store;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let inserted!: () => void;
      const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
      const late = ctx.db.transaction().execute(async (trx) => {
        const id = await recordAudit(trx, { actor: 'operator:late', action: 'test.late', at: ctx.clock.now() });
        inserted();
        await gate;
        return id;
      });
      await insertedYet;
      const early = await recordAudit(ctx.db, { actor: 'operator:early', action: 'test.early', at: ctx.clock.now() });
      assert.equal((await sealPending(ctx)).sealed, 1, 'only the committed entry is visible to the sealer');
      release();
      const lateId = await late;
      await sealAll(ctx);
      const rows = await ctx.db.selectFrom('audit_log').select(['entry_id', 'id', 'seq']).orderBy('seq').execute();
      assert.deepEqual(rows.map((r) => r.entry_id), [early, lateId]);
      assert.ok(rows[1]!.id < rows[0]!.id, 'the late entry was inserted first, and sealed second');
      assert.equal((await verifyAuditLog(ctx, { now: ctx.clock.now() })).ok, true);
    } finally {
      await dropIsolatedStore(store);
    }
  });

  test('two processes writing and sealing at once keep one valid chain with every entry', async () => {
    const store = await openIsolatedStore();
    try {
      const url = store.env.DATABASE_URL!;
      const count = 300;
      const results = await Promise.all(
        ['alpha', 'beta'].map((name) => run(process.execPath, ['--import', 'tsx', WRITER, url, name, String(count)], { env: process.env })),
      );
      const sealedByWriters = results.map((r) => (JSON.parse(r.stdout.trim()) as { sealed: number }).sealed);
      assert.ok(sealedByWriters.every((n) => n > 0), 'both processes sealed part of the chain');
      await sealAll(store.ctx);
      const rows = await store.ctx.db.selectFrom('audit_log').select(['object_id', 'seq']).where('action', '=', 'test.concurrent').execute();
      assert.equal(rows.length, 2 * count);
      assert.equal(new Set(rows.map((r) => r.object_id)).size, 2 * count, 'every entry once');
      assert.ok(rows.every((r) => r.seq !== null), 'every entry sealed');
      const seqs = rows.map((r) => r.seq!).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: 2 * count }, (_, i) => i + 1), 'one gapless order');
      const report = await verifyAuditLog(store.ctx, { now: new Date() });
      assert.equal(report.ok, true, report.problem?.message);
      assert.equal(report.checked, 2 * count);
    } finally {
      await dropIsolatedStore(store);
    }
  });
});
