// Verifies the key on every API request, and must be nearly free: a local format and checksum
// check, then a cache, then one indexed lookup. Cached entries live one second, so a revocation
// on any node takes effect everywhere within a second; on the node that revoked, at once.
// A busy key never waits for the database: its entry is reloaded in the background before it
// expires, and concurrent misses for one key share a single lookup.
// Outcomes are values, in Unkey's manner; the route layer turns them into one generic 401.
import type { Kysely } from 'kysely';
import type { AppContext } from '../platform/context.js';
import { sha256Hex } from '../platform/hashing.js';
import { IpAllowList } from '../platform/networks.js';
import type { AccountMode, Database } from '../store/schema.js';
import { parseKeyToken } from './key.format.js';
import * as repo from './key.repo.js';

export const CACHE_TTL_MS = 1000;
/** Age at which a used entry is reloaded in the background, so it is fresh before it expires. */
const REFRESH_AHEAD_MS = 750;
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
  /** What a request sees of the key, built once per load rather than per request. */
  verified: VerifiedKey;
  allowList: IpAllowList;
  lastRecordedUse: number;
  lastRecordedIp: string | null;
}

class KeyCache {
  private readonly entries = new Map<string, CachedKey>();
  /** Lookups in flight, by hash: concurrent misses share one query instead of stampeding. */
  private readonly loading = new Map<string, Promise<CachedKey | undefined>>();
  /** Bumped by every invalidation; a lookup begun before one must not refill the cache. */
  private generation = 0;

  get(hash: string, nowMs: number): CachedKey | undefined {
    const entry = this.entries.get(hash);
    if (entry && nowMs - entry.loadedAt < CACHE_TTL_MS && nowMs >= entry.loadedAt) return entry;
    return undefined;
  }

  /** Loads the key, joining a lookup already in flight for it. */
  load(hash: string, nowMs: number, find: () => Promise<repo.KeyWithOwner | undefined>): Promise<CachedKey | undefined> {
    const pending = this.loading.get(hash);
    if (pending) return pending;
    const generation = this.generation;
    const previous = this.entries.get(hash);
    const promise = find()
      .then((row) => {
        if (!row) return undefined;
        const entry: CachedKey = {
          loadedAt: nowMs,
          row,
          verified: verifiedKeyOf(row),
          allowList: new IpAllowList(row.allowed_ips),
          // A use recorded moments ago may not be in the row yet: keep the later of the two.
          lastRecordedUse: Math.max(row.last_used_at?.getTime() ?? 0, previous?.lastRecordedUse ?? 0),
          lastRecordedIp: previous && previous.lastRecordedUse > (row.last_used_at?.getTime() ?? 0) ? previous.lastRecordedIp : row.last_used_ip,
        };
        if (generation === this.generation) this.set(hash, entry);
        return entry;
      })
      .finally(() => {
        if (this.loading.get(hash) === promise) this.loading.delete(hash);
      });
    this.loading.set(hash, promise);
    return promise;
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
    this.generation++;
    this.entries.clear();
    // Requests arriving from now on must see the change: they start a fresh lookup.
    this.loading.clear();
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

function verifiedKeyOf(row: repo.KeyWithOwner): VerifiedKey {
  return Object.freeze({
    keyId: row.id,
    serviceId: row.service_id,
    serviceName: row.service_name,
    accountId: row.account_id,
    mode: row.mode,
    name: row.name,
    scopes: Object.freeze([...row.scopes]),
  });
}

/**
 * Answers at once (no promise) when the key is cached, which is nearly every request: a
 * promise and its microtask cost the request thread more than the check itself. Only a cache
 * miss waits for the database. Callers `await` either.
 */
export function verifyKey(ctx: AppContext, token: string, clientIp: string): KeyVerification | Promise<KeyVerification> {
  const parsed = parseKeyToken(token);
  if (!parsed.ok) return { valid: false, code: parsed.reason };

  const hash = sha256Hex(token);
  const now = ctx.clock.now();
  const nowMs = now.getTime();
  const cache = cacheFor(ctx.db);
  const entry = cache.get(hash, nowMs);
  if (!entry) {
    return cache.load(hash, nowMs, () => repo.findKeyByHash(ctx.db, hash)).then((loaded) => (loaded ? checkEntry(ctx, loaded, now, clientIp) : { valid: false, code: 'NOT_FOUND' }));
  }
  if (nowMs - entry.loadedAt >= REFRESH_AHEAD_MS) {
    const key = entry.row.id;
    cache.load(hash, nowMs, () => repo.findKeyByHash(ctx.db, hash)).catch((err: unknown) => {
      ctx.log.warn({ err, keyId: key }, 'could not reload an API key; it will be looked up on its next use');
    });
  }
  return checkEntry(ctx, entry, now, clientIp);
}

function checkEntry(ctx: AppContext, entry: CachedKey, now: Date, clientIp: string): KeyVerification {
  const { row, verified } = entry;
  if (row.revoked_at !== null) return { valid: false, code: 'REVOKED', keyId: row.id, serviceId: row.service_id, accountId: row.account_id };
  if (row.expires_at !== null && row.expires_at.getTime() <= now.getTime()) return { valid: false, code: 'EXPIRED', keyId: row.id, serviceId: row.service_id, accountId: row.account_id };
  if (!entry.allowList.allows(clientIp)) return { valid: false, code: 'IP_NOT_ALLOWED', key: verified };

  recordUseNowAndThen(ctx, entry, now, clientIp);
  return { valid: true, key: verified };
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
