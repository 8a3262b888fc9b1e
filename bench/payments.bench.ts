// Payments API throughput on PostgreSQL: POST /v1/payments and GET /v1/payments/{id} at 50
// connections, beside a floor measured in the same run: a bare route on its own Fastify
// instance doing one equivalent INSERT transaction (one row as wide as a payment's) through the
// same driver and pool. Goal: create at >= 60% of the floor's throughput, p99 under 25 ms.
//
//   createdb -h 127.0.0.1 -U postgres coffer_bench
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/coffer_bench node --import tsx bench/payments.bench.ts
//
// Settings: BENCH_DURATION (s per route, default 10), BENCH_WARMUP (s, default 3),
// BENCH_CONNECTIONS (default 50), BENCH_POOL (database connections, default 10).
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import autocannon, { type Result } from 'autocannon';
import { sql } from 'kysely';
import { systemClock } from '../src/platform/clock.js';
import type { AppContext } from '../src/platform/context.js';
import { govukStyleId } from '../src/platform/random.js';
import { openStore } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { createLogger } from '../src/main/logger.js';
import { SandboxProcessor } from '../src/connectors/sandbox/sandbox.processor.js';
import { buildServer } from '../src/http/server.js';
import { createService } from '../src/services/service.service.js';
import { createKey } from '../src/keys/key.service.js';

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
}

const duration = setting('BENCH_DURATION', 10);
const warmup = setting('BENCH_WARMUP', 3);
const connections = setting('BENCH_CONNECTIONS', 50);
const pool = setting('BENCH_POOL', 10);
const GOAL_RATIO = 0.6;
const GOAL_P99_MS = 25;

type Request = { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string };

function load(url: string, seconds: number, request: Request): Promise<Result> {
  let reported = false;
  return autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        ...request,
        onResponse: (status: number, body: string) => {
          if (status >= 300 && !reported) {
            reported = true;
            console.error(`first refusal on ${request.path}: ${status} ${body.slice(0, 200)}`);
          }
        },
      },
    ],
  });
}

const row = (name: string, r: Result, floor?: Result) =>
  `${name.padEnd(28)} ${r.requests.average.toFixed(0).padStart(8)} ${`${r.latency.p50} ms`.padStart(8)} ${`${r.latency.p99} ms`.padStart(8)} ${String(r.non2xx).padStart(7)}` +
  (floor ? `   ${((100 * r.requests.average) / floor.requests.average).toFixed(0).padStart(4)}% of floor` : '');

async function main(): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  if (!databaseUrl) throw new TypeError('set BENCH_DATABASE_URL to a scratch PostgreSQL database (the bench writes to it)');
  const store = await openStore({ databaseUrl, poolSize: pool });
  await migrateToLatest(store.db);
  const ctx: AppContext = {
    db: store.db,
    storeKind: store.kind,
    clock: systemClock,
    log: createLogger('warn'),
    masterKey: { key: randomBytes(32), fromEnvironment: true },
    cardProcessor: new SandboxProcessor(),
    baseUrl: 'http://127.0.0.1',
    // The bench measures throughput, not GOV.UK Pay's per-account rate limits.
    payments: { defaultRateLimits: { create_payment: 1e9, capture_payment: 1e9, post: 1e9, get: 1e9 } },
  };
  const app = await buildServer(ctx, { baseUrl: 'http://127.0.0.1', version: 'bench', trustedProxies: [], securityTxt: { contact: 'mailto:security@example.org', expires: undefined } });

  // The floor: the same driver and pool, one INSERT transaction of a payment-sized row, no auth,
  // no validation, no rendering.
  await sql`create table if not exists bench_floor (id text primary key, account_id text not null, amount bigint not null, reference text not null, description text not null, return_url text not null, created_at timestamptz not null)`.execute(store.db);
  const floor = Fastify({ logger: false });
  floor.post('/floor', async (_request, reply) => {
    await store.db.transaction().execute(async (trx) => {
      await sql`insert into bench_floor (id, account_id, amount, reference, description, return_url, created_at) values (${govukStyleId()}, ${'acct_bench'}, ${1250}, ${'BENCH-1'}, ${'Bench payment'}, ${'https://service.example.org/return'}, ${new Date()})`.execute(trx);
    });
    return reply.status(201).send({ ok: true });
  });

  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    await floor.listen({ port: 0, host: '127.0.0.1' });
    const port = (a: { server: { address(): unknown } }) => (a.server.address() as { port: number }).port;
    const appUrl = `http://127.0.0.1:${port(app)}`;
    const floorUrl = `http://127.0.0.1:${port(floor)}`;
    ctx.baseUrl = appUrl;

    const service = await createService(ctx, { name: 'Payments bench' });
    const key = await createKey(ctx, { serviceId: service.id, mode: 'test', name: 'bench', createdBy: 'operator:bench' });
    const headers = { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' };
    const body = JSON.stringify({
      amount: 1250,
      reference: 'BENCH-1',
      description: 'Bench payment',
      return_url: 'https://service.example.org/return',
      email: 'payer@example.org',
      metadata: { ledger_code: 'AB100', fund: 7 },
    });
    const probe = await fetch(`${appUrl}/v1/payments`, { method: 'POST', headers, body });
    if (probe.status !== 201) throw new Error(`POST /v1/payments answered ${probe.status}: ${await probe.text()}`);
    const paymentId = ((await probe.json()) as { payment_id: string }).payment_id;

    const floorRequest: Request = { method: 'POST', path: '/floor', headers: { 'content-type': 'application/json' }, body: '{}' };
    const create: Request = { method: 'POST', path: '/v1/payments', headers, body };
    const get: Request = { method: 'GET', path: `/v1/payments/${paymentId}`, headers: { authorization: headers.authorization } };

    console.error(`Warming up (${warmup} s each), then ${duration} s each, ${connections} connections, pool ${pool}, PostgreSQL…`);
    await load(floorUrl, warmup, floorRequest);
    await load(appUrl, warmup, create);
    await load(appUrl, warmup, get);
    const floorResult = await load(floorUrl, duration, floorRequest);
    const createResult = await load(appUrl, duration, create);
    const getResult = await load(appUrl, duration, get);

    console.log(`${'run'.padEnd(28)} ${'req/s'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'non-2xx'.padStart(7)}`);
    console.log(row('floor: bare INSERT txn', floorResult));
    console.log(row('POST /v1/payments', createResult, floorResult));
    console.log(row('GET /v1/payments/{id}', getResult, floorResult));
    const ratio = createResult.requests.average / floorResult.requests.average;
    const ok = ratio >= GOAL_RATIO && createResult.latency.p99 < GOAL_P99_MS && createResult.non2xx === 0;
    console.log(
      `goal: create >= ${GOAL_RATIO * 100}% of floor and p99 < ${GOAL_P99_MS} ms: ${ok ? 'met' : 'NOT met'} ` +
        `(${(ratio * 100).toFixed(0)}%, p99 ${createResult.latency.p99} ms)`,
    );
  } finally {
    await floor.close();
    await app.close();
    await sql`drop table if exists bench_floor`.execute(store.db);
    await store.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
