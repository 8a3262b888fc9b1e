// `npm run bench`: how much an authenticated call costs compared with the cheapest route.
// Starts the built server (`node dist/main/cli.js serve`) on a fresh embedded store in a temp
// directory and a free loopback port, makes a service and a key with the CLI (which reaches the
// running server through its operator socket), then drives /healthz and GET /v1/account with
// autocannon in the same run and prints req/s, p50 and p99 for each. The goal: the
// authenticated call at >= 80% of /healthz's throughput (key verification nearly free).
//
// Settings (environment): BENCH_DURATION (seconds per route, default 10), BENCH_WARMUP
// (seconds per route, default 3), BENCH_CONNECTIONS (default 10), BENCH_LOG_LEVEL (the
// server's LOG_LEVEL, default info: production logs every request).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon, { type Result } from 'autocannon';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'dist', 'main', 'cli.js');
const GOAL = 0.8;

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
const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new TypeError('no port');
  return address.port;
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error('the server did not come up within 120 s');
}

function load(url: string, seconds: number, headers: Record<string, string> = {}): Promise<Result> {
  return autocannon({ url, connections, duration: seconds, headers });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The embedded store, whatever the caller's shell has set: the bench measures Coffer, not a network.
  const env: NodeJS.ProcessEnv = { ...process.env, COFFER_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: logLevel };
  delete env.DATABASE_URL;
  delete env.COFFER_MASTER_KEY;
  delete env.COFFER_BASE_URL;

  const server = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const stopServer = async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000).then(() => server.kill('SIGKILL'))]);
  };
  try {
    await waitUntilUp(url, server);
    const cli = async (...args: string[]) => (await run(process.execPath, [CLI, ...args], { env })).stdout.trim();
    const serviceId = await cli('service', 'create', '--name', 'Bench');
    const key = await cli('key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'bench');
    const auth = { authorization: `Bearer ${key}` };

    const check = await fetch(`${url}/v1/account`, { headers: auth });
    if (check.status !== 200) throw new Error(`GET /v1/account answered ${check.status} with the new key`);

    console.error(`Warming up (${warmup} s per route), then ${duration} s per route, ${connections} connections, LOG_LEVEL=${logLevel}…`);
    await load(`${url}/healthz`, warmup);
    await load(`${url}/v1/account`, warmup, auth);
    const health = await load(`${url}/healthz`, duration);
    const account = await load(`${url}/v1/account`, duration, auth);

    for (const [name, result] of [['/healthz', health], ['/v1/account', account]] as const) {
      const failures = result.errors + result.timeouts + result.non2xx;
      if (failures > 0) throw new Error(`${name}: ${failures} failed requests (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx})`);
    }

    const row = (name: string, r: Result) =>
      `${name.padEnd(22)} ${r.requests.average.toFixed(0).padStart(9)} ${`${r.latency.p50} ms`.padStart(9)} ${`${r.latency.p99} ms`.padStart(9)} ${String(r.requests.total).padStart(10)}`;
    const ratio = account.requests.average / health.requests.average;
    console.log(`${'route'.padEnd(22)} ${'req/s'.padStart(9)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'requests'.padStart(10)}`);
    console.log(row('GET /healthz', health));
    console.log(row('GET /v1/account (key)', account));
    console.log(
      `authenticated / healthz: ${(ratio * 100).toFixed(1)}% (goal >= ${GOAL * 100}%): ${ratio >= GOAL ? 'met' : 'MISSED'}`,
    );
    if (ratio < GOAL) process.exitCode = 1;
  } finally {
    await stopServer();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
