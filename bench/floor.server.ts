// The floor for bench/payments.bench.ts: the least a payment create could cost on this machine.
// A bare Fastify route doing one INSERT transaction of a payment-sized row through the same
// store code, driver and pool size as Coffer (src/store/database.ts); no authentication, no
// validation, no rate limit, no audit, no logging. Run by bench/support.ts in a process of its
// own, as Coffer is, so both sides of the comparison pay for the same process boundary.
//
// With BENCH_FLOOR_ACCOUNT (service id:account id of a real account), a second route for the
// report, not the goal: POST /floor/create-rows writes exactly the rows a create writes (the
// payment with its indexes, its event, its audit entry and the payer's token, in Coffer's own
// one statement, src/payments/payment.repo.ts) with values made once, no encryption. The create's
// distance from it is the cost of Coffer's own code; its distance from the floor, the data's.
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { govukStyleId } from '../src/platform/random.js';
import { openStore } from '../src/store/database.js';
import { cleanEntry } from '../src/audit/audit.entry.js';
import { insertNewPayment } from '../src/payments/payment.repo.js';
import type { PaymentsTable } from '../src/payments/payment.tables.js';
import type { Insertable } from 'kysely';
import { prefixedId } from '../src/platform/random.js';

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
const [serviceId, accountId] = (process.env.BENCH_FLOOR_ACCOUNT ?? '').split(':');
if (serviceId && accountId) {
  const template = createRowsTemplate(serviceId, accountId);
  app.post('/floor/create-rows', async (_request, reply) => {
    const now = new Date();
    const id = govukStyleId();
    const payment = { ...template, id, created_at: now, updated_at: now };
    const audit = cleanEntry(
      { action: 'payment.create', actor: { type: 'key', id: 'key_bench' }, object: { type: 'payment', id }, serviceId, accountId, at: now, ip: '127.0.0.1', userAgent: 'autocannon', requestId: 'req_bench', details: { amount: 1250, reference: 'BENCH-1', authorisation_mode: 'web' } },
      prefixedId('aud'),
      undefined,
    );
    const event = { id: prefixedId('evt'), eventType: 'payment_created', occurredAt: now, data: { state: { status: 'created', finished: false }, internal_status: 'created' } };
    await insertNewPayment(store.db, payment, event, randomBytes(32).toString('hex'), audit);
    return reply.status(201).send({ ok: true });
  });
}

/** A create's payment row for the bench's body, with stand-in ciphertext and blind index of the same sizes. */
function createRowsTemplate(serviceId: string, accountId: string): Insertable<PaymentsTable> {
  return {
    id: '',
    service_id: serviceId,
    account_id: accountId,
    mode: 'test',
    status: 'created',
    amount: 1250,
    currency: 'GBP',
    description: 'Bench payment',
    reference: 'BENCH-1',
    language: 'en',
    return_url: 'https://service.example.org/return',
    delayed_capture: false,
    moto: false,
    authorisation_mode: 'web',
    agreement_id: null,
    set_up_agreement: null,
    agreement_payment_type: null,
    metadata: JSON.stringify({ ledger_code: 'AB100', fund: 7 }),
    email_sealed: `v1.${'x'.repeat(24)}.${'y'.repeat(24)}.${'z'.repeat(22)}`,
    email_index: 'e'.repeat(64),
    prefilled_sealed: null,
    cardholder_name_sealed: null,
    cardholder_name_index: null,
    billing_address_sealed: null,
    personal_data_key_version: 1,
    card_brand: null,
    card_type: null,
    card_first_digits: null,
    card_last_digits: null,
    card_expiry: null,
    card_corporate: null,
    card_prepaid: null,
    three_ds_required: null,
    three_ds_challenge_id: null,
    payment_provider: 'sandbox',
    processor_reference: null,
    capture_submitted_at: null,
    captured_at: null,
    created_at: new Date(),
    updated_at: new Date(),
  };
}

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });

const stop = async () => {
  await app.close();
  await store.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
