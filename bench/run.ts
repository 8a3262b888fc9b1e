// `npm run bench`: how much an authenticated call costs compared with the cheapest route.
// Starts the built server (`coffer serve`, bench/support.ts) on a fresh store and a free
// loopback port, makes a service and a key with the CLI, then drives /healthz and
// GET /v1/account with autocannon in the same run and prints req/s, p50 and p99 for each.
// The goal: the authenticated call at >= 80% of /healthz's throughput (key verification nearly
// free). Every API request also writes a request entry to the audit log (src/audit), so this
// measures that too; /healthz is public and writes none.
//
// Settings (environment): BENCH_STORE (embedded, the default, or postgres: a scratch database,
// see bench/support.ts), BENCH_DURATION (seconds per route, default 10), BENCH_WARMUP (seconds
// per route, default 3), BENCH_ROUNDS (the duration is split in this many slices, taken in
// turn with the other route's, default 3), BENCH_CONNECTIONS (default 10), BENCH_LOG_LEVEL (the server's
// LOG_LEVEL, default info: production logs every request), BENCH_CPU_PROF (profile the server).
import { assertClean, header, load, loadNow, main, measure, newTenant, row, scratchDatabase, setting, startCoffer, type Measured, type ScratchDatabase } from './support.js';

const GOAL = 0.8;
const duration = setting('BENCH_DURATION', 10);
const warmup = setting('BENCH_WARMUP', 3);
const connections = setting('BENCH_CONNECTIONS', 10);
const rounds = setting('BENCH_ROUNDS', 3);

main(async () => {
  const storeKind = process.env.BENCH_STORE ?? 'embedded';
  if (storeKind !== 'embedded' && storeKind !== 'postgres') throw new TypeError('BENCH_STORE is embedded or postgres');
  const database: ScratchDatabase | undefined = storeKind === 'postgres' ? await scratchDatabase() : undefined;
  const coffer = await startCoffer({ databaseUrl: database?.url });
  try {
    const { key } = await newTenant(coffer);
    const account = { path: '/v1/account', headers: { authorization: `Bearer ${key}` } };
    const check = await fetch(`${coffer.url}/v1/account`, { headers: account.headers });
    if (check.status !== 200) throw new Error(`GET /v1/account answered ${check.status} with the new key`);

    console.error(`Warming up (${warmup} s per route), then ${duration} s per route, ${connections} connections, ${coffer.store} store…`);
    await load(coffer.url, { path: '/healthz' }, warmup, connections);
    await load(coffer.url, account, warmup, connections);
    const load1 = loadNow();
    const [health, authenticated] = (await measure(
      [
        { name: 'healthz', url: coffer.url, target: { path: '/healthz' }, pid: coffer.pid },
        { name: 'account', url: coffer.url, target: account, pid: coffer.pid },
      ],
      duration,
      rounds,
      connections,
    )) as [Measured, Measured];
    assertClean('/healthz', health);
    assertClean('/v1/account', authenticated);

    const ratio = authenticated.rps / health.rps;
    console.log(`store: ${coffer.store}; ${connections} connections; ${duration} s per route in ${rounds} interleaved slices; ${load1} (before), ${loadNow()} (after)`);
    console.log(header('route', 22));
    console.log(row('GET /healthz', 22, health));
    console.log(row('GET /v1/account (key)', 22, authenticated));
    console.log(`authenticated / healthz: ${(ratio * 100).toFixed(1)}% (goal >= ${GOAL * 100}%): ${ratio >= GOAL ? 'met' : 'MISSED'}`);
    // When the server is short of CPU (a busy machine), throughput goes as 1 / CPU per request.
    if (!Number.isNaN(health.cpuMs)) console.log(`the same by CPU per request (healthz / authenticated): ${((100 * health.cpuMs) / authenticated.cpuMs).toFixed(1)}%`);
    if (ratio < GOAL) process.exitCode = 1;
  } finally {
    await coffer.stop();
    await database?.drop();
  }
});
