// The batched writer for entries that record no change of their own: every API request (reads
// and refusals too). A request only pushes its entry, as given, onto an in-memory queue; the
// queue is written every FLUSH_INTERVAL_MS, or as soon as it holds FLUSH_AT entries, and on
// shutdown, each batch cleaned, sealed into the chain and inserted in one transaction when the
// head is free. One writer per open store (tests run several in one process).
//
// Where a batch is written (audit.sink.ts): on PostgreSQL, by a thread of its own with its own
// connection, on the embedded store by the thread PGlite runs on, so cleaning, sealing, encoding
// and inserting the entries of thousands of requests a second never take the request thread.
//
// What this trades: the entries of the requests answered in the last FLUSH_INTERVAL_MS (at most
// FLUSH_AT of them) may be lost if the process dies before they are written (a crash, kill -9).
// Changes never depend on it: their entries are written in the change's own transaction. If
// the database refuses a batch, it is kept and retried, up to MAX_QUEUED entries; beyond that
// the oldest are dropped, counted and logged loudly.
//
// Why these sizes (bench/run.ts, docs/benchmarks.md): each batch costs a transaction, and on
// the embedded store a transaction's commit costs about as much as a hundred rows, while the
// batch holds PGlite's one session from every request; 250 ms makes batches of hundreds at a
// busy node's rate while a batch still takes the session only a few tens of milliseconds.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { connectionStringOf, embeddedThreadOf } from '../store/database.js';
import type { Database } from '../store/schema.js';
import type { AuditEntry } from './audit.entry.js';
import { embeddedStoreSink, inProcessSink, threadSink, type BatchSink } from './audit.sink.js';

const FLUSH_INTERVAL_MS = 250;
const FLUSH_AT = 1000;
const MAX_QUEUED = 100_000;

export class AuditWriter {
  private queue: AuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private waitingFlush: Promise<void> | undefined;
  private inFlight = 0;
  dropped = 0;
  written = 0;

  constructor(
    private readonly sink: BatchSink,
    private readonly log: Logger,
  ) {}

  /**
   * Queues an entry as it is: cleaned (card numbers, keys, secret-named fields) when its batch is
   * written. Its origin must be given (ip, userAgent, requestId, actor): nothing is read from the
   * request in progress, since the batch is written outside it.
   */
  push(entry: AuditEntry): void {
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

  /** Where batches are written: another thread (the audit writer's on PostgreSQL, PGlite's on the embedded store), or this one. */
  get writesIn(): BatchSink['kind'] {
    return this.sink.kind;
  }

  /** Entries not yet in the database: queued, or in a batch being written. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /**
   * Writes everything queued so far; resolves when it is in the database (or has failed and been
   * re-queued). Entries pushed while it writes wait for the next timer or a full batch: a flush
   * that went on writing whatever had come in meanwhile would, under steady traffic, never stop,
   * and write batches of the few dozen requests answered during one round trip, each its own
   * transaction and chain-head update (6x the commits, at twice the database CPU per entry).
   */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // One flush waiting behind the one in progress is enough: it takes everything queued when it starts.
    if (!this.waitingFlush) {
      this.flushing = this.flushing.then(() => {
        this.waitingFlush = undefined;
        return this.writeQueued(this.queue.length);
      });
      this.waitingFlush = this.flushing;
    }
    return this.waitingFlush;
  }

  private async writeQueued(count: number): Promise<void> {
    let left = count;
    while (left > 0 && this.queue.length > 0) {
      const batch = this.queue.splice(0, Math.min(left, FLUSH_AT));
      left -= batch.length;
      this.inFlight = batch.length;
      try {
        const written = await this.sink.write(batch);
        this.written += written;
        if (written < batch.length) this.log.error({ refused: batch.length - written }, 'audit entries refused as malformed (a bug): left out');
      } catch (err) {
        this.queue.unshift(...batch);
        this.log.error({ err, queued: this.queue.length }, 'could not write audit entries; will retry');
        if (!this.timer) {
          this.timer = setTimeout(() => void this.flush(), 1000);
          this.timer.unref();
        }
        return;
      } finally {
        this.inFlight = 0;
      }
    }
    if (this.queue.length > 0 && !this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** At shutdown: everything queued is written before the store closes. */
  async close(): Promise<void> {
    await this.flush();
    await this.sink.close();
  }
}

const writers = new WeakMap<Kysely<Database>, AuditWriter>();

export function auditWriterFor(db: Kysely<Database>, log: Logger): AuditWriter {
  let writer = writers.get(db);
  if (!writer) {
    const connectionString = connectionStringOf(db);
    const embedded = embeddedThreadOf(db);
    const sink = connectionString ? threadSink(connectionString, log) : embedded ? embeddedStoreSink(embedded) : inProcessSink(db);
    writer = new AuditWriter(sink, log);
    writers.set(db, writer);
  }
  return writer;
}

/** Writes every queued request entry now (tests, shutdown, CLI commands). */
export async function flushAudit(db: Kysely<Database>): Promise<void> {
  await writers.get(db)?.flush();
}
