// One batch of the audit writer's entries, cleaned and written: shared by the request thread
// (embedded store) and the audit writer thread (PostgreSQL), so both write exactly alike.
import type { Kysely } from 'kysely';
import { sortableId } from '../platform/random.js';
import type { Database } from '../store/schema.js';
import { sealBatch } from './audit.chain.js';
import { cleanEntry, type AuditEntry, type CleanEntry } from './audit.entry.js';
import { insertEntries, lockChainHead, moveChainHead } from './audit.repo.js';

/** Cleans each entry (audit.entry.ts) and gives it its id; a malformed one (a bug) is left out rather than sink the batch. */
export function cleanBatch(entries: readonly AuditEntry[]): CleanEntry[] {
  const clean: CleanEntry[] = [];
  for (const entry of entries) {
    try {
      clean.push(cleanEntry(entry, sortableId('aud'), undefined));
    } catch {
      // counted by the writer (written < batch length) and logged there
    }
  }
  return clean;
}

/**
 * Writes a batch, sealed at once when the chain head is free: the batch's hashes are computed
 * here and the rows inserted already in the chain, in the one transaction that writes them. That
 * saves the sealer an UPDATE of every request entry (on the embedded store, where every
 * statement runs on the main thread, that UPDATE cost more than the insert). The head is taken
 * with SKIP LOCKED, so a flush never waits: if another node is sealing, the batch goes in
 * unsealed and the sealer picks it up, as it does every entry written in a change's transaction.
 */
export async function writeBatch(db: Kysely<Database>, batch: CleanEntry[]): Promise<void> {
  if (batch.length === 0) return;
  await db.transaction().execute(async (trx) => {
    const head = await lockChainHead(trx);
    if (!head) {
      await insertEntries(trx, batch);
      return;
    }
    const { sealed, head: next } = sealBatch(head, batch);
    await insertEntries(trx, sealed);
    await moveChainHead(trx, head, next);
  });
}
