// runCachedStatement (store/statement-cache.ts) keeps a statement's compiled SQL per shape and
// fills in only the parameters: it must give the same rows as building the query each time, and
// refuse, before anything runs, a caller whose parameters do not follow the compiled order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openStore } from '../../src/store/database.js';
import { insertShape, runCachedStatement, StatementShapeMismatch } from '../../src/store/statement-cache.js';
import { usingPostgres } from '../support/harness.js';

test('the cached statement gives what the built one gives; a wrong parameter order is refused', async () => {
  const store = usingPostgres() ? await openStore({ databaseUrl: process.env.COFFER_TEST_DATABASE_URL!, poolSize: 1 }) : await openStore({ embeddedDir: 'memory://' });
  const db = store.db as unknown as import('kysely').Kysely<Record<string, { id: string; amount: number; at: Date; note: string | null }>>;
  const table = `cached_${randomBytes(4).toString('hex')}`;
  const shape = `test-insert-${table}|id,amount,at,note`;
  try {
    await sql`create table ${sql.table(table)} (id text primary key, amount bigint not null, at timestamptz not null, note text)`.execute(db);
    const insert = (row: { id: string; amount: number; at: Date; note: string | null }, parameters: unknown[]) =>
      runCachedStatement(db, shape, () => db.insertInto(table).values(row), parameters);

    const wrong = { id: 'p0', amount: 5, at: new Date('2026-11-25T12:00:00Z'), note: null };
    await assert.rejects(insert(wrong, [wrong.amount, wrong.id, wrong.at, wrong.note]), StatementShapeMismatch);

    const rows = [1, 2, 3].map((i) => ({ id: `p${i}`, amount: i * 100, at: new Date(Date.UTC(2026, 10, 25, 12, i)), note: i === 2 ? null : `note ${i}` }));
    for (const row of rows) await insert(row, Object.values(row));
    const stored = await sql<{ id: string; amount: number; at: Date; note: string | null }>`select * from ${sql.table(table)} order by id`.execute(db);
    assert.deepEqual(stored.rows, rows);
  } finally {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
    await store.close();
  }
});

test("an insert's shape names each row's defined columns in order, and its parameters follow them", () => {
  const payment = { id: 'pay_1', amount: 1250, email: undefined, note: null };
  const event = { id: 'evt_1', at: new Date(0) };
  assert.deepEqual(insertShape('create', [payment, event]), { shape: 'create|id,amount,note|id,at', parameters: ['pay_1', 1250, null, 'evt_1', new Date(0)] });
  // A row whose defined columns differ is another shape: it must never be served another's SQL.
  assert.notEqual(insertShape('create', [{ ...payment, email: 'a@example.org' }, event]).shape, insertShape('create', [payment, event]).shape);
});
