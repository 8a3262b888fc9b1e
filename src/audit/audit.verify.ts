// Walks the audit chain and reports the first entry that was altered, removed or reordered.
// The walk recomputes every hash from the entry's columns (never trusting a stored hash), starts
// from a signed point (the genesis, the last retention cut, or a checkpoint the operator kept
// elsewhere), and checks every signed checkpoint it passes, so a consistent rewrite of the
// chain by someone without the master key still fails at the first checkpoint it crosses.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { chainHash, GENESIS_HASH } from './audit.entry.js';
import { checkpointKeys, checkpointSignatureValid, rowSignatureValid, type ExportedCheckpoint } from './audit.checkpoint.js';
import * as repo from './audit.repo.js';
import type { AuditCheckpointRow, AuditRow } from './audit.tables.js';

const PAGE = 5000;
const UNSEALED_GRACE_MS = 60_000;

export type ProblemKind = 'altered' | 'removed' | 'reordered' | 'checkpoint';

export interface VerifyProblem {
  kind: ProblemKind;
  /** The chain position of the first bad entry. */
  seq: number;
  entryId: string | null;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Where the walk started (0 = the beginning of the log) and ended. */
  fromSeq: number;
  toSeq: number;
  checked: number;
  checkpointsChecked: number;
  headSeq: number;
  problem: VerifyProblem | undefined;
  /** Entries written more than a minute ago and not yet sealed (the chaining worker is not running?). */
  unsealed: number;
}

export interface VerifyOptions {
  /** Start from a checkpoint kept elsewhere instead of the beginning. */
  from?: ExportedCheckpoint | undefined;
  now: Date;
  onProgress?: ((checked: number, total: number) => void) | undefined;
}

