// Verifies the key on every API request, and must be nearly free: a local format and checksum
// check, then a cache, then one indexed lookup. Cached entries live one second, so a revocation
// on any node takes effect everywhere within a second; on the node that revoked, at once.
// Outcomes are values, in Unkey's manner; the route layer turns them into one generic 401.
import type { Kysely } from 'kysely';
import type { AppContext } from '../platform/context.js';
import { sha256Hex } from '../platform/hashing.js';
import { IpAllowList } from '../platform/networks.js';
import type { AccountMode, Database } from '../store/schema.js';
import { parseKeyToken } from './key.format.js';
import * as repo from './key.repo.js';

export const CACHE_TTL_MS = 1000;
const CACHE_MAX_ENTRIES = 10_000;
const USE_RECORD_INTERVAL_MS = 60_000;

export interface VerifiedKey {
  keyId: string;
  serviceId: string;
  serviceName: string;
  accountId: string;
  mode: AccountMode;
  name: string;
  scopes: readonly string[];
}

export type KeyVerification =
  | { valid: true; key: VerifiedKey }
  | { valid: false; code: 'MALFORMED' | 'BAD_CHECKSUM' | 'NOT_FOUND' }
  // Which key was refused, for the audit log and the revoked-key detector (never for the client).
  | { valid: false; code: 'REVOKED' | 'EXPIRED'; keyId: string; serviceId: string; accountId: string }
  | { valid: false; code: 'IP_NOT_ALLOWED'; key: VerifiedKey };

interface CachedKey {
  loadedAt: number;
  row: repo.KeyWithOwner;
  allowList: IpAllowList;
  lastRecordedUse: number;
  lastRecordedIp: string | null;
}

class KeyCache {
  private readonly entries = new Map<string, CachedKey>();

  get(hash: string, nowMs: number): CachedKey | undefined {
    const entry = this.entries.get(hash);
    if (entry && nowMs - entry.loadedAt < CACHE_TTL_MS && nowMs >= entry.loadedAt) return entry;
    return undefined;
  }

  set(hash: string, entry: CachedKey): void {
    if (this.entries.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(hash);
    this.entries.set(hash, entry);
  }

  invalidateAll(): void {
    this.entries.clear();
  }
}

// One cache per open store (tests run several in one process); changes clear them all.
const caches = new WeakMap<Kysely<Database>, KeyCache>();
const allCaches = new Set<WeakRef<KeyCache>>();

function cacheFor(db: Kysely<Database>): KeyCache {
  let cache = caches.get(db);
  if (!cache) {
    cache = new KeyCache();
    caches.set(db, cache);
    allCaches.add(new WeakRef(cache));
  }
  return cache;
}

/** Called after a revoke or roll, so this node never serves a stale key. */
export const keyCache = {
  invalidateAll(): void {
    for (const ref of allCaches) ref.deref()?.invalidateAll();
  },
};

export async function verifyKey(ctx: AppContext, token: string, clientIp: string): Promise<KeyVerification> {
  const parsed = parseKeyToken(token);
  if (!parsed.ok) return { valid: false, code: parsed.reason };

  const hash = sha256Hex(token);
  const now = ctx.clock.now();
  const nowMs = now.getTime();
  const cache = cacheFor(ctx.db);
  let entry = cache.get(hash, nowMs);
  if (!entry) {
    const row = await repo.findKeyByHash(ctx.db, hash);
    if (!row) return { valid: false, code: 'NOT_FOUND' };
    entry = {
      loadedAt: nowMs,
      row,
      allowList: new IpAllowList(row.allowed_ips),
      lastRecordedUse: row.last_used_at?.getTime() ?? 0,
      lastRecordedIp: row.last_used_ip,
    };
    cache.set(hash, entry);
  }

  const { row } = entry;
  const owner = { keyId: row.id, serviceId: row.service_id, accountId: row.account_id };
  if (row.revoked_at !== null) return { valid: false, code: 'REVOKED', ...owner };
  if (row.expires_at !== null && row.expires_at.getTime() <= nowMs) return { valid: false, code: 'EXPIRED', ...owner };
  const key: VerifiedKey = {
    keyId: row.id,
    serviceId: row.service_id,
    serviceName: row.service_name,
    accountId: row.account_id,
    mode: row.mode,
    name: row.name,
    scopes: row.scopes,
  };
  if (!entry.allowList.allows(clientIp)) return { valid: false, code: 'IP_NOT_ALLOWED', key };

  recordUseNowAndThen(ctx, entry, now, clientIp);
  return { valid: true, key };
}

/** Writes last-used time and IP at most once a minute per key, or when the IP changes. */
function recordUseNowAndThen(ctx: AppContext, entry: CachedKey, now: Date, ip: string): void {
  const nowMs = now.getTime();
  if (nowMs - entry.lastRecordedUse < USE_RECORD_INTERVAL_MS && entry.lastRecordedIp === ip) return;
  entry.lastRecordedUse = nowMs;
  entry.lastRecordedIp = ip;
  repo.recordUse(ctx.db, entry.row.id, now, ip).catch((err: unknown) => {
    ctx.log.warn({ err, keyId: entry.row.id }, 'could not record key use');
  });
}
