#!/usr/bin/env node
// The `coffer` command: one binary for serving and for every operator task. Secrets a command
// creates (API keys) go to stdout alone, so `KEY=$(coffer key create …)` works; everything
// else goes to stderr.
import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CofferError } from '../platform/errors.js';
import { parseDuration } from '../platform/duration.js';
import { systemClock } from '../platform/clock.js';
import { operatorSocket, tryLock } from '../store/embedded-lock.js';
import { loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { callOperatorSocket } from './operator-socket.js';
import { runOperation } from './operations.js';
import { openRuntime, StartupRefusal, type Runtime } from './runtime.js';
// The server (and every page and route it carries) is loaded only by `coffer serve`, so operator
// commands start in about half the time.
import { VERSION } from './version.js';
import { registerAuditCommands } from '../audit/audit.cli.js';
import { registerWebhookCommands } from '../webhooks/webhook.cli.js';
import { registerHostedCommands } from '../hosted/hosted.cli.js';
import { registerPaymentCommands } from '../payments/payment.cli.js';
import { registerOidcCommands } from '../console/oidc/oidc.cli.js';

function configOrExit(): Config {
  const result = loadConfig();
  if (!result.ok) {
    console.error('Coffer cannot start: the configuration has problems.');
    for (const problem of result.problems) console.error(`  - ${problem}`);
    process.exit(2);
  }
  return result.config;
}

const actor = (): string => `operator:${safeUsername()}`;
function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs an operation where the store is: directly on PostgreSQL; on the embedded store, through
 * a running server's operator socket, or directly while holding the store's lock.
 */
async function operate(name: string, args: Record<string, unknown>): Promise<unknown> {
  const config = configOrExit();
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr as never);
  // Opening the store migrates it, so `coffer migrate` reports what that opening applied too.
  const direct = (runtime: Runtime) =>
    runOperation(runtime.ctx, name, args, actor()).then((result) =>
      name === 'migrate' ? { ...(result as object), applied: [...runtime.migrationsApplied, ...(result as { applied: string[] }).applied] } : result,
    );
  if (config.databaseUrl) return withRuntime(config, log, direct);

  const deadline = Date.now() + 15_000;
  for (;;) {
    const lock = tryLock(config.dataDir, 'command');
    if (lock.acquired) {
      try {
        return await withRuntime(config, log, direct);
      } finally {
        lock.release();
      }
    }
    if (lock.holder.role === 'serve') {
      try {
        return await callOperatorSocket(operatorSocket(config.dataDir), name, args, actor());
      } catch (err) {
        if (err instanceof CofferError) throw err;
        // The server may still be starting (no socket yet) or stopping: wait and look again.
      }
    }
    if (Date.now() > deadline) {
      throw new StartupRefusal(`The embedded store in ${config.dataDir} is busy (process ${lock.holder.pid}); try again.`);
    }
    await sleep(200);
  }
}

async function withRuntime<T>(config: Config, log: ReturnType<typeof createLogger>, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(config, log, systemClock);
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('use a number and a unit: 30s, 15m, 24h, 30d (or 0)');
  return ms;
}
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function table(rows: Record<string, string>[]): string {
  if (rows.length === 0) return '(none)';
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n');
}

const program = new Command('coffer').description('Coffer: a self-hostable payments platform').version(VERSION);

program
  .command('serve')
  .description('run the API (and, in later releases, pages, console and workers)')
  .action(async () => {
    const config = configOrExit();
    const log = createLogger(config.logLevel);
    const { serve } = await import('./serve.js');
    const server = await serve(config, log);
    const shutdown = (signal: string) => {
      log.info({ signal }, 'signal received');
      server.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });

program
  .command('migrate')
  .description('apply database migrations (also done at start)')
  .action(async () => {
    const result = (await operate('migrate', {})) as { applied: string[]; pending: string[] };
    console.error(result.applied.length > 0 ? `Applied: ${result.applied.join(', ')}` : 'The database is up to date.');
  });

const service = program.command('service').description('services: an organisation’s product that takes payments');
service
  .command('create')
  .requiredOption('--name <name>', 'the service name')
  .action(async (opts: { name: string }) => {
    const created = (await operate('service.create', { name: opts.name })) as { id: string };
    console.log(created.id);
  });
service.command('list').action(async () => {
  const list = (await operate('service.list', {})) as { id: string; name: string; createdAt: string; liveEnabled: boolean }[];
  console.log(table(list.map((s) => ({ id: s.id, name: s.name, live: s.liveEnabled ? 'enabled' : 'off', created: s.createdAt }))));
});
service
  .command('enable-live')
  .description('enable the live account (PostgreSQL and COFFER_MASTER_KEY required)')
  .requiredOption('--service <id>', 'service id')
  .action(async (opts: { service: string }) => {
    const account = (await operate('service.enable-live', { serviceId: opts.service })) as { id: string };
    console.error(`Live account ${account.id} enabled.`);
  });

const key = program.command('key').description('API keys');
key
  .command('create')
  .description('create an API key; prints the key once, and nothing else, on stdout')
  .requiredOption('--service <id>', 'service id')
  .addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).makeOptionMandatory())
  .requiredOption('--name <name>', 'a name saying where the key is used')
  .option('--scope <scope>', 'a scope (repeatable), e.g. payments:read, refunds:write, webhooks:*', collect)
  .option('--expires-in <duration>', 'expire after, e.g. 30d', duration)
  .option('--allow-ip <cidr>', 'only accept requests from this range (repeatable)', collect)
  .action(async (opts: { service: string; mode: string; name: string; scope?: string[]; expiresIn?: number; allowIp?: string[] }) => {
    const created = (await operate('key.create', {
      serviceId: opts.service,
      mode: opts.mode,
      name: opts.name,
      scopes: opts.scope ?? [],
      expiresInMs: opts.expiresIn,
      allowedIps: opts.allowIp ?? [],
    })) as { token: string; key: { id: string } };
    console.log(created.token);
    console.error(`Created ${created.key.id}. This is the only time the key is shown: store it now.`);
  });