export async function verifyAuditLog(ctx: { db: Kysely<Database>; masterKey: { key: Buffer } }, options: VerifyOptions): Promise<VerifyReport> {
  const { db } = ctx;
  const { publicKey } = checkpointKeys(ctx.masterKey.key);
  const head = await repo.readChainHead(db);
  const unsealed = await repo.countUnsealedBefore(db, new Date(options.now.getTime() - UNSEALED_GRACE_MS));
  const checkpoints = await repo.listCheckpoints(db);
  const report = (fromSeq: number, toSeq: number, checked: number, checkpointsChecked: number, problem?: VerifyProblem): VerifyReport => ({
    ok: problem === undefined,
    fromSeq,
    toSeq,
    checked,
    checkpointsChecked,
    headSeq: head.seq,
    problem,
    unsealed,
  });

  for (const cp of checkpoints) {
    if (!rowSignatureValid(cp, publicKey)) {
      return report(0, 0, 0, 0, { kind: 'checkpoint', seq: cp.size, entryId: null, message: `the ${cp.kind} checkpoint at #${cp.size} (${cp.signed_at.toISOString()}) is not signed by this log's key: it was forged or altered` });
    }
  }

  // Where to start: a checkpoint the operator kept, else the latest retention cut, else the genesis.
  const cut = latestOf(checkpoints.filter((c) => c.kind === 'cut'));
  let start = { seq: 0, hash: GENESIS_HASH };
  if (cut) start = { seq: cut.size, hash: cut.head_hash };
  if (options.from) {
    if (!checkpointSignatureValid(options.from, publicKey)) {
      return report(0, 0, 0, 0, { kind: 'checkpoint', seq: options.from.size, entryId: null, message: "the checkpoint given with --from is not signed by this log's key" });
    }
    if (options.from.size > head.seq) {
      return report(0, head.seq, 0, 0, { kind: 'removed', seq: head.seq + 1, entryId: null, message: `the log ends at #${head.seq} but the checkpoint given with --from covers ${options.from.size} entries: entries were removed` });
    }
    if (options.from.size >= start.seq) {
      const anchor = options.from.size === 0 ? undefined : await repo.findBySeq(db, options.from.size);
      if (options.from.size > 0) {
        if (!anchor) return report(options.from.size, options.from.size, 0, 0, { kind: 'removed', seq: options.from.size, entryId: null, message: `entry #${options.from.size}, the end of the checkpoint given with --from, was removed` });
        if (anchor.prev_hash === null || chainHash(anchor.prev_hash, anchor.seq!, anchor) !== options.from.head_hash) {
          return report(options.from.size, options.from.size, 1, 0, { kind: 'altered', seq: anchor.seq!, entryId: anchor.entry_id, message: `entry #${anchor.seq} (${anchor.entry_id}) no longer matches the checkpoint given with --from: it was altered` });
        }
      }
      start = { seq: options.from.size, hash: options.from.head_hash };
    }
  }

  const bySize = new Map<number, AuditCheckpointRow[]>();
  for (const cp of checkpoints) if (cp.size > start.seq) bySize.set(cp.size, [...(bySize.get(cp.size) ?? []), cp]);
  const total = Math.max(0, head.seq - start.seq);
  let prev = start.hash;
  let expected = start.seq + 1;
  let checked = 0;
  let checkpointsChecked = 0;
  options.onProgress?.(0, total);

  for (;;) {
    const page = await repo.listSealedAfter(db, expected - 1, PAGE);
    if (page.length === 0) break;
    for (const row of page) {
      const seq = row.seq!;
      if (seq !== expected) {
        return report(start.seq, expected - 1, checked, checkpointsChecked, {
          kind: 'removed',
          seq: expected,
          entryId: null,
          message: `entry #${expected} was removed${seq > expected + 1 ? ` (and #${expected + 1}–#${seq - 1})` : ''}: the chain jumps from #${expected - 1} to #${seq}`,
        });
      }
      const computed = chainHash(prev, seq, row);
      if (computed !== row.hash) {
        return report(start.seq, seq, checked, checkpointsChecked, await diagnose(db, row, seq, prev));
      }
      for (const cp of bySize.get(seq) ?? []) {
        checkpointsChecked += 1;
        if (cp.head_hash !== computed) {
          return report(start.seq, seq, checked, checkpointsChecked, {
            kind: 'checkpoint',
            seq,
            entryId: row.entry_id,
            message: `the log up to #${seq} does not match the checkpoint signed at ${cp.signed_at.toISOString()}: it was rewritten at or before #${seq}`,
          });
        }
      }
      prev = computed;
      expected += 1;
      checked += 1;
    }
    options.onProgress?.(checked, total);
  }

  const last = expected - 1;
  const covered = Math.max(head.seq, ...checkpoints.map((c) => c.size));
  if (last < covered) {
    return report(start.seq, last, checked, checkpointsChecked, {
      kind: 'removed',
      seq: last + 1,
      entryId: null,
      message: `entries #${last + 1}–#${covered} were removed: the log ends at #${last} but ${head.seq === covered ? 'its head' : 'a signed checkpoint'} says ${covered}`,
    });
  }
  if (last === head.seq && head.seq > start.seq && prev !== head.hash) {
    return report(start.seq, last, checked, checkpointsChecked, { kind: 'altered', seq: last, entryId: null, message: `the chain head does not match entry #${last}` });
  }
  return report(start.seq, last, checked, checkpointsChecked);
}

/** Says what most likely happened to the entry whose hash does not match at position `seq`. */
async function diagnose(db: Kysely<Database>, row: AuditRow, seq: number, expectedPrev: string): Promise<VerifyProblem> {
  const entryId = row.entry_id;
  if (row.prev_hash === expectedPrev) {
    return { kind: 'altered', seq, entryId, message: `entry #${seq} (${entryId}) was altered: its content no longer matches its hash` };
  }
  // Its link points elsewhere: it was sealed after some other entry than the one now before it.
  if (row.prev_hash !== null && row.hash !== null) {
    const predecessor = await db.selectFrom('audit_log').select(['seq']).where('hash', '=', row.prev_hash).executeTakeFirst();
    const original = predecessor?.seq === null || predecessor?.seq === undefined ? (row.prev_hash === GENESIS_HASH ? 1 : undefined) : Number(predecessor.seq) + 1;
    if (original !== undefined && original !== seq && chainHash(row.prev_hash, original, row) === row.hash) {
      return { kind: 'reordered', seq, entryId, message: `entry #${seq} (${entryId}) was sealed as #${original}: the log was reordered` };
    }
    if (chainHash(row.prev_hash, seq, row) === row.hash) {
      const before = await repo.findBySeq(db, seq - 1);
      const beforeId = before?.entry_id ?? null;
      return { kind: 'altered', seq: seq - 1, entryId: beforeId, message: `entry #${seq - 1}${beforeId ? ` (${beforeId})` : ''} was altered and re-hashed: entry #${seq} (${entryId}) no longer follows it` };
    }
  }
  return { kind: 'altered', seq, entryId, message: `entry #${seq} (${entryId}) was altered: its content and its link no longer match` };
}

function latestOf(checkpoints: AuditCheckpointRow[]): AuditCheckpointRow | undefined {
  return checkpoints.reduce<AuditCheckpointRow | undefined>((best, c) => (!best || c.size > best.size ? c : best), undefined);
}
