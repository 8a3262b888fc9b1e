// API keys: create, list, revoke and roll. The plaintext key exists only in the value returned
// by create and roll; the database keeps its SHA-256 (the key carries 178 random bits, so a
// fast hash is safe and lets one indexed lookup find it) and the parts needed to display it.
import type { AppContext } from '../platform/context.js';
import { conflict, notFound, unprocessable } from '../platform/errors.js';
import { sha256Hex } from '../platform/hashing.js';
import { parseCidr } from '../platform/networks.js';
import { prefixedId } from '../platform/random.js';
import type { AccountMode, ApiKeyRow } from '../store/schema.js';
import { findAccountByServiceAndMode } from '../services/service.repo.js';
import { requireService } from '../services/service.service.js';
import { displayParts, generateKeyToken } from './key.format.js';
import * as repo from './key.repo.js';
import { DEFAULT_SCOPES, expandScope, type Scope } from './scopes.js';
import { keyCache } from './key.verifier.js';
import { recordAudit } from '../audit/audit.service.js';

const MAX_LIFETIME_MS = 5 * 365 * 86_400_000;
const MAX_ALLOWED_IPS = 50;

export type KeyStatus = 'active' | 'expiring' | 'expired' | 'revoked';

export interface KeyView {
  id: string;
  name: string;
  service_id: string;
  mode: AccountMode;
  display: string;
  scopes: string[];
  allowed_ips: string[];
  status: KeyStatus;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  revoked_reason: string | null;
  rolled_from_key_id: string | null;
  rolled_to_key_id: string | null;
}

export function keyStatus(key: ApiKeyRow, now: Date): KeyStatus {
  if (key.revoked_at !== null) return 'revoked';
  if (key.expires_at !== null && key.expires_at.getTime() <= now.getTime()) return 'expired';
  if (key.rolled_to_key_id !== null) return 'expiring';
  return 'active';
}

export function toKeyView(key: ApiKeyRow, now: Date): KeyView {
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  return {
    id: key.id,
    name: key.name,
    service_id: key.service_id,
    mode: key.mode,
    display: `${key.token_start}…${key.token_end}`,
    scopes: key.scopes,
    allowed_ips: key.allowed_ips,
    status: keyStatus(key, now),
    created_by: key.created_by,
    created_at: key.created_at.toISOString(),
    expires_at: iso(key.expires_at),
    last_used_at: iso(key.last_used_at),
    last_used_ip: key.last_used_ip,
    revoked_at: iso(key.revoked_at),
    revoked_by: key.revoked_by,
    revoked_reason: key.revoked_reason,
    rolled_from_key_id: key.rolled_from_key_id,
    rolled_to_key_id: key.rolled_to_key_id,
  };
}

export interface CreateKeyInput {
  serviceId: string;
  mode: AccountMode;
  name: string;
  scopes?: readonly string[] | undefined;
  expiresInMs?: number | undefined;
  allowedIps?: readonly string[] | undefined;
  createdBy: string;
}

export interface CreatedKey {
  token: string;
  key: KeyView;
}

export function validateKeySettings(input: Pick<CreateKeyInput, 'name' | 'scopes' | 'expiresInMs' | 'allowedIps'>): {
  name: string;
  scopes: Scope[];
  allowedIps: string[];
} {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) throw unprocessable('name must be 1 to 100 characters', 'name');
  const scopes = new Set<Scope>();
  for (const requested of input.scopes && input.scopes.length > 0 ? input.scopes : DEFAULT_SCOPES) {
    const expanded = expandScope(requested);
    if (!expanded) throw unprocessable(`unknown scope "${requested}"`, 'scopes');
    expanded.forEach((s) => scopes.add(s));
  }
  if (input.expiresInMs !== undefined && (!Number.isInteger(input.expiresInMs) || input.expiresInMs <= 0 || input.expiresInMs > MAX_LIFETIME_MS)) {
    throw unprocessable('expiry must be in the future and at most 5 years ahead', 'expires_in');
  }
  const allowedIps = (input.allowedIps ?? []).map((ip) => ip.trim());
  if (allowedIps.length > MAX_ALLOWED_IPS) throw unprocessable(`at most ${MAX_ALLOWED_IPS} IP ranges`, 'allowed_ips');
  for (const ip of allowedIps) {
    if (!parseCidr(ip)) throw unprocessable(`"${ip}" is not an IP address or CIDR range`, 'allowed_ips');
  }
  return { name, scopes: [...scopes], allowedIps };
}

export async function createKey(ctx: AppContext, input: CreateKeyInput): Promise<CreatedKey> {
  const settings = validateKeySettings(input);
  await requireService(ctx, input.serviceId);
  const account = await findAccountByServiceAndMode(ctx.db, input.serviceId, input.mode);
  if (!account) {
    throw unprocessable(
      input.mode === 'live' ? 'The live account is not enabled for this service' : 'The service has no test account',
      'mode',
    );
  }
  const now = ctx.clock.now();
  const token = generateKeyToken(input.mode);
  const display = displayParts(token);
  const row: ApiKeyRow = {
    id: prefixedId('key'),
    service_id: input.serviceId,
    account_id: account.id,
    mode: input.mode,
    name: settings.name,
    token_hash: sha256Hex(token),
    token_start: display.start,
    token_end: display.end,
    scopes: settings.scopes,
    allowed_ips: settings.allowedIps,
    created_by: input.createdBy,
    created_at: now,
    expires_at: input.expiresInMs === undefined ? null : new Date(now.getTime() + input.expiresInMs),
    last_used_at: null,
    last_used_ip: null,
    revoked_at: null,
    revoked_by: null,
    revoked_reason: null,
    rolled_from_key_id: null,
    rolled_to_key_id: null,
    version: 1,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertKey(trx, row);
    await recordAudit(trx, {
      actor: input.createdBy,
      action: 'key.create',
      object: { type: 'key', id: row.id },
      serviceId: row.service_id,
      accountId: row.account_id,
      at: now,
      details: { name: row.name, mode: row.mode, scopes: row.scopes, allowed_ips: row.allowed_ips, expires_at: row.expires_at },
    });
  });
  return { token, key: toKeyView(row, now) };
}