key
  .command('list')
  .requiredOption('--service <id>', 'service id')
  .action(async (opts: { service: string }) => {
    const keys = (await operate('key.list', { serviceId: opts.service })) as Record<string, unknown>[];
    console.log(
      table(
        keys.map((k) => ({
          id: String(k.id),
          name: String(k.name),
          mode: String(k.mode),
          key: String(k.display),
          status: String(k.status),
          scopes: (k.scopes as string[]).join(','),
          expires: String(k.expires_at ?? '-'),
          last_used: k.last_used_at ? `${String(k.last_used_at)} from ${String(k.last_used_ip)}` : 'never',
        })),
      ),
    );
  });
key
  .command('revoke')
  .argument('<keyId>')
  .option('--reason <text>', 'why (kept with the key)')
  .action(async (keyId: string, opts: { reason?: string }) => {
    await operate('key.revoke', { keyId, reason: opts.reason });
    console.error(`Revoked ${keyId}.`);
  });
key
  .command('roll')
  .description('issue a replacement with the same settings; the old key works until the overlap ends')
  .argument('<keyId>')
  .option('--overlap <duration>', 'how long the old key keeps working (0 = stop now)', duration, 86_400_000)
  .action(async (keyId: string, opts: { overlap: number }) => {
    const rolled = (await operate('key.roll', { keyId, overlapMs: opts.overlap })) as { token: string; key: { id: string }; previous: { expires_at: string } };
    console.log(rolled.token);
    console.error(`Created ${rolled.key.id}; ${keyId} stops working at ${rolled.previous.expires_at}. Store the new key now.`);
  });

registerAuditCommands(program, operate);
registerWebhookCommands(program, operate);
registerHostedCommands(program, operate);
registerPaymentCommands(program, operate);
registerOidcCommands(program, operate);

const user = program.command('user').description('console users');
user
  .command('invite')
  .description('invite someone to a service’s console; prints the single-use link (valid 24 hours) on stdout')
  .requiredOption('--email <email>', 'their email address')
  .requiredOption('--service <id>', 'service id')
  .addOption(new Option('--role <role>', 'their role in the service').choices(['administrator', 'view-and-refund', 'view-only', 'developer']).makeOptionMandatory())
  .action(async (opts: { email: string; service: string; role: string }) => {
    const invite = (await operate('user.invite', { email: opts.email, serviceId: opts.service, role: opts.role })) as { link: string; expiresAt: string };
    console.log(invite.link);
    console.error(`Invitation for ${opts.email} as ${opts.role}; the link works once, until ${invite.expiresAt}. Send it to them yourself.`);
  });
user
  .command('disable')
  .description('leaver: disable a console account, end its sessions and revoke the API keys it created')
  .requiredOption('--email <email>', 'their email address')
  .option('--revoke-key <keyId>', 'a key to revoke (repeat for each; must match the keys listed)', collect)
  .option('--reason <text>', 'why (kept with the account)')
  .action(async (opts: { email: string; revokeKey?: string[]; reason?: string }) => {
    const preview = (await operate('user.leaver-preview', { email: opts.email })) as { found: boolean; keys: { id: string; name: string; display: string; service_id: string }[] };
    if (!preview.found) throw new InvalidArgumentError(`no console user ${opts.email}`);
    const listed = preview.keys.map((k) => k.id).sort();
    const given = [...new Set(opts.revokeKey ?? [])].sort();
    if (listed.join(',') !== given.join(',')) {
      console.error(preview.keys.length === 0 ? 'They created no working API keys.' : 'These working API keys were created by them and will be revoked:');
      if (preview.keys.length > 0) console.error(table(preview.keys.map((k) => ({ id: k.id, name: k.name, key: k.display, service: k.service_id }))));
      console.error(`Run again with ${preview.keys.length === 0 ? 'no --revoke-key' : preview.keys.map((k) => `--revoke-key ${k.id}`).join(' ')} to confirm.`);
      process.exit(1);
    }
    const done = (await operate('user.disable', { email: opts.email, confirmedKeyIds: given, reason: opts.reason })) as { revokedKeyIds: string[]; endedSessions: number };
    console.error(`Disabled ${opts.email}: ${done.endedSessions} session(s) ended, ${done.revokedKeyIds.length} key(s) revoked.`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CofferError) {
    console.error(`Error: ${err.message}${err.field ? ` (${err.field})` : ''}`);
    process.exit(1);
  }
  if (err instanceof StartupRefusal) {
    console.error(`Coffer cannot start: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
