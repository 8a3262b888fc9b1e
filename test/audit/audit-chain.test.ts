// The hash chain: an intact log verifies; a modified, deleted or reordered row, a rewritten
// chain, a forged checkpoint or a removed prefix is found and named. Each test gets a store of
// its own, because it tampers with the log.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { recordAudit } from '../../src/audit/audit.service.js';
import { sealAll } from '../../src/audit/audit.chain.js';
import { chainHash, GENESIS_HASH } from '../../src/audit/audit.entry.js';
import { checkpointKeys, checkpointNow, checkpointSignatureValid, exportCheckpoint } from '../../src/audit/audit.checkpoint.js';
import { verifyAuditLog } from '../../src/audit/audit.verify.js';
import { applyRetention } from '../../src/audit/audit.retention.js';
import { runOperation } from '../../src/main/operations.js';
import type { AppContext } from '../../src/platform/context.js';
import { dropIsolatedStore, openIsolatedStore, type IsolatedStore } from './audit-support.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'src', 'main', 'cli.ts');
const DAY = 86_400_000;

async function withStore(fn: (s: IsolatedStore) => Promise<void>): Promise<void> {
  const store = await openIsolatedStore();
  try {
    await fn(store);
  } finally {
    await dropIsolatedStore(store);
  }
}

async function writeEntries(ctx: AppContext, count: number, clock: { advance(ms: number): void }): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await recordAudit(ctx.db, { actor: 'operator:test', action: 'test.write', object: { type: 'thing', id: `t${i + 1}` }, at: new Date(ctx.clock.now()), details: { n: i + 1 } }));
    clock.advance(1000);
  }
  await sealAll(ctx);
  return ids;
}

/** Runs SQL as someone with the rights to bypass the append-only trigger would. */
async function tamper(ctx: AppContext, ...statements: ReturnType<typeof sql>[]): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(trx);
    for (const statement of statements) await statement.execute(trx);
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(trx);
  });
}

const verify = (ctx: AppContext, from?: Parameters<typeof verifyAuditLog>[1]['from']) => verifyAuditLog(ctx, { now: ctx.clock.now(), from });

