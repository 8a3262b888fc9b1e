// `npm run bench:payments`: the payments API on PostgreSQL. POST /v1/payments and
// GET /v1/payments/{id} at 50 connections against the built `coffer serve`, beside a floor
// measured in the same run: a bare route doing one equivalent INSERT transaction (one row as
// wide as a payment's) through the same store code, driver and pool, in a process of its own
// (bench/floor.server.ts). Goal: create at >= 60% of the floor's throughput, p99 under 25 ms.
// For the report, not the goal, a fourth row: the rows a create writes, written bare by the
// floor's process, which tells the cost of a create's data from the cost of Coffer's code.
// The three are measured in interleaved slices (bench/support.ts), so load from elsewhere on
// the machine weighs on each alike.
//
// PostgreSQL: a scratch database created on BENCH_PG_URL (default
// postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards, or BENCH_DATABASE_URL.
// Settings: BENCH_DURATION (s per route, default 15), BENCH_WARMUP (s, default 3),
// BENCH_ROUNDS (slices, default 3), BENCH_CONNECTIONS (default 50), BENCH_LOG_LEVEL (default info),
// BENCH_REDIS_URL (rate limits counted in that Redis, as with REDIS_URL; default: in PostgreSQL).
import {
  assertClean,
  header,
  liftRateLimits,
  load,
  loadNow,
  main,
  measure,
  newTenant,
  row,
  scratchDatabase,
  setting,
  startCoffer,
  startFloor,
  type Contender,
  type Measured,
} from './support.js';

const duration = setting('BENCH_DURATION', 15);
const warmup = setting('BENCH_WARMUP', 3);
const rounds = setting('BENCH_ROUNDS', 3);
const connections = setting('BENCH_CONNECTIONS', 50);
const redisUrl = process.env.BENCH_REDIS_URL || undefined;
const GOAL_RATIO = 0.6;
const GOAL_P99_MS = 25;

main(async () => {
  const database = await scratchDatabase();
  const coffer = await startCoffer({ databaseUrl: database.url, redisUrl }).catch(async (err: unknown) => {
    await database.drop();
    throw err;
  });
  let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
  try {
    const { serviceId, key } = await newTenant(coffer);
    await liftRateLimits(coffer, serviceId);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const account = (await (await fetch(`${coffer.url}/v1/account`, { headers: { authorization: headers.authorization } })).json()) as { account_id: string };
    floor = await startFloor(database.url, { serviceId, accountId: account.account_id });
    const body = JSON.stringify({
      amount: 1250,
      reference: 'BENCH-1',
      description: 'Bench payment',
      return_url: 'https://service.example.org/return',
      email: 'payer@example.org',
      metadata: { ledger_code: 'AB100', fund: 7 },
    });
    const probe = await fetch(`${coffer.url}/v1/payments`, { method: 'POST', headers, body });
    if (probe.status !== 201) throw new Error(`POST /v1/payments answered ${probe.status}: ${await probe.text()}`);
    const paymentId = ((await probe.json()) as { payment_id: string }).payment_id;

    const contenders: Contender[] = [
      { name: 'floor: bare INSERT txn', url: floor.url, pid: floor.pid, target: { method: 'POST', path: '/floor', headers: { 'content-type': 'application/json' }, body: '{}' } },
      { name: 'POST /v1/payments', url: coffer.url, pid: coffer.pid, target: { method: 'POST', path: '/v1/payments', headers, body } },
      { name: 'GET /v1/payments/{id}', url: coffer.url, pid: coffer.pid, target: { path: `/v1/payments/${paymentId}`, headers: { authorization: headers.authorization } } },
      { name: "a create's rows, bare", url: floor.url, pid: floor.pid, target: { method: 'POST', path: '/floor/create-rows', headers: { 'content-type': 'application/json' }, body: '{}' } },
    ];
    console.error(`Warming up (${warmup} s each), then ${duration} s each in ${rounds} interleaved slices, ${connections} connections, PostgreSQL…`);
    for (const c of contenders) await load(c.url, c.target, warmup, connections);
    const before = loadNow();
    const [floorResult, createResult, getResult, rowsResult] = (await measure(contenders, duration, rounds, connections)) as [Measured, Measured, Measured, Measured];
    for (const [i, m] of [floorResult, createResult, getResult, rowsResult].entries()) assertClean(contenders[i]!.name, m);

    const share = (m: Measured) => `   ${((100 * m.rps) / floorResult.rps).toFixed(0).padStart(4)}% of floor`;
    console.log(`store: postgres; rate limits in ${redisUrl ? 'Redis' : 'PostgreSQL'}; ${connections} connections; ${duration} s per route in ${rounds} slices; ${before} (before), ${loadNow()} (after)`);
    console.log(header('run', 24));
    console.log(row(contenders[0]!.name, 24, floorResult));
    console.log(row(contenders[1]!.name, 24, createResult, share(createResult)));
    console.log(row(contenders[2]!.name, 24, getResult, share(getResult)));
    console.log(row(contenders[3]!.name, 24, rowsResult, `${share(rowsResult)}; the create runs at ${((100 * createResult.rps) / rowsResult.rps).toFixed(0)}% of it (report only)`));
    const ratio = createResult.rps / floorResult.rps;
    const ok = ratio >= GOAL_RATIO && createResult.p99 < GOAL_P99_MS;
    console.log(`goal: create >= ${GOAL_RATIO * 100}% of floor and p99 < ${GOAL_P99_MS} ms: ${ok ? 'met' : 'MISSED'} (${(ratio * 100).toFixed(0)}%, p99 ${createResult.p99} ms)`);
    // When the server is short of CPU (a busy machine), throughput goes as 1 / CPU per request.
    if (!Number.isNaN(createResult.cpuMs)) console.log(`the same by CPU per request (floor / create): ${((100 * floorResult.cpuMs) / createResult.cpuMs).toFixed(0)}%`);
    if (!ok) process.exitCode = 1;
  } finally {
    await floor?.stop();
    await coffer.stop();
    await database.drop();
  }
});
