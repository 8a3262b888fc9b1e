// `npm run bench:audit`: what the audit log costs.
//   1. POST /v1/payments with request-level audit entries and without them, in the same run,
//      on the same store (two servers built in this process; the sealing worker runs, as in
//      production). Entries of changes are written with the change either way (payment.create's
//      in the same statement as the payment), so the difference is the request-level entries.
//   2. Sealing and `coffer audit verify`: entries per second over a log of BENCH_VERIFY_ENTRIES.
//   3. On PostgreSQL: writing request entries as the writer thread does, COPY (audit.copy.ts),
//      beside the JSON-batch insert it replaced (writeBatch), in alternating batches of 1,000:
//      the database backend's CPU and this process's CPU per entry.
// The embedded store by default (a temp directory); PostgreSQL with BENCH_DATABASE_URL (use a
// scratch database: the bench writes to it).
//
// Settings: BENCH_DURATION (s per run, default 10), BENCH_WARMUP (s, default 3),
// BENCH_CONNECTIONS (default 10), BENCH_VERIFY_ENTRIES (default 50000), BENCH_ROUTE=account to
// measure GET /v1/account instead (the cheapest authenticated call, where the cost shows most).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon, { type Result } from 'autocannon';
import { systemClock } from '../src/platform/clock.js';
import type { AppContext } from '../src/platform/context.js';
import { openStore } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { createLogger } from '../src/main/logger.js';
import { SandboxProcessor } from '../src/connectors/sandbox/sandbox.processor.js';
import { buildServer } from '../src/http/server.js';
import type { HttpApp } from '../src/http/types.js';
import { createService } from '../src/services/service.service.js';
import { createKey } from '../src/keys/key.service.js';
import { startWorkers } from '../src/main/workers.js';
import { auditChainWorker, sealAll } from '../src/audit/audit.chain.js';
import { prepareEntry } from '../src/audit/audit.service.js';
import { insertEntries } from '../src/audit/audit.repo.js';
import { verifyAuditLog } from '../src/audit/audit.verify.js';
import { flushAudit } from '../src/audit/audit.writer.js';
import { cleanBatch, writeBatch } from '../src/audit/audit.batch.js';
import { copyBatch } from '../src/audit/audit.copy.js';
import type { AuditEntry } from '../src/audit/audit.entry.js';
import { connectPostgres } from '../src/store/database.js';
import { sql } from 'kysely';
import { cpuSeconds } from './support.js';

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
}

const duration = setting('BENCH_DURATION', 10);
const warmup = setting('BENCH_WARMUP', 3);
const connections = setting('BENCH_CONNECTIONS', 10);
const verifyEntries = setting('BENCH_VERIFY_ENTRIES', 50_000);

async function listen(app: HttpApp): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new TypeError('no port');
  return `http://127.0.0.1:${address.port}`;
}

let reported = false;
/** Drives one route; the first refusal is printed, since a bench of errors measures nothing. */
function load(url: string, seconds: number, request: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }): Promise<Result> {
  return autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ ...request, path: request.method === 'POST' ? '/v1/payments' : '/v1/account', onResponse: (status: number, body: string) => {
      if (status >= 300 && !reported) {
        reported = true;
        console.error(`first refusal: ${status} ${body}`);
      }
    } }],
  });
}

/** Two half-runs as one: mean throughput, the worse latency percentiles, all failures. */
function merge(results: Result[]): Result {
  const [first, ...rest] = results as [Result, ...Result[]];
  return rest.reduce<Result>(
    (acc, r) => ({
      ...acc,
      requests: { ...acc.requests, average: (acc.requests.average + r.requests.average) / 2 },
      latency: { ...acc.latency, p50: Math.max(acc.latency.p50, r.latency.p50), p99: Math.max(acc.latency.p99, r.latency.p99) },
      non2xx: acc.non2xx + r.non2xx,
    }),
    first,
  );
}

