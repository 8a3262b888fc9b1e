// Seals audit entries into the SHA-256 hash chain, shortly after they are written.
//
// Why a worker and not a hash at insert time: chaining at insert would make every transaction
// that records an entry take the chain-head lock and hold it until it commits, so every change
// on every node would queue behind the slowest open transaction. Instead entries are inserted
// unsealed (a plain insert, no shared lock), and this worker gives them their chain position.
//
// Why no entry is ever skipped: the worker does not follow the insertion id (an identity
// handed out at insert time, so a transaction that commits late leaves a hole that is filled
// after the worker has moved past it). It takes *whatever is still unsealed* (`seq is null`),
// oldest id first, and appends it after the current head. An entry whose transaction commits
// late is simply unsealed when the next run looks, and is sealed then, at the end of the chain:
// the chain order is the order in which entries became visible to the sealer, a total order
// that every later reader sees the same way. Exactly one node seals at a time: the head row is
// locked FOR UPDATE SKIP LOCKED, so the others skip the run instead of queueing, and the head
// moves by compare-and-set.
import { hash } from 'node:crypto';
import type { AppContext } from '../platform/context.js';
import type { Worker } from '../platform/worker.js';
import { canonicalJson, type ChainFields } from './audit.entry.js';
import * as repo from './audit.repo.js';

const BATCH = 2000;

// canonicalJson's encoding of a member: a missing value is null, a string is JSON.
const str = (value: string | null | undefined): string => (value === null || value === undefined ? 'null' : JSON.stringify(value));

/**
 * The text of canonicalBytes (audit.entry.ts), built directly: the outer array has a fixed
 * shape whose members are strings, nulls and a whole number, so only `details` needs the
 * general key-sorting encoder. Byte for byte the same (test/audit/audit-seal.test.ts holds
 * it to that); about half the cost, which matters because every API request is sealed.
 */
function canonicalText(seq: number, row: ChainFields): string {
  return (
    `["coffer-audit/1",${seq},${str(row.entry_id)},"${row.occurred_at.toISOString()}",${str(row.actor_type)},${str(row.actor_id)},` +
    `${str(row.action)},${str(row.object_type)},${str(row.object_id)},${str(row.service_id)},${str(row.account_id)},${str(row.ip)},` +
    `${str(row.user_agent)},${str(row.outcome)},${str(row.request_id)},${canonicalJson(row.details)}]`
  );
}

/**
 * Gives entries the next chain positions after `head`: hash(n) = SHA-256(hash(n-1) ‖ canonical
 * bytes of entry n), the same chain as chainHash (audit.entry.ts), which the verifier uses. The
 * previous hash is carried as bytes from one entry to the next instead of being re-parsed from
 * hex each time.
 *
 * The entries are sealed in place (their seq, prev_hash and hash set) and returned: every caller
 * holds a batch of its own, just cleaned or just read, and copying each entry to add three
 * fields cost as much as hashing it, on the thread that answers requests on the embedded store.
 */
export function sealBatch<T extends ChainFields>(head: repo.ChainHead, entries: T[]): { sealed: (T & Seal)[]; head: repo.ChainHead } {
  if (!Number.isSafeInteger(head.seq) || head.seq < 0) throw new TypeError('the chain head position must be a whole number');
  let seq = head.seq;
  let prevHex = head.hash;
  // One buffer holds the previous hash and the entry's bytes, hashed in one call: a Hash object
  // per entry, fed twice, cost twice as much (~1.4 µs against ~0.7 µs an entry).
  let input = Buffer.allocUnsafe(1024);
  input.write(prevHex, 0, 32, 'hex');
  const sealed = entries as (T & Seal)[];
  for (const entry of sealed) {
    seq += 1;
    const text = canonicalText(seq, entry);
    const length = 32 + Buffer.byteLength(text, 'utf8');
    if (length > input.length) {
      const bigger = Buffer.allocUnsafe(Math.max(length, 2 * input.length));
      input.copy(bigger, 0, 0, 32);
      input = bigger;
    }
    input.write(text, 32, 'utf8');
    const digest = hash('sha256', input.subarray(0, length), 'buffer');
    const hex = digest.toString('hex');
    entry.seq = seq;
    entry.prev_hash = prevHex;
    entry.hash = hex;
    digest.copy(input, 0);
    prevHex = hex;
  }
  return { sealed, head: { seq, hash: prevHex } };
}

interface Seal {
  seq: number;
  prev_hash: string;
  hash: string;
}

export async function sealPending(ctx: Pick<AppContext, 'db'>, limit = BATCH): Promise<{ sealed: number; more: boolean; head: repo.ChainHead | undefined }> {
  // Request entries are sealed as they are written (audit.writer.ts), so most runs find nothing:
  // look first with one indexed probe, outside any transaction, before taking the head's lock
  // (on the embedded store a transaction costs the main thread far more than a probe).
  if ((await repo.listUnsealed(ctx.db, 1)).length === 0) return { sealed: 0, more: false, head: undefined };
  return ctx.db.transaction().execute(async (trx) => {
    const head = await repo.lockChainHead(trx);
    if (!head) return { sealed: 0, more: false, head: undefined };
    const entries = await repo.listUnsealed(trx, limit);
    if (entries.length === 0) return { sealed: 0, more: false, head };
    const { sealed, head: next } = sealBatch(head, entries);
    await repo.sealEntries(
      trx,
      sealed.map((e) => ({ id: e.id, seq: e.seq, prevHash: e.prev_hash, hash: e.hash })),
    );
    await repo.moveChainHead(trx, head, next);
    return { sealed: sealed.length, more: entries.length === limit, head: next };
  });
}

/** Seals until nothing is left (tests and `coffer audit verify` call it before walking). */
export async function sealAll(ctx: Pick<AppContext, 'db'>): Promise<number> {
  let total = 0;
  for (;;) {
    const { sealed, more } = await sealPending(ctx);
    total += sealed;
    if (!more) return total;
  }
}

export const auditChainWorker: Worker = {
  name: 'audit-chain',
  intervalMs: 250,
  async run(ctx) {
    const { sealed, more } = await sealPending(ctx);
    return { handled: sealed, more };
  },
};
