// Signed checkpoints of the audit chain (RFC 6962's signed tree head, for a hash chain):
// {size, head hash, time} signed with Ed25519. The signing key is derived from the master key
// (HKDF, purpose "audit-checkpoint"), so every node signs with the same key and nothing new
// needs storing; the public key can be handed to an auditor, who then verifies exported
// checkpoints without any secret. A checkpoint kept outside Coffer (printed by `coffer audit
// checkpoint`, e.g. into a ticket or another account's bucket each day) is what makes a
// rewrite of the whole chain by someone holding the database detectable.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../platform/context.js';
import { deriveKey } from '../platform/encryption.js';
import type { Worker } from '../platform/worker.js';
import type { Database } from '../store/schema.js';
import * as repo from './audit.repo.js';
import { auditSettingsFor } from './audit.settings.js';
import type { AuditCheckpointRow } from './audit.tables.js';

// DER header of a PKCS#8 Ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SIGNED_FORMAT = 'coffer-audit-checkpoint/1';

export interface CheckpointKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The raw 32-byte public key, base64. */
  publicKeyBase64: string;
  /** First 16 hex characters of SHA-256(raw public key): which key signed. */
  keyId: string;
}

const keyCache = new WeakMap<Buffer, CheckpointKeys>();

export function checkpointKeys(masterKey: Buffer): CheckpointKeys {
  const cached = keyCache.get(masterKey);
  if (cached) return cached;
  const seed = deriveKey(masterKey, 'audit-checkpoint');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const keys = { privateKey, publicKey, publicKeyBase64: raw.toString('base64'), keyId: createHash('sha256').update(raw).digest('hex').slice(0, 16) };
  keyCache.set(masterKey, keys);
  return keys;
}

/** The checkpoint as exported: everything needed to check it, given the pinned public key. */
export interface ExportedCheckpoint {
  log: 'coffer-audit';
  kind: 'periodic' | 'cut';
  size: number;
  head_hash: string;
  signed_at: string;
  key_id: string;
  public_key: string;
  signature: string;
}

function signedBytes(c: { kind: string; size: number; head_hash: string; signed_at: string }): Buffer {
  return Buffer.from([SIGNED_FORMAT, c.kind, String(c.size), c.head_hash, c.signed_at].join('\n'), 'utf8');
}

export function exportCheckpoint(row: AuditCheckpointRow, keys: CheckpointKeys): ExportedCheckpoint {
  return {
    log: 'coffer-audit',
    kind: row.kind,
    size: row.size,
    head_hash: row.head_hash,
    signed_at: row.signed_at.toISOString(),
    key_id: row.key_id,
    public_key: keys.publicKeyBase64,
    signature: row.signature,
  };
}

/** True when the signature is by `publicKey` (pinned by the verifier, never taken from the checkpoint itself). */
export function checkpointSignatureValid(c: Pick<ExportedCheckpoint, 'kind' | 'size' | 'head_hash' | 'signed_at' | 'signature'>, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedBytes(c), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

export function rowSignatureValid(row: AuditCheckpointRow, publicKey: KeyObject): boolean {
  return checkpointSignatureValid({ ...row, signed_at: row.signed_at.toISOString() }, publicKey);
}

/** Signs and stores a checkpoint of the chain at (size, head hash). */
export async function writeCheckpoint(
  db: Kysely<Database>,
  keys: CheckpointKeys,
  at: { kind: 'periodic' | 'cut'; size: number; headHash: string; signedAt: Date },
): Promise<AuditCheckpointRow> {
  const body = { kind: at.kind, size: at.size, head_hash: at.headHash, signed_at: at.signedAt.toISOString() };
  const signature = sign(null, signedBytes(body), keys.privateKey).toString('base64');
  return repo.insertCheckpoint(db, { kind: at.kind, size: at.size, head_hash: at.headHash, signed_at: at.signedAt, key_id: keys.keyId, signature });
}

/** A checkpoint of the current head, unless the latest one already covers it. */
export async function checkpointNow(ctx: Pick<AppContext, 'db' | 'clock' | 'masterKey'>): Promise<AuditCheckpointRow | undefined> {
  const keys = checkpointKeys(ctx.masterKey.key);
  const head = await repo.readChainHead(ctx.db);
  const latest = await repo.latestCheckpoint(ctx.db);
  if (head.seq === 0 || (latest && latest.size >= head.seq)) return undefined;
  return writeCheckpoint(ctx.db, keys, { kind: 'periodic', size: head.seq, headHash: head.hash, signedAt: ctx.clock.now() });
}

/** Every node runs it; a checkpoint is written when the latest is older than the interval and the chain has grown. */
export const auditCheckpointWorker: Worker = {
  name: 'audit-checkpoint',
  intervalMs: 10_000,
  async run(ctx) {
    const { checkpointIntervalMs } = auditSettingsFor(ctx);
    const latest = await repo.latestCheckpoint(ctx.db);
    if (latest && ctx.clock.now().getTime() - latest.signed_at.getTime() < checkpointIntervalMs) return { handled: 0, more: false };
    // Two nodes may both get here; the second one finds the first's checkpoint covering the head.
    return ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.lockChainHead(trx))) return { handled: 0, more: false };
      const written = await checkpointNow({ ...ctx, db: trx });
      return { handled: written ? 1 : 0, more: false };
    });
  },
};