const row = (name: string, r: Result) =>
  `${name.padEnd(44)} ${r.requests.average.toFixed(0).padStart(8)} ${`${r.latency.p50} ms`.padStart(8)} ${`${r.latency.p99} ms`.padStart(8)} ${String(r.non2xx).padStart(7)}`;

async function main(): Promise<void> {
  const dir = process.env.BENCH_DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'coffer-audit-bench-'));
  const store = await openStore(dir ? { embeddedDir: dir } : { databaseUrl: process.env.BENCH_DATABASE_URL, poolSize: 10 });
  await migrateToLatest(store.db);
  const ctx = {
    db: store.db,
    storeKind: store.kind,
    clock: systemClock,
    log: createLogger('warn'),
    masterKey: { key: randomBytes(32), fromEnvironment: true },
    cardProcessor: new SandboxProcessor(),
    baseUrl: 'http://127.0.0.1',
    // The bench measures the audit log, not GOV.UK Pay's per-account rate limits.
    payments: { defaultRateLimits: { create_payment: 1e9, capture_payment: 1e9, post: 1e9, get: 1e9 } },
  } as AppContext;
  const options = { baseUrl: 'http://127.0.0.1', version: 'bench', trustedProxies: [], securityTxt: { contact: 'mailto:security@example.org', expires: undefined } };
  const withAudit = await buildServer(ctx, { ...options, auditRequests: true });
  const withoutAudit = await buildServer(ctx, { ...options, auditRequests: false });
  const workers = startWorkers(ctx, [auditChainWorker]);
  try {
    const urls = { with: await listen(withAudit), without: await listen(withoutAudit) };
    const service = await createService(ctx, { name: 'Audit bench' });
    const key = await createKey(ctx, { serviceId: service.id, mode: 'test', name: 'bench', scopes: ['payments:write'], createdBy: 'operator:bench' });
    const headers = { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' };
    let request: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string } = {
      method: 'POST',
      headers,
      body: JSON.stringify({ amount: 1250, reference: 'BENCH-1', description: 'Audit bench', return_url: 'https://service.example.org/return' }),
    };
    let label = 'POST /v1/payments';
    const probe = await fetch(`${urls.with}/v1/payments`, { method: 'POST', headers, body: request.body! });
    if (process.env.BENCH_ROUTE === 'account' || probe.status !== 201) {
      if (probe.status !== 201) console.error(`POST /v1/payments answered ${probe.status}; measuring GET /v1/account instead.`);
      request = { method: 'GET', headers: { authorization: headers.authorization } };
      label = 'GET /v1/account';
    }

    console.error(`Warming up (${warmup} s each), then ${duration} s each, ${connections} connections, ${store.kind} store…`);
    // Figures from a busy machine say little: say how busy it was.
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the start`);
    await load(urls.with, warmup, request);
    await load(urls.without, warmup, request);
    // Alternating halves, so neither side gains from running first (caches) or last (a bigger table).
    const half = Math.max(1, Math.round(duration / 2));
    const runs = { without: [] as Result[], with: [] as Result[] };
    for (let round = 0; round < 2; round++) {
      runs.without.push(await load(urls.without, half, request));
      runs.with.push(await load(urls.with, half, request));
    }
    await flushAudit(ctx.db);
    const without = merge(runs.without);
    const withEntries = merge(runs.with);

    console.log(`${'run'.padEnd(44)} ${'req/s'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'non-2xx'.padStart(7)}`);
    console.log(row(`${label} without request audit`, without));
    console.log(row(`${label} with request audit`, withEntries));
    const cost = 1 - withEntries.requests.average / without.requests.average;
    console.log(`audit cost on ${label}: ${(cost * 100).toFixed(1)}% of throughput`);

    // Sealing and verification speed over a log of verifyEntries entries.
    const template = { actor: 'operator:bench', action: 'bench.entry', object: { type: 'thing', id: 'x' }, details: { method: 'POST', route: '/v1/payments', status: 201 } };
    for (let written = 0; written < verifyEntries; written += 1000) {
      const batch = Array.from({ length: Math.min(1000, verifyEntries - written) }, () => prepareEntry({ ...template, at: new Date() }));
      await insertEntries(ctx.db, batch);
    }
    await workers.stop();
    let started = performance.now();
    const sealed = await sealAll(ctx);
    const sealSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const report = await verifyAuditLog(ctx, { now: new Date() });
    const verifySeconds = (performance.now() - started) / 1000;
    if (!report.ok) throw new Error(`verification failed: ${report.problem?.message}`);
    console.log(`sealing: ${sealed} entries in ${sealSeconds.toFixed(2)} s = ${(sealed / sealSeconds).toFixed(0)} entries/s`);
    console.log(`verify:  ${report.checked} entries in ${verifySeconds.toFixed(2)} s = ${(report.checked / verifySeconds).toFixed(0)} entries/s`);
    if (process.env.BENCH_DATABASE_URL) await compareWriters(process.env.BENCH_DATABASE_URL);
  } finally {
    await workers.stop();
    await withAudit.close();
    await withoutAudit.close();
    await store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Part 3: the writer thread's two ways of writing a batch, each on a connection of its own. */
async function compareWriters(databaseUrl: string): Promise<void> {
  const batches = setting('BENCH_WRITE_BATCHES', 40);
  const viaInsert = await openStore({ databaseUrl, poolSize: 1 });
  const viaCopy = await connectPostgres(databaseUrl);
  try {
    const insertPid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(viaInsert.db)).rows[0]!.pid;
    const copyPid = ((await viaCopy.query('select pg_backend_pid() as pid')).rows[0] as { pid: number }).pid;
    // A request entry as the HTTP hook records it (audit.http.ts).
    const entry = (): AuditEntry => ({
      actor: { type: 'key', id: 'key_benchbenchbenchbenchbench' },
      action: 'api.request',
      serviceId: 'svc_benchbenchbenchbenchbench',
      accountId: 'acct_benchbenchbenchbenchbench',
      at: new Date(),
      outcome: 'success',
      ip: '127.0.0.1',
      userAgent: 'autocannon',
      requestId: 'req-1a2b',
      details: { method: 'GET', route: '/v1/account', status: 200, duration_ms: 0.4 },
    });
    const spent = { insert: { db: 0, here: 0, entries: 0 }, copy: { db: 0, here: 0, entries: 0 } };
    const time = async (way: 'insert' | 'copy', pid: number, write: (batch: ReturnType<typeof cleanBatch>) => Promise<void>) => {
      const batch = cleanBatch(Array.from({ length: 1000 }, entry));
      const db = cpuSeconds(pid);
      const here = process.cpuUsage();
      await write(batch);
      const used = process.cpuUsage(here);
      spent[way].here += (used.user + used.system) / 1e6;
      spent[way].db += cpuSeconds(pid) - db;
      spent[way].entries += batch.length;
    };
    for (let i = 0; i < batches; i++) {
      await time('insert', insertPid, (batch) => writeBatch(viaInsert.db, batch));
      await time('copy', copyPid, (batch) => copyBatch(viaCopy, batch));
    }
    const us = (seconds: number, entries: number) => `${((seconds * 1e6) / entries).toFixed(1).padStart(6)} µs`;
    console.log(`writing request entries, ${batches} batches of 1000 each way: database CPU and this process's CPU per entry`);
    console.log(`  JSON batch insert (before 2026-12-08): ${us(spent.insert.db, spent.insert.entries)} database, ${us(spent.insert.here, spent.insert.entries)} here`);
    console.log(`  COPY (the writer thread's way):        ${us(spent.copy.db, spent.copy.entries)} database, ${us(spent.copy.here, spent.copy.entries)} here`);
  } finally {
    await viaCopy.end();
    await viaInsert.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
