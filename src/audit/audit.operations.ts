// The operator's audit commands, as named operations (run directly, or through the operator
// socket of a running `coffer serve` on the embedded store), and the wrapper that records
// every CLI command in the audit log.
import type { AppContext } from '../platform/context.js';
import { unprocessable } from '../platform/errors.js';
import { sealAll } from './audit.chain.js';
import { checkpointKeys, checkpointNow, exportCheckpoint, type ExportedCheckpoint } from './audit.checkpoint.js';
import { actorFrom } from './audit.entry.js';
import { runWithOrigin } from './audit.origin.js';
import * as repo from './audit.repo.js';
import { recordAudit, toEntryView } from './audit.service.js';
import { verifyAuditLog } from './audit.verify.js';

type Args = Record<string, unknown>;
type Operation = (ctx: AppContext, args: Args, actor: string) => Promise<unknown>;

const EXPORT_PAGE = 5000;

/**
 * Where `audit.verify` reports its progress. Set by the CLI process for itself only: when the
 * operation runs inside a server (operator socket), the server's own copy is unset and no bar
 * is drawn on the server's terminal.
 */
export const verifyProgress: { sink: ((checked: number, total: number) => void) | undefined } = { sink: undefined };

function parseCheckpoint(value: unknown): ExportedCheckpoint | undefined {
  if (value === undefined || value === null) return undefined;
  const c = value as Partial<ExportedCheckpoint>;
  if (
    typeof c !== 'object' ||
    c.log !== 'coffer-audit' ||
    (c.kind !== 'periodic' && c.kind !== 'cut') ||
    typeof c.size !== 'number' ||
    typeof c.head_hash !== 'string' ||
    typeof c.signed_at !== 'string' ||
    typeof c.signature !== 'string'
  ) {
    throw unprocessable('the checkpoint is not one `coffer audit checkpoint` printed', 'from');
  }
  return c as ExportedCheckpoint;
}

export const auditOperations: Record<string, Operation> = {
  /** Seals what is pending, signs a checkpoint of the head if it moved, and returns the latest. */
  'audit.checkpoint': async (ctx) => {
    await sealAll(ctx);
    await checkpointNow(ctx);
    const latest = await repo.latestCheckpoint(ctx.db);
    if (!latest) throw unprocessable('the audit log is empty: there is nothing to checkpoint yet');
    return exportCheckpoint(latest, checkpointKeys(ctx.masterKey.key));
  },
  'audit.public-key': async (ctx) => {
    const keys = checkpointKeys(ctx.masterKey.key);
    return { key_id: keys.keyId, public_key: keys.publicKeyBase64, pem: keys.publicKey.export({ format: 'pem', type: 'spki' }).toString() };
  },
  'audit.verify': async (ctx, args) =>
    verifyAuditLog(ctx, { from: parseCheckpoint(args.from), now: ctx.clock.now(), onProgress: verifyProgress.sink }),
  /** One page of sealed entries in chain order; the CLI asks for pages until `more` is false. */
  'audit.export': async (ctx, args) => {
    const since = typeof args.since === 'string' ? new Date(args.since) : undefined;
    if (since && Number.isNaN(since.getTime())) throw unprocessable('since must be an ISO 8601 time or a duration like 30d', 'since');
    const afterSeq = typeof args.afterSeq === 'number' ? args.afterSeq : 0;
    const rows = await repo.listSealedSince(ctx.db, since, afterSeq, EXPORT_PAGE);
    const last = rows[rows.length - 1];
    return { entries: rows.map(toEntryView), lastSeq: last?.seq ?? afterSeq, more: rows.length === EXPORT_PAGE };
  },
};

const SECRET_ARG = /token|secret|password|key$/i;

/**
 * Runs an operation as `actor`, inside an origin that names the CLI, and records the command.
 * The entries of the changes it makes are written with those changes; this one says that the
 * command ran, and how it ended.
 */
export async function runAudited(ctx: AppContext, name: string, args: Args, actor: string, run: () => Promise<unknown>): Promise<unknown> {
  const who = actorFrom(actor);
  return runWithOrigin({ ip: null, userAgent: 'coffer-cli', requestId: null, actor: () => who }, async () => {
    const record = async (outcome: 'success' | 'failure', error?: string) => {
      // The pages after an export's first are the same act of reading.
      if (name === 'audit.export' && typeof args.afterSeq === 'number' && args.afterSeq > 0) return;
      const shown = Object.fromEntries(Object.entries(args).filter(([k]) => !SECRET_ARG.test(k)).map(([k, v]) => [k, k === 'from' ? '(checkpoint)' : v]));
      try {
        await recordAudit(ctx.db, {
          action: `cli.${name.replace(/-/g, '_')}`,
          at: ctx.clock.now(),
          outcome,
          details: { args: shown, ...(error ? { error } : {}) },
        });
      } catch (err) {
        // Before `migrate` has created the log there is nowhere to write; anything else is loud.
        if (name !== 'migrate') ctx.log.error({ err, operation: name }, 'could not record the CLI command in the audit log');
      }
    };
    try {
      const result = await run();
      await record('success');
      return result;
    } catch (err) {
      await record('failure', err instanceof Error ? err.message : String(err));
      throw err;
    }
  });
}
