// The audit writer thread (audit.sink.ts): receives batches of request entries from the
// request thread and writes them through a connection of its own, one batch at a time. A
// database error is answered, not thrown, so the writer on the other side queues the batch
// again and the thread lives on.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/database.js';
import type { AuditEntry } from './audit.entry.js';
import { cleanBatch, writeBatch } from './audit.batch.js';
import type { ThreadReply } from './audit.sink.js';

const port = parentPort;
if (!port) throw new Error('audit.thread runs as a worker thread');
const { connectionString } = workerData as { connectionString: string };
// One connection: batches come one at a time.
const store = await openStore({ databaseUrl: connectionString, poolSize: 1 });

let queue: Promise<void> = Promise.resolve();
port.on('message', (message: { id: number; entries: AuditEntry[] }) => {
  queue = queue.then(async () => {
    let reply: ThreadReply;
    try {
      const clean = cleanBatch(message.entries);
      await writeBatch(store.db, clean);
      reply = { id: message.id, ok: true, written: clean.length };
    } catch (err) {
      reply = { id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
});
