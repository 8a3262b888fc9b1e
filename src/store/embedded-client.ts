// The request thread's side of the embedded store: PGlite runs on a thread of its own
// (embedded-thread.ts) and this dialect sends it each statement. PGlite compiled to WebAssembly
// costs as much CPU per statement as all of Coffer's own work for a simple request, so on the
// thread that serves requests it halved their throughput (docs/benchmarks.md); there it also
// held up every request while it wrote a batch of audit entries. Across threads a statement
// costs two messages (the statement, its result) and a third when its connection is released.
//
// A connection is a lease on PGlite's one session: it is taken, in the store's thread, with its
// first statement, and keeps the session until released, so a transaction's statements run
// together and in order. As before, code inside a transaction must use the transaction object,
// never the outer database (it would wait for the session forever).
import type { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { AuditEntry } from '../audit/audit.entry.js';
import { startModuleThread } from '../platform/worker-thread.js';

export type ToStoreThread =
  | { t: 'query'; id: number; lease: number; sql: string; parameters: unknown[] }
  | { t: 'release'; lease: number }
  | { t: 'audit'; id: number; entries: AuditEntry[] }
  | { t: 'close'; id: number };

export type FromStoreThread =
  | { id: number; ok: true; rows: unknown[]; affectedRows?: number | undefined }
  | { id: number; ok: false; error: { message: string; fields: Record<string, string> } };

type Answer = Extract<FromStoreThread, { ok: true }>;

/** The store's thread, and the requests out to it. */
export class EmbeddedThread {
  private nextId = 1;
  private nextLease = 1;
  private readonly waiting = new Map<number, { resolve: (answer: Answer) => void; reject: (err: Error) => void }>();
  private stopped: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromStoreThread) => {
      const pending = this.waiting.get(message.id);
      if (!pending) return;
      this.waiting.delete(message.id);
      if (this.waiting.size === 0) worker.unref();
      if (message.ok) pending.resolve(message);
      else pending.reject(Object.assign(new Error(message.error.message), message.error.fields));
    });
    worker.on('error', (err) => this.stop(err));
    worker.on('exit', () => this.stop(new Error('the embedded store thread stopped')));
  }

  /** Starts the thread on the data directory (undefined: in memory) and waits until PGlite is open. */
  static async start(dataDir: string | undefined): Promise<EmbeddedThread> {
    const thread = new EmbeddedThread(startModuleThread(import.meta.url, 'embedded-thread', { dataDir }));
    await thread.expect(0);
    return thread;
  }

  newLease(): number {
    return this.nextLease++;
  }

  run(lease: number, sql: string, parameters: readonly unknown[]): Promise<Answer> {
    const id = this.nextId++;
    const answer = this.expect(id);
    this.post({ t: 'query', id, lease, sql, parameters: [...parameters] });
    return answer;
  }

  release(lease: number): void {
    this.post({ t: 'release', lease });
  }

  /** Cleans, seals and writes a batch of audit entries in the store's thread; resolves with how many were written. */
  async writeAudit(entries: AuditEntry[]): Promise<number> {
    const id = this.nextId++;
    const answer = this.expect(id);
    this.post({ t: 'audit', id, entries });
    return (await answer).affectedRows ?? 0;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    const id = this.nextId++;
    const answer = this.expect(id);
    this.post({ t: 'close', id });
    try {
      await answer;
    } finally {
      await this.worker.terminate();
    }
  }

  private post(message: ToStoreThread): void {
    if (!this.stopped) this.worker.postMessage(message);
  }

  // Referenced only while an answer is awaited: an idle thread must not keep its process alive
  // (a store left open, as tests may leave one), and one awaited must (a CLI command's query).
  private expect(id: number): Promise<Answer> {
    if (this.stopped) return Promise.reject(this.stopped);
    this.worker.ref();
    return new Promise<Answer>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  private stop(err: Error): void {
    this.stopped ??= err;
    for (const { reject } of this.waiting.values()) reject(err);
    this.waiting.clear();
  }
}

export class EmbeddedThreadDialect implements Dialect {
  constructor(private readonly thread: EmbeddedThread) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new EmbeddedThreadDriver(this.thread);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class EmbeddedThreadDriver implements Driver {
  constructor(private readonly thread: EmbeddedThread) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new LeasedConnection(this.thread, this.thread.newLease());
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.thread.release((connection as LeasedConnection).lease);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await connection.executeQuery(CompiledQuery.raw(`begin${isolation}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    await this.thread.close();
  }
}

class LeasedConnection implements DatabaseConnection {
  constructor(
    private readonly thread: EmbeddedThread,
    readonly lease: number,
  ) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.thread.run(this.lease, compiledQuery.sql, compiledQuery.parameters);
    return {
      rows: result.rows as R[],
      ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new TypeError('streaming queries are not supported on the embedded store');
  }
}
