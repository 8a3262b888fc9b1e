// What an audit entry is, how it is cleaned before it is stored, and the canonical bytes its
// chain hash covers. Invariants: no entry ever holds a card number, an API key, a bearer token
// or a field named like a secret (scrubbed here, whoever the caller); and the canonical form
// of a stored row is a pure function of its columns, so a verifier years later computes the
// same bytes.
import { createHash } from 'node:crypto';
import { redactCardNumbers } from '../platform/card-numbers.js';
import type { ActorType, AuditOutcome, AuditRow } from './audit.tables.js';

export interface AuditActor {
  type: ActorType;
  id: string;
}

/** An entry as a domain records it. Origin fields left out are taken from the request or CLI command in progress. */
export interface AuditEntry {
  /** Who did it; defaults to the actor of the request or command in progress, else `system`. */
  actor?: AuditActor | string | undefined;
  /** e.g. `payment.create`, `key.revoke`, `auth.failure` */
  action: string;
  object?: { type: string; id: string } | undefined;
  serviceId?: string | null | undefined;
  accountId?: string | null | undefined;
  /** UTC, from ctx.clock. */
  at: Date;
  outcome?: AuditOutcome | undefined;
  details?: Record<string, unknown> | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  requestId?: string | null | undefined;
}

/** An entry ready to insert: every field present, every value clean. */
export interface CleanEntry {
  entry_id: string;
  occurred_at: Date;
  actor_type: ActorType;
  actor_id: string;
  action: string;
  object_type: string | null;
  object_id: string | null;
  service_id: string | null;
  account_id: string | null;
  ip: string | null;
  user_agent: string | null;
  outcome: AuditOutcome;
  request_id: string | null;
  details: Record<string, unknown>;
}

// Dot-separated lower-case words: each repetition starts at a dot, so matching is linear.
// eslint-disable-next-line security/detect-unsafe-regex
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
const API_KEY = /coffer_(test|live)_[0-9A-Za-z]{20,}/g;
const BEARER = /(Bearer\s+)\S+/gi;
// Field names whose values are never kept, whatever they hold.
const SECRET_FIELD = /pass(word)?|secret|token|cvc|cvv|card_?number|pan$|authori[sz]ation|cookie|api_?key/i;
const MAX_TEXT = 500;
const MAX_DEPTH = 4;

// Anything the scrubbers below could change: four digits in a row (a card number has them;
// redactCardNumbers needs them too), a key's prefix, a bearer token, a control character. Most
// text (routes, user agents, ids) has none, and one scan answers for it: this runs for every
// field of every request's entry.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const MAY_NEED_SCRUBBING = /\d{4}|coffer_|bearer|[\u0000-\u001f\u007f]/i;

/** Removes card numbers, API keys and bearer tokens from free text, and bounds its length. */
export function scrubText(text: string): string {
  if (text.length <= MAX_TEXT && !MAY_NEED_SCRUBBING.test(text)) return text;
  // eslint-disable-next-line no-control-regex -- control characters have no place in a log line (and NUL breaks jsonb)
  const cleaned = redactCardNumbers(text).replace(API_KEY, 'coffer_$1_[REDACTED]').replace(BEARER, '$1[REDACTED]').replace(/[\u0000-\u001f\u007f]/g, ' ');
  return cleaned.length > MAX_TEXT ? `${cleaned.slice(0, MAX_TEXT)}…` : cleaned;
}

const scrubNullable = (text: string | null | undefined): string | null => (text === null || text === undefined ? null : scrubText(text));

export function scrubDetails(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return scrubText(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrubDetails(v, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 50)) {
      if (v === undefined) continue;
      out[scrubText(k)] = SECRET_FIELD.test(k) ? '[REDACTED]' : scrubDetails(v, depth + 1);
    }
    return out;
  }
  return null;
}

/** `key_…` is a key, `usr_…` or `user:usr_…` a console user, `operator:…` someone at the CLI; anything else the system. */
export function actorFrom(value: AuditActor | string): AuditActor {
  if (typeof value !== 'string') return value;
  if (value.startsWith('key_')) return { type: 'key', id: value };
  if (value.startsWith('user_') || value.startsWith('usr_')) return { type: 'user', id: value };
  // The console names its users `user:usr_…` where it keeps who did something (created_by).
  if (value.startsWith('user:')) return { type: 'user', id: value.slice('user:'.length) };
  if (value.startsWith('operator:')) return { type: 'operator', id: value };
  if (value === 'anonymous') return { type: 'anonymous', id: value };
  return { type: 'system', id: value };
}

export function cleanEntry(entry: AuditEntry, entryId: string, fallbackActor: AuditActor | undefined): CleanEntry {
  if (!ACTION.test(entry.action)) throw new TypeError(`audit action must look like "domain.verb": ${entry.action}`);
  const actor = actorFrom(entry.actor ?? fallbackActor ?? { type: 'system', id: 'system' });
  return {
    entry_id: entryId,
    occurred_at: entry.at,
    actor_type: actor.type,
    actor_id: scrubText(actor.id),
    action: entry.action,
    object_type: scrubNullable(entry.object?.type),
    object_id: scrubNullable(entry.object?.id),
    service_id: entry.serviceId ?? null,
    account_id: entry.accountId ?? null,
    ip: scrubNullable(entry.ip),
    user_agent: scrubNullable(entry.userAgent),
    outcome: entry.outcome ?? 'success',
    request_id: scrubNullable(entry.requestId),
    details: (scrubDetails(entry.details ?? {}) ?? {}) as Record<string, unknown>,
  };
}

// --- Canonical bytes and the chain hash ---------------------------------------------------

export const GENESIS_HASH = '0'.repeat(64);
const FORMAT = 'coffer-audit/1';

/**
 * JSON with object keys sorted at every level: the same value always gives the same text.
 * Built by concatenation rather than map and join: it runs for every sealed entry.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  out = '{';
  for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${JSON.stringify(keys[i])}:${canonicalJson(object[keys[i]!])}`;
  return `${out}}`;
}

export type ChainFields = Pick<
  AuditRow,
  | 'entry_id'
  | 'occurred_at'
  | 'actor_type'
  | 'actor_id'
  | 'action'
  | 'object_type'
  | 'object_id'
  | 'service_id'
  | 'account_id'
  | 'ip'
  | 'user_agent'
  | 'outcome'
  | 'request_id'
  | 'details'
>;

/**
 * The bytes an entry's hash covers: a fixed-order JSON array that includes its chain position,
 * so an entry moved to another position no longer matches its hash.
 */
export function canonicalBytes(seq: number, row: ChainFields): Buffer {
  return Buffer.from(
    canonicalJson([
      FORMAT,
      seq,
      row.entry_id,
      row.occurred_at.toISOString(),
      row.actor_type,
      row.actor_id,
      row.action,
      row.object_type,
      row.object_id,
      row.service_id,
      row.account_id,
      row.ip,
      row.user_agent,
      row.outcome,
      row.request_id,
      row.details,
    ]),
    'utf8',
  );
}

/** hash(n) = SHA-256(hash(n-1) ‖ canonical bytes of entry n); hash(0) is 32 zero bytes. */
export function chainHash(prevHash: string, seq: number, row: ChainFields): string {
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(canonicalBytes(seq, row)).digest('hex');
}
