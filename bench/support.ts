// What the benches share: a Coffer started as its users start it (the built `coffer serve` in
// a process of its own, so the load generator never competes with the server for its event
// loop), a scratch PostgreSQL database, the bare "floor" server, autocannon runs and the table
// they are printed in. Each bench measures against a server it started itself, on a free
// loopback port, and leaves nothing behind.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon, { type Result } from 'autocannon';
import pg from 'pg';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
export const CLI = join(ROOT, 'dist', 'main', 'cli.js');

/** A positive number from the environment. */
export function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
}

/** The machine's load when a figure was taken: figures on a busy machine are not comparable. */
export function loadNow(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')} on ${availableParallelism()} cores`;
}

/**
 * CPU seconds a process has used so far (user + system, from /proc; Linux only, else NaN).
 * Printed per request beside the throughput: it moves far less than req/s with the machine's
 * load, so figures from a busy machine and a quiet one can be compared (roughly).
 */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line: 11 and 12 counting from 0 at field 3.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
// USER_HZ: 100 on every Linux architecture Node runs on.
const CLOCK_TICKS = 100;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new TypeError('no port');
  return address.port;
}

async function waitUntilUp(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`${what} did not come up within 120 s`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  // A server that does not finish shutting down in time is stopped hard: the bench is over.
  await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

// --- PostgreSQL ------------------------------------------------------------------------------

export interface ScratchDatabase {
  url: string;
  /** Drops the database if the bench created it; a database the caller named is left alone. */
  drop(): Promise<void>;
}

/**
 * BENCH_DATABASE_URL if set (used as it is: the bench writes to it); otherwise a fresh database
 * created on BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) and dropped at
 * the end, so every run starts from the same empty tables.
 */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given) return { url: given, drop: async () => undefined };
  const admin = new URL(process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `coffer_bench_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.href });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL at ${admin.host} (set BENCH_PG_URL or BENCH_DATABASE_URL): ${(err as Error).message}`, { cause: err });
  }
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin.href);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const c = new pg.Client({ connectionString: admin.href });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

// --- Coffer ----------------------------------------------------------------------------------

export interface StartOptions {
  /** PostgreSQL; without it, the embedded store in a temp directory. */
  databaseUrl?: string | undefined;
  /** Redis for rate-limit counts (REDIS_URL); without it, they are counted in the database. */
  redisUrl?: string | undefined;
  /** The server's LOG_LEVEL (default info, as in production: every request is logged). */
  logLevel?: string | undefined;
  /** Extra environment for the server, e.g. COFFER_TRUSTED_PROXIES. */
  env?: Record<string, string> | undefined;
  /** Every JSON log line the server writes, parsed (the server's stdout is read only when given). */
  onLog?: ((line: Record<string, unknown>) => void) | undefined;
}

export interface RunningCoffer {
  url: string;
  pid: number | undefined;
  store: 'embedded' | 'postgres';
  /** The environment the server runs with (master key, database), for code that opens the same store. */
  env: NodeJS.ProcessEnv;
  /** Runs a `coffer` command against the same store and returns its stdout. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the built server (`node dist/main/cli.js serve`), as `npm start` does, on a free port.
 * BENCH_CPU_PROF=DIR profiles it (`node --cpu-prof`), written to DIR when it stops.
 */
export async function startCoffer(options: StartOptions = {}): Promise<RunningCoffer> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (the npm bench scripts do)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    COFFER_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logLevel ?? process.env.BENCH_LOG_LEVEL ?? 'info',
    // A fresh key per run, so no warning about generating one and PostgreSQL accepts it.
    COFFER_MASTER_KEY: randomBytes(32).toString('base64'),
  };
  delete env.COFFER_BASE_URL;
  // Whatever the caller's shell has set: the bench chooses the store.
  delete env.DATABASE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  delete env.REDIS_URL;
  if (options.redisUrl) env.REDIS_URL = options.redisUrl;

  const profileDir = process.env.BENCH_CPU_PROF;
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const server = spawn(process.execPath, [...nodeArgs, CLI, 'serve'], { env, stdio: ['ignore', options.onLog ? 'pipe' : 'ignore', 'inherit'] });
  if (options.onLog && server.stdout) {
    const onLog = options.onLog;
    createInterface({ input: server.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        onLog(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
    });
  }
  const stop = async () => {
    await stopChild(server);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(url, server, 'coffer serve');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    pid: server.pid,
    store: options.databaseUrl ? 'postgres' : 'embedded',
    env,
    cli: async (...args: string[]) => (await run(process.execPath, [CLI, ...args], { env })).stdout.trim(),
    stop,
  };
}

/** A service with a test key, made with the CLI as an operator would. */
export async function newTenant(coffer: RunningCoffer, scopes: string[] = []): Promise<{ serviceId: string; key: string }> {
  const serviceId = await coffer.cli('service', 'create', '--name', 'Bench');
  const key = await coffer.cli('key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'bench', ...scopes.flatMap((s) => ['--scope', s]));
  return { serviceId, key };
}

/** GOV.UK Pay's per-account rate limits (15 creates a second) would make a bench of them. */
export async function liftRateLimits(coffer: RunningCoffer, serviceId: string): Promise<void> {
  await coffer.cli('payments', 'set', '--service', serviceId, '--mode', 'test', '--limit-create', '1000000', '--limit-capture', '1000000', '--limit-post', '1000000', '--limit-get', '1000000');
}

// --- The floor ------------------------------------------------------------------------------

/**
 * bench/floor.server.ts in a process of its own, shaped like Coffer's: same driver, same pool.
 * Given an account, it also serves POST /floor/create-rows (a create's rows, bare).
 */
export async function startFloor(
  databaseUrl: string,
  account?: { serviceId: string; accountId: string },
): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'floor.server.ts')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), ...(account ? { BENCH_FLOOR_ACCOUNT: `${account.serviceId}:${account.accountId}` } : {}) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitUntilUp(url, child, 'the floor server');
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { url, pid: child.pid, stop: () => stopChild(child) };
}

