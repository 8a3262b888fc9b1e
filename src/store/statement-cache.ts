// Kysely builds and compiles a query object on every call. For a statement run hundreds of
// times a second in one shape (a payment create's insert of four rows), that building cost the
// request thread about a tenth of the create (docs/benchmarks.md). This keeps the compiled SQL
// per shape and fills in only the parameters.
//
// Safe by construction: the first time a shape is seen, the query is built and compiled as
// usual and the parameters the caller would fill in are compared with the ones Kysely compiled,
// value by value; only if they match is the SQL kept. A caller whose parameters do not follow
// the compiled order is therefore never served from the cache (and a test fails loudly on it).
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';

const statements = new Map<string, string>();
const MAX_SHAPES = 100;

const sameValue = (a: unknown, b: unknown): boolean => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : Object.is(a, b));

/**
 * The shape and parameters of an insert of `rows`, for runCachedStatement: each row's defined
 * columns in order (Kysely leaves out a column whose value is undefined), and their values in
 * the same order. One pass over each row's keys: Object.entries, filter, map and join over a
 * payment's ~45 columns cost ~11 µs a create, this ~1.7 µs (Object.entries alone, ~5 µs).
 */
export function insertShape(name: string, rows: readonly object[]): { shape: string; parameters: unknown[] } {
  let shape = name;
  const parameters: unknown[] = [];
  for (const row of rows) {
    shape += '|';
    let first = true;
    for (const column of Object.keys(row)) {
      const value: unknown = (row as Record<string, unknown>)[column];
      if (value === undefined) continue;
      shape += first ? column : `,${column}`;
      first = false;
      parameters.push(value);
    }
  }
  return { shape, parameters };
}

/** Thrown (in tests and at a shape's first use) when a caller's parameters do not match what Kysely compiled. */
export class StatementShapeMismatch extends Error {}

/**
 * Runs the statement `build` makes, with `parameters`. `shape` must name everything that changes
 * the statement's text (which columns, which optional parts), never a value.
 */
export async function runCachedStatement<R, DB>(
  db: Kysely<DB>,
  shape: string,
  build: () => Compilable<R>,
  parameters: readonly unknown[],
): Promise<QueryResult<R>> {
  const cached = statements.get(shape);
  if (cached !== undefined) return db.executeQuery<R>(CompiledQuery.raw(cached, [...parameters]));
  const compiled = build().compile();
  const compiledParameters = compiled.parameters;
  if (compiledParameters.length !== parameters.length || compiledParameters.some((value, i) => !sameValue(value, parameters[i]))) {
    throw new StatementShapeMismatch(`statement "${shape.split('|')[0]}": parameters do not follow the compiled order`);
  }
  if (statements.size < MAX_SHAPES) statements.set(shape, compiled.sql);
  return db.executeQuery(compiled);
}
