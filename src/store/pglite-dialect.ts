// A Kysely dialect for PGlite, the embedded PostgreSQL, used where PGlite runs: the store's own
// thread (embedded-thread.ts). PGlite is one session, so the driver hands out its single
// connection to one holder at a time (SessionLock, shared with the request thread's remote
// connections): a transaction keeps it until it commits or rolls back, and everything else waits
// its turn. Code inside a transaction must therefore use the transaction object, never the outer
// database (it would wait forever).
import type { PGlite } from '@electric-sql/pglite';
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

/** First come, first served: one holder of the PGlite session at a time. */
export class SessionLock {
  private queue: Promise<void> = Promise.resolve();

  /** Resolves, when the session is this caller's, with the function that hands it on. */
  async acquire(): Promise<() => void> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    await previous;
    return release;
  }

  /** Resolves once every holder so far has released the session. */
  async idle(): Promise<void> {
    await this.queue;
  }
}

export class PGliteDialect implements Dialect {
  constructor(
    private readonly pglite: PGlite,
    private readonly lock: SessionLock,
  ) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite, this.lock);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PGliteDriver implements Driver {
  private readonly connection: PGliteConnection;
  private release: (() => void) | undefined;

  constructor(
    private readonly pglite: PGlite,
    private readonly lock: SessionLock,
  ) {
    this.connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {
    await this.pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    this.release = await this.lock.acquire();
    return this.connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    release?.();
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
    await this.lock.idle();
  }
}

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGlite) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await runOnPGlite(this.pglite, compiledQuery.sql, compiledQuery.parameters);
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

/** One statement's rows and count, as PGlite gives them (also what the store's thread sends back). */
export interface StatementResult {
  rows: unknown[];
  affectedRows?: number | undefined;
}

export async function runOnPGlite(pglite: PGlite, sql: string, parameters: readonly unknown[]): Promise<StatementResult> {
  // Without parameters the simple protocol runs, which also allows several statements
  // (migrations); with parameters the extended protocol binds them safely.
  const result = parameters.length === 0 ? lastOf(await pglite.exec(sql)) : await pglite.query(sql, [...parameters]);
  return { rows: result.rows, affectedRows: result.affectedRows };
}

function lastOf<T>(results: T[]): T {
  const last = results[results.length - 1];
  if (last === undefined) throw new TypeError('the statement returned no result');
  return last;
}