// --- Load and results -----------------------------------------------------------------------

export interface Target {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One autocannon run; the first refusal is printed, since a bench of errors measures nothing. */
export function load(url: string, target: Target, seconds: number, connections: number): Promise<Result> {
  let reported = false;
  return autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: target.method ?? 'GET',
        path: target.path,
        headers: target.headers ?? {},
        ...(target.body !== undefined ? { body: target.body } : {}),
        onResponse: (status: number, body: string) => {
          if (status >= 300 && !reported) {
            reported = true;
            console.error(`first refusal on ${target.method ?? 'GET'} ${target.path}: ${status} ${body.slice(0, 200)}`);
          }
        },
      },
    ],
  });
}

export interface Measured {
  /** Mean req/s over the slices. */
  rps: number;
  /** Median of the slices' p50, in ms. */
  p50: number;
  /** Worst of the slices' p99, in ms. */
  p99: number;
  requests: number;
  failures: number;
  /** CPU time the serving process spent per request, in ms (NaN when unknown). */
  cpuMs: number;
}

export interface Contender {
  name: string;
  url: string;
  target: Target;
  /** The serving process, for its CPU time per request. */
  pid?: number | undefined;
}

/**
 * Measures several routes in interleaved slices (A B C A B C …), so that a machine whose load
 * drifts during the run (other processes, a growing table) weighs on every route alike, and
 * none gains from running first or last. `seconds` per route in all, split in `rounds` slices.
 */
export async function measure(contenders: readonly Contender[], seconds: number, rounds: number, connections: number): Promise<Measured[]> {
  const slices: Result[][] = contenders.map(() => []);
  const cpu = contenders.map(() => 0);
  const slice = Math.max(1, Math.round(seconds / rounds));
  for (let round = 0; round < rounds; round++) {
    for (const [i, c] of contenders.entries()) {
      const before = cpuSeconds(c.pid);
      slices[i]!.push(await load(c.url, c.target, slice, connections));
      cpu[i]! += cpuSeconds(c.pid) - before;
    }
  }
  return slices.map((results, i) => {
    const requests = results.reduce((sum, r) => sum + r.requests.total, 0);
    const p50s = results.map((r) => r.latency.p50).sort((a, b) => a - b);
    return {
      rps: results.reduce((sum, r) => sum + r.requests.average, 0) / results.length,
      p50: percentile(p50s, 50),
      p99: Math.max(...results.map((r) => r.latency.p99)),
      requests,
      failures: results.reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0),
      cpuMs: (1000 * cpu[i]!) / requests,
    };
  });
}

export function header(first: string, width: number, extra = ''): string {
  return `${first.padEnd(width)} ${'req/s'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'requests'.padStart(9)} ${'failed'.padStart(7)} ${'cpu/req'.padStart(9)}${extra}`;
}

export function row(name: string, width: number, m: Measured, extra = ''): string {
  const cpu = Number.isNaN(m.cpuMs) ? '-' : `${m.cpuMs.toFixed(3)} ms`;
  return `${name.padEnd(width)} ${m.rps.toFixed(0).padStart(8)} ${`${m.p50} ms`.padStart(8)} ${`${m.p99} ms`.padStart(8)} ${String(m.requests).padStart(9)} ${String(m.failures).padStart(7)} ${cpu.padStart(9)}${extra}`;
}

/** Throws when a run had failures: its figures would be about errors, not the route. */
export function assertClean(name: string, m: Measured): void {
  if (m.failures > 0) throw new Error(`${name}: ${m.failures} failed requests (errors, timeouts or non-2xx answers)`);
}

/** Sorted-sample percentile (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs a bench's main, printing the message of a failure and setting the exit code. */
export function main(body: () => Promise<void>): void {
  body().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  });
}

/**
 * The operator's commands run in this process against the server's PostgreSQL database, for
 * benches that need many tenants (a `coffer` process per command costs a second or two each).
 * The same named operations as the CLI, so nothing is done that an operator could not do.
 */
export async function operatorFor(coffer: RunningCoffer): Promise<{ operate(name: string, args: Record<string, unknown>): Promise<unknown>; close(): Promise<void> }> {
  if (coffer.store !== 'postgres') throw new TypeError('operatorFor needs the server on PostgreSQL (the embedded store has one owner)');
  const { loadConfig } = await import('../src/main/config.js');
  const { openRuntime } = await import('../src/main/runtime.js');
  const { runOperation } = await import('../src/main/operations.js');
  const { createLogger } = await import('../src/main/logger.js');
  const { systemClock } = await import('../src/platform/clock.js');
  const config = loadConfig(coffer.env);
  if (!config.ok) throw new Error(`bench configuration: ${config.problems.join('; ')}`);
  const runtime = await openRuntime(config.config, createLogger('warn'), systemClock);
  return {
    operate: (name, args) => runOperation(runtime.ctx, name, args, 'operator:bench'),
    close: () => runtime.close(),
  };
}