describe('the chain', () => {
  test('sealed entries verify, each hash covering the previous hash and the entry', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 5, clock);
      const report = await verify(ctx);
      assert.equal(report.ok, true, report.problem?.message);
      assert.equal(report.checked, 5);
      assert.equal(report.headSeq, 5);
      const rows = await ctx.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
      assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5]);
      assert.equal(rows[0]!.prev_hash, GENESIS_HASH);
      for (const [i, row] of rows.entries()) {
        assert.equal(row.hash, chainHash(row.prev_hash!, row.seq!, row));
        if (i > 0) assert.equal(row.prev_hash, rows[i - 1]!.hash);
      }
    }));

  test('the database refuses to change or delete an entry (the trigger), so tampering needs to go around it', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 2, clock);
      await assert.rejects(sql`update audit_log set actor_id = 'someone else' where seq = 1`.execute(ctx.db), /append-only/);
      await assert.rejects(sql`delete from audit_log where seq = 1`.execute(ctx.db), /only by retention/);
    }));

  test('a modified row is reported as altered, by position and id', async () =>
    withStore(async ({ ctx, clock }) => {
      const ids = await writeEntries(ctx, 5, clock);
      await tamper(ctx, sql`update audit_log set details = '{"n": 99}' where seq = 3`);
      const report = await verify(ctx);
      assert.equal(report.ok, false);
      assert.equal(report.problem!.kind, 'altered');
      assert.equal(report.problem!.seq, 3);
      assert.equal(report.problem!.entryId, ids[2]);
      assert.equal(report.checked, 2);
    }));

  test('a deleted row is reported as removed', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 5, clock);
      await tamper(ctx, sql`delete from audit_log where seq = 3`);
      const report = await verify(ctx);
      assert.equal(report.problem?.kind, 'removed');
      assert.equal(report.problem?.seq, 3);
      assert.match(report.problem!.message, /#3 was removed/);
    }));

  test('deleting the newest rows is caught by the chain head', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 5, clock);
      await tamper(ctx, sql`delete from audit_log where seq >= 4`);
      const report = await verify(ctx);
      assert.equal(report.problem?.kind, 'removed');
      assert.equal(report.problem?.seq, 4);
    }));

  test('reordered rows are reported as reordered, naming the entry found out of place', async () =>
    withStore(async ({ ctx, clock }) => {
      const ids = await writeEntries(ctx, 5, clock);
      await tamper(
        ctx,
        sql`update audit_log set seq = -2 where seq = 2`,
        sql`update audit_log set seq = 2 where seq = 4`,
        sql`update audit_log set seq = 4 where seq = -2`,
      );
      const report = await verify(ctx);
      assert.equal(report.problem?.kind, 'reordered');
      assert.equal(report.problem?.seq, 2);
      assert.equal(report.problem?.entryId, ids[3]);
      assert.match(report.problem!.message, /sealed as #4/);
    }));

  test('a chain rewritten consistently after an edit fails at the signed checkpoint', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 5, clock);
      await checkpointNow(ctx);
      await tamper(ctx, sql`update audit_log set actor_id = 'operator:innocent' where seq = 2`);
      await rehashFrom(ctx, 2);
      const report = await verify(ctx);
      assert.equal(report.problem?.kind, 'checkpoint');
      assert.equal(report.problem?.seq, 5);
    }));

  test('a forged checkpoint is refused: only the master key signs', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 3, clock);
      await checkpointNow(ctx);
      await sql`update audit_checkpoints set head_hash = ${'f'.repeat(64)}`.execute(ctx.db);
      const report = await verify(ctx);
      assert.equal(report.problem?.kind, 'checkpoint');
      assert.match(report.problem!.message, /not signed by this log's key/);
    }));

  test('a checkpoint kept elsewhere catches a rewrite that also removed the stored checkpoints', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 5, clock);
      const kept = exportCheckpoint((await checkpointNow(ctx))!, checkpointKeys(ctx.masterKey.key));
      await writeEntries(ctx, 2, clock);
      assert.equal((await verify(ctx, kept)).ok, true);
      assert.equal((await verify(ctx, kept)).fromSeq, 5);

      await tamper(ctx, sql`update audit_log set actor_id = 'operator:innocent' where seq = 2`);
      await rehashFrom(ctx, 2);
      await sql`delete from audit_checkpoints`.execute(ctx.db);
      assert.equal((await verify(ctx)).ok, true, 'without a kept checkpoint a full rewrite is self-consistent');
      const report = await verify(ctx, kept);
      assert.equal(report.ok, false);
      assert.equal(report.problem?.seq, 5);
    }));

  test('checkpoints verify with the public key alone, and a changed field breaks the signature', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 2, clock);
      const exported = (await runOperation(ctx, 'audit.checkpoint', {}, 'operator:test')) as ReturnType<typeof exportCheckpoint>;
      const { pem } = (await runOperation(ctx, 'audit.public-key', {}, 'operator:test')) as { pem: string };
      const publicKey = createPublicKey(pem);
      assert.equal(exported.size, 2, 'the command itself is recorded after it ran');
      assert.equal(checkpointSignatureValid(exported, publicKey), true);
      assert.equal(checkpointSignatureValid({ ...exported, size: exported.size + 1 }, publicKey), false);
      const other = checkpointKeys(Buffer.alloc(32, 7));
      assert.equal(checkpointSignatureValid(exported, other.publicKey), false);
    }));
});

