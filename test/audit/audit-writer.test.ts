// The request-entry writer (audit.writer.ts): on PostgreSQL it hands its batches to a thread
// with its own connection, on the embedded store it writes them itself. Either way every entry
// pushed is in the log after a flush, cleaned; a malformed one (a bug) is left out without
// sinking its batch; and a writer closed and used again starts over rather than losing entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditWriter, auditWriterFor } from '../../src/audit/audit.writer.js';
import { inProcessSink, type BatchSink } from '../../src/audit/audit.sink.js';
import type { AuditEntry } from '../../src/audit/audit.entry.js';
import { sealAll } from '../../src/audit/audit.chain.js';
import { verifyAuditLog } from '../../src/audit/audit.verify.js';
import { auditRows, dropIsolatedStore, openIsolatedStore } from './audit-support.js';

const requestEntry = (ctx: { clock: { now(): Date } }, requestId: string, userAgent = 'curl/8'): AuditEntry => ({
  actor: { type: 'key', id: 'key_writer' },
  action: 'api.request',
  at: ctx.clock.now(),
  ip: '192.0.2.7',
  userAgent,
  requestId,
  details: { method: 'GET', route: '/v1/account', status: 200 },
});

test('request entries reach the log through the writer, cleaned, from the right thread', async () => {
  const store = await openIsolatedStore();
  try {
    const { ctx } = store;
    const writer = auditWriterFor(ctx.db, ctx.log);
    assert.equal(writer.writesIn, 'thread', 'never the request thread, on either store');

    writer.push(requestEntry(ctx, 'req_writer_1', 'agent 4242 4242 4242 4242'));
    writer.push({ ...requestEntry(ctx, 'req_writer_bad'), action: 'Not An Action' });
    writer.push(requestEntry(ctx, 'req_writer_2'));
    await writer.flush();
    assert.equal(writer.pending, 0);

    const [first] = await auditRows(ctx, { request_id: 'req_writer_1' });
    assert.equal(first?.user_agent, 'agent [REDACTED-PAN]');
    assert.equal(first?.ip, '192.0.2.7');
    assert.equal(first?.actor_id, 'key_writer');
    assert.deepEqual(first?.details, { method: 'GET', route: '/v1/account', status: 200 });
    assert.ok(first?.seq !== null, 'sealed as written');
    assert.equal((await auditRows(ctx, { request_id: 'req_writer_2' })).length, 1);
    assert.equal((await auditRows(ctx, { request_id: 'req_writer_bad' })).length, 0, 'the malformed entry is left out');

    // Closed (as at shutdown) and used again: a new thread on PostgreSQL, nothing lost.
    await writer.close();
    for (let i = 0; i < 1500; i++) writer.push(requestEntry(ctx, `req_writer_after_${i}`));
    await writer.flush();
    assert.equal(writer.pending, 0);
    assert.equal((await auditRows(ctx, { request_id: 'req_writer_after_1499' })).length, 1);
    assert.equal((await auditRows(ctx, { action: 'api.request' })).length, 1502);

    await sealAll(ctx);
    const report = await verifyAuditLog(ctx, { now: ctx.clock.now() });
    assert.equal(report.ok, true, report.problem?.message);
    await writer.close();
  } finally {
    await dropIsolatedStore(store);
  }
});

// Under steady traffic a flush must end: it writes what was queued when it started, and what
// comes in meanwhile waits for the timer (or a full batch), so batches stay large and commits
// few. The sink is the real one, observed: each batch it is handed is recorded, and the first
// is held until the test lets it go, so entries arrive while a write is in flight.
test('a flush writes what was queued when it began; entries pushed meanwhile wait for the next batch', async () => {
  const store = await openIsolatedStore();
  try {
    const { ctx } = store;
    const real = inProcessSink(ctx.db);
    const batches: number[] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const observed: BatchSink = {
      kind: real.kind,
      async write(batch) {
        batches.push(batch.length);
        if (batches.length === 1) await firstHeld;
        return real.write(batch);
      },
      close: () => real.close(),
    };
    const writer = new AuditWriter(observed, ctx.log);

    for (let i = 0; i < 3; i++) writer.push(requestEntry(ctx, `req_steady_a${i}`));
    const first = writer.flush();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(batches, [3], 'the first batch is in flight');

    for (let i = 0; i < 2; i++) writer.push(requestEntry(ctx, `req_steady_b${i}`));
    const second = writer.flush();
    for (let i = 0; i < 2; i++) writer.push(requestEntry(ctx, `req_steady_c${i}`));
    const third = writer.flush();
    assert.equal(second, third, 'one flush waits behind the one in flight, for everything pushed before it');

    release();
    await first;
    await third;
    assert.deepEqual(batches, [3, 4], 'the four entries pushed during the first write go in one batch');
    assert.equal(writer.pending, 0);

    // Pushed while nothing is being written: the timer takes them, in one batch.
    for (let i = 0; i < 5; i++) writer.push(requestEntry(ctx, `req_steady_d${i}`));
    for (let waited = 0; writer.pending > 0 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(batches, [3, 4, 5]);
    assert.equal((await auditRows(ctx, { action: 'api.request' })).length, 12);
    await writer.close();
  } finally {
    await dropIsolatedStore(store);
  }
});
