// Runs the real `coffer` command (the TypeScript entry point under tsx) as an operator would,
// each run in its own process with its own environment. On the embedded store every test gets
// its own data directory, copied from one migrated template so that each does not pay for
// creating and migrating a PostgreSQL cluster in WebAssembly. Each CLI run costs seconds, so
// the CLI tests are spread over several files (each file must finish within the runner's
// per-file timeout).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { usingPostgres } from '../support/harness.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'main', 'cli.ts');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a clean shell: nothing from the test runner's own Coffer settings. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(COFFER_|DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$)/.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

/** How `coffer` is started: from source under tsx (the default), or from a build's dist/. */
export interface CofferEntry {
  nodeArgs: string[];
  cwd: string;
}
export const FROM_SOURCE: CofferEntry = { nodeArgs: ['--import', 'tsx', CLI], cwd: ROOT };
/** `node dist/main/cli.js` in a folder holding a build (dist/, package.json, node_modules). */
export const fromBuild = (root: string): CofferEntry => ({ nodeArgs: [join(root, 'dist', 'main', 'cli.js')], cwd: root });

export function spawnCoffer(args: string[], env: NodeJS.ProcessEnv, entry: CofferEntry = FROM_SOURCE): ChildProcess {
  return spawn(process.execPath, [...entry.nodeArgs, ...args], { cwd: entry.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function runCoffer(args: string[], env: NodeJS.ProcessEnv, entry: CofferEntry = FROM_SOURCE): Promise<RunResult> {
  const child = spawnCoffer(args, env, entry);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** Where a test's Coffer keeps its data, and the environment that points the CLI at it. */
export interface Workspace {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** Opens this workspace's store from the test (run the CLI only when it is closed again on PGlite). */
  openStore(): Promise<Store>;
  dispose(): Promise<void>;
}

let template: Promise<string> | undefined;

/**
 * One migrated embedded data directory per test file (made in-process: the CLI's own
 * `coffer migrate` on a new directory is tested on its own); workspaces are copies of it.
 */
function embeddedTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-cli-template-'));
    const store = await openStore({ embeddedDir: dir });
    try {
      await migrateToLatest(store.db);
    } finally {
      await store.close();
    }
    return dir;
  })();
  return template;
}

export function disposeTemplate(): void {
  if (!template) return;
  void template.then((dir) => rmSync(dir, { recursive: true, force: true }));
}

/**
 * A fresh workspace: a copy of the migrated template, or a PostgreSQL database of its own with an
 * operator master key. Its own database because `coffer serve` runs the workers on the real
 * clock: in the suite's shared database they would expire other files' payments, made on a
 * frozen clock hours in the past.
 */
export async function workspace(): Promise<Workspace> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-cli-'));
  if (usingPostgres()) {
    const base = process.env.COFFER_TEST_DATABASE_URL as string;
    const name = `coffer_cli_${randomBytes(6).toString('hex')}`;
    await adminQuery(base, `create database ${name}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    const databaseUrl = url.toString();
    return {
      dataDir,
      env: baseEnv({ COFFER_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, COFFER_MASTER_KEY: randomBytes(32).toString('base64') }),
      openStore: () => openStore({ databaseUrl, poolSize: 1 }),
      dispose: async () => {
        rmSync(dataDir, { recursive: true, force: true });
        await adminQuery(base, `drop database if exists ${name} with (force)`);
      },
    };
  }
  cpSync(await embeddedTemplate(), dataDir, { recursive: true });
  return {
    dataDir,
    env: baseEnv({ COFFER_DATA_DIR: dataDir }),
    openStore: () => openStore({ embeddedDir: dataDir }),
    dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function adminQuery(connectionString: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

export interface RunningServe {
  child: ChildProcess;
  url: string;
  /** Every line serve wrote to stdout (its JSON log). */
  lines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a log line matching `pattern` (and `also`, when given) has been written. */
  waitForLine(pattern: RegExp, also?: (line: string) => boolean): Promise<string>;
}

/** Starts `coffer serve` on loopback (a free port unless `env` names one) and waits until it listens. */
export async function startServe(env: NodeJS.ProcessEnv, entry: CofferEntry = FROM_SOURCE): Promise<RunningServe> {
  const child = spawnCoffer(['serve'], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, entry);
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters: { matches: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete.filter(Boolean)) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.matches(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) =>
    child.on('exit', (code, signal) => resolvePromise({ code, signal })),
  );
  const waitForLine = (pattern: RegExp, also: (line: string) => boolean = () => true) => {
    const matches = (line: string) => pattern.test(line) && also(line);
    const seen = lines.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolvePromise, reject) => {
      waiters.push({ matches, resolve: resolvePromise });
      void exited.then(({ code }) => reject(new Error(`coffer serve exited (${code}) before logging ${pattern}: ${stderr}\n${lines.join('\n')}`)));
    });
  };
  const listening = await waitForLine(/"msg":"coffer is listening"/);
  const url = (JSON.parse(listening) as { url: string }).url;
  return { child, url, lines, stderr: () => stderr, exited, waitForLine };
}

export const SERVICE_ID = /^svc_[0-9a-v]{26}$/;
export const KEY_ID = /Created (key_[0-9a-v]{26})/;

/** The cells of the table row whose first cell is `id` (columns are two or more spaces apart). */
export function tableRow(table: string, id: string): string[] | undefined {
  return table
    .split('\n')
    .map((line) => line.split(/ {2,}/))
    .find((cells) => cells[0] === id);
}

/** Runs `fn` in a fresh workspace, disposed of afterwards whatever happens. */
export async function inWorkspace(fn: (w: Workspace) => Promise<void>): Promise<void> {
  const w = await workspace();
  try {
    await fn(w);
  } finally {
    await w.dispose();
  }
}

/** Asserts that a command succeeded, saying which one and what it printed on stderr when not. */
export function ok(result: RunResult, label: string): RunResult {
  assert.equal(result.code, 0, `${label} failed (${result.code}): ${result.stderr}`);
  return result;
}

/** `coffer service create` in the workspace; returns the new service id. */
export async function newService(w: Workspace, name = 'Tea shop'): Promise<string> {
  const result = ok(await runCoffer(['service', 'create', '--name', name], w.env), 'service create');
  return result.stdout.trim();
}
