// PostgreSQL statements with parameters are prepared once per connection (store/prepared-client.ts):
// the second run of a statement reuses the first's plan, statements without parameters are
// never prepared, and a prepared `select *` whose table gained a column fails once on that
// connection and then runs again, unprepared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openStore } from '../../src/store/database.js';
import { usingPostgres } from '../support/harness.js';

const needsPostgres = { skip: !usingPostgres() && 'needs PostgreSQL' };

test('a statement with parameters is prepared once and reused; one without is not prepared', needsPostgres, async () => {
  const store = await openStore({ databaseUrl: process.env.COFFER_TEST_DATABASE_URL!, poolSize: 1 });
  try {
    const marker = `prepared_${randomBytes(4).toString('hex')}`;
    const run = (value: number) => sql<{ v: number }>`select ${value}::int + 1 as v, ${marker}::text as marker`.execute(store.db);
    assert.equal((await run(1)).rows[0]?.v, 2);
    assert.equal((await run(41)).rows[0]?.v, 42);
    await sql`select 1 as unparameterised_statement`.execute(store.db);
    const prepared = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(store.db);
    const texts = prepared.rows.map((r) => r.statement);
    assert.equal(texts.filter((t) => t.includes('::text as marker')).length, 1, 'one prepared statement for both runs');
    assert.ok(!texts.some((t) => t.includes('unparameterised_statement')));
  } finally {
    await store.close();
  }
});

test('a prepared select * whose table gains a column fails once, then runs unprepared', needsPostgres, async () => {
  const store = await openStore({ databaseUrl: process.env.COFFER_TEST_DATABASE_URL!, poolSize: 1 });
  const table = `prepared_change_${randomBytes(4).toString('hex')}`;
  try {
    await sql`create table ${sql.table(table)} (id int primary key)`.execute(store.db);
    await sql`insert into ${sql.table(table)} (id) values (1)`.execute(store.db);
    const read = () => sql<Record<string, unknown>>`select * from ${sql.table(table)} where id = ${1}`.execute(store.db);
    assert.deepEqual((await read()).rows, [{ id: 1 }]);
    await sql`alter table ${sql.table(table)} add column note text default 'added'`.execute(store.db);
    await assert.rejects(read(), /cached plan must not change result type/);
    assert.deepEqual((await read()).rows, [{ id: 1, note: 'added' }]);
  } finally {
    await sql`drop table if exists ${sql.table(table)}`.execute(store.db);
    await store.close();
  }
});