describe('retention', () => {
  test('old entries go, a signed cut keeps the rest verifiable, and a removed kept entry is still found', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 3, clock);
      clock.advance(400 * DAY);
      await writeEntries(ctx, 2, clock);
      const { removed } = await applyRetention(ctx);
      assert.equal(removed, 3);
      await sealAll(ctx);
      const cut = await ctx.db.selectFrom('audit_checkpoints').selectAll().where('kind', '=', 'cut').execute();
      assert.equal(cut.length, 1);
      assert.equal(cut[0]!.size, 3);
      const [retention] = await ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'audit.retention_applied').execute();
      assert.equal(retention?.details.removed, 3);
      const report = await verify(ctx);
      assert.equal(report.ok, true, report.problem?.message);
      assert.equal(report.fromSeq, 3);
      assert.equal(report.checked, 3);

      await tamper(ctx, sql`delete from audit_log where seq = 4`);
      assert.equal((await verify(ctx)).problem?.seq, 4);
    }));

  test('entries younger than the retention period are kept', async () =>
    withStore(async ({ ctx, clock }) => {
      await writeEntries(ctx, 3, clock);
      clock.advance(300 * DAY);
      assert.equal((await applyRetention(ctx)).removed, 0);
    }));
});

describe('coffer audit (the CLI)', () => {
  test('verify, checkpoint and export; verify exits 1 and names the altered entry', async () => {
    let store = await openIsolatedStore();
    try {
      const ids = await writeEntries(store.ctx, 4, store.clock);
      await store.close();
      const env = { ...process.env, ...store.env };
      if (!store.env.DATABASE_URL) delete env.DATABASE_URL;
      const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', CLI, ...args], { env });

      const intact = await cli('audit', 'verify');
      assert.match(intact.stdout, /Audit log intact: 4 entries checked/);
      const checkpoint = JSON.parse((await cli('audit', 'checkpoint')).stdout) as { size: number; log: string };
      assert.equal(checkpoint.log, 'coffer-audit');
      assert.ok(checkpoint.size >= 5, 'covers the entries and the commands run so far');
      const lines = (await cli('audit', 'export')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; seq: number; action: string });
      assert.deepEqual(lines.slice(0, 4).map((l) => l.id), ids);
      assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1));

      store = await store.reopen();
      await tamper(store.ctx, sql`update audit_log set object_id = 'forged' where seq = 2`);
      await store.close();
      const failed = await cli('audit', 'verify').then(
        () => assert.fail('verify should exit non-zero'),
        (err: { code: number; stdout: string }) => err,
      );
      assert.equal(failed.code, 1);
      assert.match(failed.stdout, /AUDIT LOG TAMPERED: entry #2 \(/);
      assert.ok(failed.stdout.includes(ids[1]!), 'names the entry');

      store = await store.reopen();
      const commands = await store.ctx.db.selectFrom('audit_log').select(['action', 'actor_type']).where('action', 'like', 'cli.audit.%').execute();
      assert.deepEqual(new Set(commands.map((c) => c.action)), new Set(['cli.audit.verify', 'cli.audit.checkpoint', 'cli.audit.export']), 'reading the log is itself recorded');
      assert.ok(commands.every((c) => c.actor_type === 'operator'));
    } finally {
      await dropIsolatedStore(store);
    }
  });
});

/** What an attacker with the database but not the master key can do: recompute every hash from `seq` on. */
async function rehashFrom(ctx: AppContext, seq: number): Promise<void> {
  const rows = await ctx.db.selectFrom('audit_log').selectAll().where('seq', '>=', seq).orderBy('seq').execute();
  let prev = (await ctx.db.selectFrom('audit_log').select('hash').where('seq', '=', seq - 1).executeTakeFirstOrThrow()).hash!;
  for (const row of rows) {
    const hash = chainHash(prev, row.seq!, row);
    await tamper(ctx, sql`update audit_log set prev_hash = ${prev}, hash = ${hash} where seq = ${row.seq}`);
    prev = hash;
  }
  await sql`update audit_chain_head set hash = ${prev}`.execute(ctx.db);
}
