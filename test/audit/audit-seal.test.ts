// Sealing builds an entry's canonical bytes directly (audit.chain.ts, for speed): it must be
// the chain that chainHash defines and the verifier walks, byte for byte, whatever the entry
// holds. And the batched request writer still leaves a chain that verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sealBatch } from '../../src/audit/audit.chain.js';
import { chainHash, GENESIS_HASH, type ChainFields } from '../../src/audit/audit.entry.js';
import { auditWriterFor } from '../../src/audit/audit.writer.js';
import { verifyAuditLog } from '../../src/audit/audit.verify.js';
import { sealAll } from '../../src/audit/audit.chain.js';
import { dropIsolatedStore, openIsolatedStore } from './audit-support.js';

const awkward = ['', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab', 'Cymraeg: ŵ ŷ — “curly”', 'emoji 😀', '\u2028\u2029', 'lone \ud800 surrogate', '</script>'];

function entries(): ChainFields[] {
  const out: ChainFields[] = [];
  for (const [i, text] of awkward.entries()) {
    out.push({
      entry_id: `aud_${i}`,
      occurred_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i, i)),
      actor_type: i % 2 ? 'key' : 'anonymous',
      actor_id: text,
      action: 'api.request',
      object_type: i % 3 ? null : 'payment',
      object_id: i % 3 ? null : text,
      service_id: i % 2 ? `svc_${i}` : null,
      account_id: null,
      ip: i % 2 ? '2001:db8::1' : '127.0.0.1',
      user_agent: text,
      outcome: 'success',
      request_id: i % 4 ? text : null,
      details: { z: text, a: [1, 2.5, -0, null, { y: true, b: false }], nested: { k: { j: { i: text } } }, n: 1e21, [text]: i },
    });
  }
  return out;
}

test('sealBatch makes the chain chainHash defines, from genesis and from any head', () => {
  for (const start of [{ seq: 0, hash: GENESIS_HASH }, { seq: 41, hash: 'ab'.repeat(32) }]) {
    const batch = entries();
    const { sealed, head } = sealBatch(start, batch);
    // Sealed in place: the caller's own entries carry their chain fields.
    assert.equal(sealed.length, batch.length);
    assert.ok(sealed.every((entry, i) => entry === batch[i]));
    let prev = start.hash;
    for (const [i, entry] of sealed.entries()) {
      assert.equal(entry.seq, start.seq + i + 1);
      assert.equal(entry.prev_hash, prev);
      assert.equal(entry.hash, chainHash(prev, entry.seq, entry), `entry ${i} (${JSON.stringify(entry.actor_id)})`);
      prev = entry.hash;
    }
    assert.deepEqual(head, { seq: start.seq + sealed.length, hash: prev });
  }
});

test('sealBatch refuses a head that is not a chain position', () => {
  assert.throws(() => sealBatch({ seq: 1.5, hash: GENESIS_HASH }, entries()), TypeError);
});

// PostgreSQL's jsonb refuses a lone surrogate (HTTP headers, read as latin1, cannot hold one).
const storable = awkward.filter((t) => !t.includes('\ud800'));

test('request entries written in batches, sealed as written, verify with the rest of the log', async () => {
  const store = await openIsolatedStore();
  try {
    const { ctx } = store;
    const writer = auditWriterFor(ctx.db, ctx.log);
    for (let i = 0; i < 2500; i++) {
      writer.push({ actor: 'operator:test', action: 'api.request', at: new Date(ctx.clock.now()), ip: null, userAgent: null, requestId: null, details: { i, text: storable[i % storable.length] } });
    }
    await writer.flush();
    assert.equal(writer.pending, 0);
    await sealAll(ctx);
    const report = await verifyAuditLog(ctx, { now: new Date(ctx.clock.now()) });
    assert.equal(report.ok, true, report.problem?.message);
    assert.ok(report.checked >= 2500);
  } finally {
    await dropIsolatedStore(store);
  }
});
