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
import type { AppContext } from '../platform/context.js';
import type { Worker } from '../platform/worker.js';
import { chainHash } from './audit.entry.js';
import * as repo from './audit.repo.js';

const BATCH = 2000;

export async function sealPending(ctx: Pick<AppContext, 'db'>, limit = BATCH): Promise<{ sealed: number; more: boolean; head: repo.ChainHead | undefined }> {
  return ctx.db.transaction().execute(async (trx) => {
    const head = await repo.lockChainHead(trx);
    if (!head) return { sealed: 0, more: false, head: undefined };
    const entries = await repo.listUnsealed(trx, limit);
    if (entries.length === 0) return { sealed: 0, more: false, head };
    let seq = head.seq;
    let hash = head.hash;
    const seals = entries.map((entry) => {
      seq += 1;
      const prevHash = hash;
      hash = chainHash(prevHash, seq, entry);
      return { id: entry.id, seq, prevHash, hash };
    });
    await repo.sealEntries(trx, seals);
    const next = { seq, hash };
    await repo.moveChainHead(trx, head, next);
    return { sealed: seals.length, more: entries.length === limit, head: next };
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
