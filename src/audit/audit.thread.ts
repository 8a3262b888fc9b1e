// The audit writer thread (audit.sink.ts): receives batches of request entries from the
// request thread and writes them with COPY (audit.copy.ts) through a connection of its own, one
// batch at a time. A database error is answered, not thrown, so the writer on the other side
// queues the batch again and the thread lives on; the connection that saw it is dropped and the
// next batch opens another, so a restarted or failed-over server costs a retry, not the thread.
import { parentPort, workerData } from 'node:worker_threads';
import type pg from 'pg';
import { connectPostgres } from '../store/database.js';
import type { AuditEntry } from './audit.entry.js';
import { cleanBatch } from './audit.batch.js';
import { copyBatch } from './audit.copy.js';
import type { ThreadReply } from './audit.sink.js';

const port = parentPort;
if (!port) throw new Error('audit.thread runs as a worker thread');
const { connectionString } = workerData as { connectionString: string };

let connection: Promise<pg.Client> | undefined;

function connected(): Promise<pg.Client> {
  connection ??= connectPostgres(connectionString).then((client) => {
    // A connection lost while idle must not end the thread: the next batch opens another.
    client.on('error', () => dropConnection());
    return client;
  });
  return connection;
}

function dropConnection(): void {
  const dropped = connection;
  connection = undefined;
  void dropped?.then((client) => client.end()).catch(() => undefined);
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (message: { id: number; entries: AuditEntry[] }) => {
  queue = queue.then(async () => {
    let reply: ThreadReply;
    try {
      const clean = cleanBatch(message.entries);
      await copyBatch(await connected(), clean);
      reply = { id: message.id, ok: true, written: clean.length };
    } catch (err) {
      dropConnection();
      reply = { id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
});
