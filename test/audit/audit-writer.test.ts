// The request-entry writer (audit.writer.ts): on PostgreSQL it hands its batches to a thread
// with its own connection, on the embedded store it writes them itself. Either way every entry
// pushed is in the log after a flush, cleaned; a malformed one (a bug) is left out without
// sinking its batch; and a writer closed and used again starts over rather than losing entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditWriterFor } from '../../src/audit/audit.writer.js';
import type { AuditEntry } from '../../src/audit/audit.entry.js';
import { sealAll } from '../../src/audit/audit.chain.js';
import { verifyAuditLog } from '../../src/audit/audit.verify.js';
import { usingPostgres } from '../support/harness.js';
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
    assert.equal(writer.writesIn, usingPostgres() ? 'thread' : 'in-process');

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
