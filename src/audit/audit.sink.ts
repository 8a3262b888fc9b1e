// Where the audit writer's batches go (audit.writer.ts): handed to a thread of its own that
// writes them through its own PostgreSQL connection; on the embedded store, to the thread PGlite
// runs on (store/embedded-thread.ts), which writes them as this one would; or, for a database
// opened otherwise, written on this thread.
//
// Why a thread on PostgreSQL: at thousands of requests a second, cleaning, sealing (SHA-256),
// encoding and sending each request's entry cost the request thread as much as the rest of an
// authenticated call (bench/run.ts). The thread does all of it on another core; the request
// thread only copies the batch to it. It writes exactly as this thread would (writeBatch), as
// any other node would: the chain head is taken with SKIP LOCKED, so it and the sealing worker
// never wait for each other.
//
// If the thread dies with a batch in hand (it should not: it catches database errors and
// reports them), the batch is reported failed and the writer queues it again, so an entry may
// be written twice but is not lost while the process lives.
import type { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { EmbeddedThread } from '../store/embedded-client.js';
import type { Database } from '../store/schema.js';
import type { AuditEntry } from './audit.entry.js';
import { startModuleThread } from '../platform/worker-thread.js';
import { cleanBatch, writeBatch } from './audit.batch.js';

export interface BatchSink {
  /** Where batches are written: this thread, or the audit writer thread. */
  readonly kind: 'in-process' | 'thread';
  /** Writes the batch; resolves with how many entries were written (malformed ones are left out), rejects if the batch could not be written. */
  write(batch: AuditEntry[]): Promise<number>;
  close(): Promise<void>;
}

export function inProcessSink(db: Kysely<Database>): BatchSink {
  return {
    kind: 'in-process',
    async write(batch) {
      const clean = cleanBatch(batch);
      await writeBatch(db, clean);
      return clean.length;
    },
    async close() {},
  };
}

/** The embedded store's thread: it cleans, seals and writes the batch under PGlite's session lock. */
export function embeddedStoreSink(thread: EmbeddedThread): BatchSink {
  return {
    kind: 'thread',
    write: (batch) => thread.writeAudit(batch),
    async close() {},
  };
}

/** What the thread answers for each batch. */
export type ThreadReply = { id: number; ok: true; written: number } | { id: number; ok: false; error: string };

export function threadSink(connectionString: string, log: Logger): BatchSink {
  let worker: Worker | undefined;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (written: number) => void; reject: (err: Error) => void }>();

  const failAll = (err: Error): void => {
    for (const { reject } of waiting.values()) reject(err);
    waiting.clear();
  };

  const start = (): Worker => {
    const started = spawnAuditThread(connectionString);
    started.on('message', (reply: ThreadReply) => {
      const pending = waiting.get(reply.id);
      if (!pending) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) started.unref();
      if (reply.ok) pending.resolve(reply.written);
      else pending.reject(new Error(reply.error));
    });
    started.on('error', (err) => {
      log.error({ err }, 'the audit writer thread failed; starting another');
      failAll(err);
    });
    started.on('exit', () => {
      if (worker === started) worker = undefined;
      failAll(new Error('the audit writer thread stopped'));
    });
    // Referenced only while a batch is out (after the listeners: adding one takes a reference
    // again): an idle thread must not keep its process alive (a store left open, as tests may
    // leave one), and a process that is shutting down must not exit before its last batch is in.
    started.unref();
    return started;
  };

  return {
    kind: 'thread',
    write(batch) {
      worker ??= start();
      const id = nextId++;
      const sent = worker;
      return new Promise<number>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        sent.ref();
        sent.postMessage({ id, entries: batch });
      });
    },
    async close() {
      const stopping = worker;
      worker = undefined;
      if (stopping) await stopping.terminate();
    },
  };
}

/** Starts audit.thread, compiled or from source (worker-thread.ts). */
function spawnAuditThread(connectionString: string): Worker {
  return startModuleThread(import.meta.url, 'audit.thread', { connectionString });
}
