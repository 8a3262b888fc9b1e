// A pg client that sends each parameterised statement as a named prepared statement, so that
// PostgreSQL parses and plans it once per connection instead of on every execution. On the hot
// paths that was a third of PostgreSQL's work: a payment create's statement (four inserts in
// one) cost ~190 µs of parsing and planning against ~300 µs of executing (docs/benchmarks.md).
//
// Bounds: statements without parameters (BEGIN, COMMIT, migrations' multi-statement scripts) go
// as they are, and so does any statement text beyond the first MAX_PREPARED distinct ones this
// process has seen, so a stream of one-off texts (searches with varying filters) cannot grow
// every backend's plan cache without end. Names are a hash of the text, so every connection and
// every node give one statement the same name.
//
// A prepared `select *` fails with "cached plan must not change result type" once a migration
// adds a column to its table (an old node during a rolling deploy): that statement is then
// sent unprepared on the connection that saw the error, so one request fails, not every one.
//
// Each statement goes out in one write. pg writes a statement's protocol messages (Bind,
// Describe, Execute, Sync) one by one, which the socket turns into two system calls; on a
// loopback or virtualised network each send costs far more than the bytes (the `writev` of
// profiles was a quarter of a payment create's CPU). The socket is corked while pg submits.
import { createHash } from 'node:crypto';
import pg from 'pg';

const MAX_PREPARED = 1000;
const names = new Map<string, string>();

function nameFor(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_PREPARED) {
    name = `coffer_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

const RESULT_TYPE_CHANGED = '0A000';

interface PgInternals {
  connection?: { stream?: { cork?: () => void; uncork?: () => void } };
  _pulseQueryQueue?: () => void;
}

export class PreparingClient extends pg.Client {
  private readonly unprepared = new Set<string>();

  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // pg submits every statement from _pulseQueryQueue, at once or when the previous one ends.
    const internals = this as unknown as PgInternals;
    const pulse = internals._pulseQueryQueue;
    if (typeof pulse !== 'function') return;
    internals._pulseQueryQueue = function corkedPulse(this: PgInternals) {
      const stream = this.connection?.stream;
      if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return pulse.call(this);
      stream.cork();
      try {
        pulse.call(this);
      } finally {
        stream.uncork();
      }
    };
  }

  // pg's query() has many overloads; only (text, values) with values is rewritten, the form
  // Kysely uses for every parameterised statement.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    if (args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0 && !this.unprepared.has(text)) {
      const name = nameFor(text);
      if (name !== undefined) {
        const running = super.query({ name, text, values }) as unknown as Promise<pg.QueryResult>;
        return running.catch((err: unknown) => {
          if ((err as { code?: string }).code === RESULT_TYPE_CHANGED) this.unprepared.add(text);
          throw err;
        }) as never;
      }
    }
    return (super.query as (...a: unknown[]) => unknown)(...args) as never;
  }
}
