// `coffer audit …` and `coffer network …`: the commander definitions, handed the CLI's own
// `operate` (which runs an operation where the store is). Verification draws its progress bar
// on stderr; results go to stdout, so `coffer audit checkpoint > cp.json` and
// `coffer audit export > log.jsonl` work.
/* eslint-disable no-console -- CLI commands print their results on stdout */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { parseDuration } from '../platform/duration.js';
import { unprocessable } from '../platform/errors.js';
import { verifyProgress } from './audit.operations.js';
import type { VerifyReport } from './audit.verify.js';

type Operate = (name: string, args: Record<string, unknown>) => Promise<unknown>;

function readCheckpoint(source: string): unknown {
  const text = source.trim().startsWith('{') ? source : readFileSync(source === '-' ? 0 : source, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw unprocessable(`${source} does not hold a checkpoint (the JSON printed by coffer audit checkpoint)`, '--from');
  }
}

function sinceTime(value: string): string {
  const ms = parseDuration(value);
  if (ms !== undefined) return new Date(Date.now() - ms).toISOString();
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw unprocessable('use an ISO 8601 time or a duration like 30d', '--since');
  return date.toISOString();
}

export function registerAuditCommands(program: Command, operate: Operate): void {
  const audit = program.command('audit').description('the tamper-evident audit log');

  audit
    .command('verify')
    .description('walk the hash chain and report the first entry altered, removed or reordered (exit 1 then)')
    .option('--from <checkpoint>', 'start from a checkpoint kept elsewhere: a file, - for stdin, or the JSON itself')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { from?: string; json?: boolean }) => {
      const bar = new SingleBar({ stream: process.stderr, format: 'Verifying the audit log [{bar}] {percentage}% | {value}/{total} entries', hideCursor: true }, Presets.shades_classic);
      let started = false;
      verifyProgress.sink = (checked, total) => {
        if (!started) {
          bar.start(total, checked);
          started = true;
        } else bar.update(checked);
      };
      let report: VerifyReport;
      try {
        report = (await operate('audit.verify', opts.from ? { from: readCheckpoint(opts.from) } : {})) as VerifyReport;
      } finally {
        if (started) bar.stop();
        verifyProgress.sink = undefined;
      }
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else if (report.ok) {
        console.log(`Audit log intact: ${report.checked} entries checked (#${report.fromSeq + 1}–#${report.toSeq}), ${report.checkpointsChecked} signed checkpoints matched, head at #${report.headSeq}.`);
      } else {
        const p = report.problem!;
        console.log(`AUDIT LOG TAMPERED: ${p.message}`);
        console.log(`First bad entry: #${p.seq}${p.entryId ? ` (${p.entryId})` : ''} [${p.kind}]`);
      }
      if (report.unsealed > 0) console.error(`Warning: ${report.unsealed} entries older than a minute are not sealed yet (is coffer serve running its workers?).`);
      if (!report.ok) process.exitCode = 1;
    });

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the chain head and print it as JSON (keep it somewhere Coffer cannot write)')
    .action(async () => {
      console.log(JSON.stringify(await operate('audit.checkpoint', {})));
    });

  audit
    .command('public-key')
    .description("print the public key that verifies the log's checkpoints (PEM)")
    .action(async () => {
      const key = (await operate('audit.public-key', {})) as { pem: string; key_id: string };
      process.stdout.write(key.pem);
      console.error(`Key id ${key.key_id}.`);
    });

  audit
    .command('export')
    .description('print sealed entries in chain order as JSON lines')
    .option('--since <time>', 'only entries at or after this time: ISO 8601, or a duration back from now like 30d')
    .action(async (opts: { since?: string }) => {
      const since = opts.since ? sinceTime(opts.since) : undefined;
      let afterSeq = 0;
      for (;;) {
        const page = (await operate('audit.export', { since, afterSeq })) as { entries: unknown[]; lastSeq: number; more: boolean };
        if (page.entries.length > 0) process.stdout.write(page.entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
        if (!page.more) break;
        afterSeq = page.lastSeq;
      }
    });

  const network = program.command('network').description('network allow-lists per service and account');
  const purpose = () => new Option('--for <purpose>', 'api or console').choices(['api', 'console']);
  const mode = () => new Option('--mode <mode>', 'test or live').choices(['test', 'live']).makeOptionMandatory();
  const print = (ranges: { purpose: string; cidr: string; created_by: string; created_at: string }[]) => {
    if (ranges.length === 0) console.log('(no ranges: every address is allowed)');
    for (const r of ranges) console.log(`${r.purpose.padEnd(8)} ${r.cidr.padEnd(44)} ${r.created_by} ${r.created_at}`);
  };
  network
    .command('allow')
    .description('allow IP ranges (IPv4 or IPv6 CIDR); once a list has a range, addresses outside it are refused')
    .requiredOption('--service <id>', 'service id')
    .addOption(mode())
    .addOption(purpose().makeOptionMandatory())
    .argument('<cidr...>')
    .action(async (cidrs: string[], opts: { service: string; mode: string; for: string }) => {
      print((await operate('network.allow', { serviceId: opts.service, mode: opts.mode, purpose: opts.for, cidrs })) as never);
    });
  network
    .command('remove')
    .description('remove IP ranges (removing the last one allows every address again)')
    .requiredOption('--service <id>', 'service id')
    .addOption(mode())
    .addOption(purpose().makeOptionMandatory())
    .argument('<cidr...>')
    .action(async (cidrs: string[], opts: { service: string; mode: string; for: string }) => {
      print((await operate('network.remove', { serviceId: opts.service, mode: opts.mode, purpose: opts.for, cidrs })) as never);
    });
  network
    .command('list')
    .requiredOption('--service <id>', 'service id')
    .addOption(mode())
    .addOption(purpose())
    .action(async (opts: { service: string; mode: string; for?: string }) => {
      print((await operate('network.list', { serviceId: opts.service, mode: opts.mode, ...(opts.for ? { purpose: opts.for } : {}) })) as never);
    });
}