export async function listKeysForService(ctx: AppContext, serviceId: string): Promise<KeyView[]> {
  await requireService(ctx, serviceId);
  const now = ctx.clock.now();
  return (await repo.listKeysByService(ctx.db, serviceId)).map((k) => toKeyView(k, now));
}

export async function listKeysForAccount(ctx: AppContext, accountId: string): Promise<KeyView[]> {
  const now = ctx.clock.now();
  return (await repo.listKeysByAccount(ctx.db, accountId)).map((k) => toKeyView(k, now));
}

export async function getKeyForAccount(ctx: AppContext, accountId: string, keyId: string): Promise<KeyView> {
  const key = await repo.findKeyByAccountAndId(ctx.db, accountId, keyId);
  if (!key) throw notFound();
  return toKeyView(key, ctx.clock.now());
}

/**
 * Revokes a key at once. `scope` limits which keys the caller may touch: an API caller passes
 * its account, so another account's key is simply not found.
 */
export async function revokeKey(
  ctx: AppContext,
  keyId: string,
  revocation: { by: string; reason?: string | undefined; accountId?: string | undefined },
): Promise<KeyView> {
  const reason = revocation.reason?.trim() || null;
  if (reason !== null && reason.length > 500) throw unprocessable('reason must be at most 500 characters', 'reason');
  const key = revocation.accountId
    ? await repo.findKeyByAccountAndId(ctx.db, revocation.accountId, keyId)
    : await repo.findKeyById(ctx.db, keyId);
  if (!key) throw notFound();
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.markRevoked(trx, keyId, { at: now, by: revocation.by, reason }))) {
      throw conflict('The key is already revoked');
    }
    await recordAudit(trx, {
      actor: revocation.by,
      action: 'key.revoke',
      object: { type: 'key', id: keyId },
      serviceId: key.service_id,
      accountId: key.account_id,
      at: now,
      details: { reason },
    });
  });
  keyCache.invalidateAll();
  return toKeyView((await repo.findKeyById(ctx.db, keyId)) as ApiKeyRow, now);
}

/**
 * Issues a replacement with the same settings. The old key keeps working for `overlapMs`
 * (0 revokes it now), so a deployment can switch over without downtime. Both writes happen in
 * one transaction with the old row locked, so two concurrent rolls cannot both succeed.
 */
export async function rollKey(
  ctx: AppContext,
  keyId: string,
  roll: { overlapMs: number; by: string },
): Promise<CreatedKey & { previous: KeyView }> {
  if (!Number.isInteger(roll.overlapMs) || roll.overlapMs < 0 || roll.overlapMs > 30 * 86_400_000) {
    throw unprocessable('overlap must be between 0 and 30 days', 'overlap');
  }
  const now = ctx.clock.now();
  const token = await ctx.db.transaction().execute(async (trx) => {
    const old = await repo.lockKeyById(trx, keyId);
    if (!old) throw notFound();
    const status = keyStatus(old, now);
    if (status !== 'active') throw conflict(`Only an active key can be rolled; this key is ${status}`);
    const token = generateKeyToken(old.mode);
    const display = displayParts(token);
    const lifetime = old.expires_at === null ? null : old.expires_at.getTime() - old.created_at.getTime();
    const replacement: ApiKeyRow = {
      ...old,
      id: prefixedId('key'),
      token_hash: sha256Hex(token),
      token_start: display.start,
      token_end: display.end,
      created_by: roll.by,
      created_at: now,
      expires_at: lifetime === null ? null : new Date(now.getTime() + lifetime),
      last_used_at: null,
      last_used_ip: null,
      rolled_from_key_id: old.id,
      rolled_to_key_id: null,
      version: 1,
    };
    await repo.insertKey(trx, replacement);
    const overlapEnd = new Date(now.getTime() + roll.overlapMs);
    const oldEnd = old.expires_at !== null && old.expires_at < overlapEnd ? old.expires_at : overlapEnd;
    if (!(await repo.markRolled(trx, old.id, { toKeyId: replacement.id, expiresAt: oldEnd }))) {
      throw conflict('The key was changed by another request; try again');
    }
    if (roll.overlapMs === 0) await repo.markRevoked(trx, old.id, { at: now, by: roll.by, reason: 'rolled' });
    await recordAudit(trx, {
      actor: roll.by,
      action: 'key.roll',
      object: { type: 'key', id: old.id },
      serviceId: old.service_id,
      accountId: old.account_id,
      at: now,
      details: { new_key_id: replacement.id, old_key_expires_at: oldEnd, revoked_now: roll.overlapMs === 0 },
    });
    return token;
  });
  keyCache.invalidateAll();
  const [current, previous] = await Promise.all([repo.findKeyByHash(ctx.db, sha256Hex(token)), repo.findKeyById(ctx.db, keyId)]);
  return { token, key: toKeyView(current as ApiKeyRow, now), previous: toKeyView(previous as ApiKeyRow, now) };
}
