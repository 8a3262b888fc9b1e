// The batched writer for entries that record no change of their own: every API request (reads
// and refusals too). A request only pushes its entry onto an in-memory queue; the queue is
// written every FLUSH_INTERVAL_MS, or as soon as it holds FLUSH_AT entries, and on shutdown,
// each batch in one statement, sealed into the chain in the same transaction when the head is
// free. One writer per open store (tests run several in one process).
//
// What this trades: the entries of the requests answered in the last FLUSH_INTERVAL_MS (at most
// FLUSH_AT of them) may be lost if the process dies before they are written (a crash, kill -9).
// Changes never depend on it: their entries are written in the change's own transaction. If
// the database refuses a batch, it is kept and retried, up to MAX_QUEUED entries; beyond that
// the oldest are dropped, counted and logged loudly.
//
// Why these sizes (bench/run.ts, docs/benchmarks.md): each batch costs a transaction, and on
// the embedded store, where the database runs on this thread, a transaction's commit costs
// about as much as a hundred rows; 250 ms makes batches of hundreds at a busy node's rate while
// a batch still takes the thread only a few tens of milliseconds.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import type { CleanEntry } from './audit.entry.js';
import { sealBatch } from './audit.chain.js';
import { insertEntries, lockChainHead, moveChainHead } from './audit.repo.js';

const FLUSH_INTERVAL_MS = 250;
const FLUSH_AT = 1000;
const MAX_QUEUED = 100_000;

export class AuditWriter {
  private queue: CleanEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  dropped = 0;
  written = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
  ) {}

  push(entry: CleanEntry): void {
    this.queue.push(entry);
    if (this.queue.length > MAX_QUEUED) {
      const excess = this.queue.length - MAX_QUEUED;
      this.queue.splice(0, excess);
      this.dropped += excess;
      this.log.error({ dropped: excess }, 'audit queue overflowing: the database is refusing audit entries');
    }
    if (this.queue.length >= FLUSH_AT) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued so far; resolves when it is in the database (or has failed and been re-queued). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing = this.flushing.then(() => this.writeQueued());
    return this.flushing;
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, FLUSH_AT);
      try {
        await writeBatch(this.db, batch);
        this.written += batch.length;
      } catch (err) {
        this.queue.unshift(...batch);
        this.log.error({ err, queued: this.queue.length }, 'could not write audit entries; will retry');
        if (!this.timer) {
          this.timer = setTimeout(() => void this.flush(), 1000);
          this.timer.unref();
        }
        return;
      }
    }
  }

  /** At shutdown: everything queued is written before the store closes. */
  async close(): Promise<void> {
    await this.flush();
  }
}

/**
 * Writes a batch, sealed at once when the chain head is free: the batch's hashes are computed
 * here and the rows inserted already in the chain, in the one transaction that writes them. That
 * saves the sealer an UPDATE of every request entry (on the embedded store, where every
 * statement runs on the main thread, that UPDATE cost more than the insert). The head is taken
 * with SKIP LOCKED, so a flush never waits: if another node is sealing, the batch goes in
 * unsealed and the sealer picks it up, as it does every entry written in a change's transaction.
 */
async function writeBatch(db: Kysely<Database>, batch: CleanEntry[]): Promise<void> {
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

const writers = new WeakMap<Kysely<Database>, AuditWriter>();

export function auditWriterFor(db: Kysely<Database>, log: Logger): AuditWriter {
  let writer = writers.get(db);
  if (!writer) {
    writer = new AuditWriter(db, log);
    writers.set(db, writer);
  }
  return writer;
}

/** Writes every queued request entry now (tests, shutdown, CLI commands). */
export async function flushAudit(db: Kysely<Database>): Promise<void> {
  await writers.get(db)?.flush();
}
