// The floor for bench/payments.bench.ts: the least a payment create could cost on this machine.
// A bare Fastify route doing one INSERT transaction of a payment-sized row through the same
// store code, driver and pool size as Coffer (src/store/database.ts); no authentication, no
// validation, no rate limit, no audit, no logging. Run by bench/support.ts in a process of its
// own, as Coffer is, so both sides of the comparison pay for the same process boundary.
import Fastify from 'fastify';
import { sql } from 'kysely';
import { govukStyleId } from '../src/platform/random.js';
import { openStore } from '../src/store/database.js';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new TypeError('DATABASE_URL is required');
const store = await openStore({ databaseUrl });
await sql`create table if not exists bench_floor (id text primary key, account_id text not null, amount bigint not null, reference text not null, description text not null, return_url text not null, created_at timestamptz not null)`.execute(store.db);

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ ok: true }));
app.post('/floor', async (_request, reply) => {
  await store.db.transaction().execute(async (trx) => {
    await sql`insert into bench_floor (id, account_id, amount, reference, description, return_url, created_at) values (${govukStyleId()}, ${'acct_bench'}, ${1250}, ${'BENCH-1'}, ${'Bench payment'}, ${'https://service.example.org/return'}, ${new Date()})`.execute(trx);
  });
  return reply.status(201).send({ ok: true });
});
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });

const stop = async () => {
  await app.close();
  await store.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
