// Network allow-lists per service and account: which IP ranges (IPv4 and IPv6 CIDR) may call
// the API, and separately which may use the console. An empty list allows every address; a
// key's own ranges (set on the key) apply on top. Enforcement must cost nearly nothing on each
// request, so each node caches an account's ranges for one second (a change takes effect
// everywhere within a second, and at once on the node that made it), as the key cache does.
import type { Kysely } from 'kysely';
import type { AppContext } from '../platform/context.js';
import { conflict, notFound, unprocessable } from '../platform/errors.js';
import { IpAllowList, parseCidr } from '../platform/networks.js';
import { prefixedId } from '../platform/random.js';
import type { AccountMode, Database } from '../store/schema.js';
import { findAccountByServiceAndMode } from '../services/service.repo.js';
import { requireService } from '../services/service.service.js';
import { recordAudit } from '../audit/audit.service.js';
import * as repo from './network.repo.js';
import type { NetworkPurpose } from './network.tables.js';

const CACHE_TTL_MS = 1000;
const MAX_RANGES = 100;

export const NETWORK_PURPOSES: readonly NetworkPurpose[] = ['api', 'console'];

export interface NetworkRangeView {
  id: string;
  service_id: string;
  account_id: string;
  mode: AccountMode;
  purpose: NetworkPurpose;
  cidr: string;
  created_by: string;
  created_at: string;
}

/** "10.1.2.3/8" is written as the network it means, "10.0.0.0/8", so a range is stored once. */
export function canonicalCidr(text: string): string | undefined {
  const parsed = parseCidr(text);
  if (!parsed) return undefined;
  if (parsed.family === 'ipv4') {
    const octets = parsed.address.split('.').map(Number);
    const value = octets.reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - parsed.prefix);
    const network = Math.floor(value / size) * size;
    const address = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
    return `${address}/${parsed.prefix}`;
  }
  const groups = expandIpv6(parsed.address);
  if (!groups) return undefined;
  let bits = groups.map((g) => g.toString(2).padStart(16, '0')).join('');
  bits = bits.slice(0, parsed.prefix).padEnd(128, '0');
  const masked = Array.from({ length: 8 }, (_, i) => parseInt(bits.slice(i * 16, i * 16 + 16), 2).toString(16));
  return `${compressIpv6(masked)}/${parsed.prefix}`;
}

function expandIpv6(address: string): number[] | undefined {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const o = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [left, right] = text.split('::');
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const fill = text.includes('::') ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

async function accountFor(ctx: AppContext, serviceId: string, mode: AccountMode) {
  await requireService(ctx, serviceId);
  const account = await findAccountByServiceAndMode(ctx.db, serviceId, mode);
  if (!account) throw unprocessable(mode === 'live' ? 'The live account is not enabled for this service' : 'The service has no test account', 'mode');
  return account;
}

function purposeOf(value: string): NetworkPurpose {
  if (value !== 'api' && value !== 'console') throw unprocessable('purpose must be api or console', 'for');
  return value;
}

export async function allowRanges(
  ctx: AppContext,
  input: { serviceId: string; mode: AccountMode; purpose: string; cidrs: readonly string[]; by: string },
): Promise<NetworkRangeView[]> {
  const purpose = purposeOf(input.purpose);
  if (input.cidrs.length === 0) throw unprocessable('name at least one IP range', 'cidr');
  const cidrs = input.cidrs.map((text) => {
    const cidr = canonicalCidr(text);
    if (!cidr) throw unprocessable(`"${text}" is not an IP address or CIDR range`, 'cidr');
    return cidr;
  });
  const account = await accountFor(ctx, input.serviceId, input.mode);
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const existing = await repo.listByAccount(trx, account.id, purpose);
    if (new Set([...existing.map((r) => r.cidr), ...cidrs]).size > MAX_RANGES) throw unprocessable(`at most ${MAX_RANGES} ranges per account and purpose`, 'cidr');
    for (const cidr of cidrs) {
      const added = await repo.insertRange(trx, {
        id: prefixedId('net'),
        service_id: input.serviceId,
        account_id: account.id,
        purpose,
        cidr,
        created_by: input.by,
        created_at: now,
      });
      if (added) {
        await recordAudit(trx, {
          actor: input.by,
          action: 'network.allow',
          object: { type: 'network_range', id: cidr },
          serviceId: input.serviceId,
          accountId: account.id,
          at: now,
          details: { purpose, mode: input.mode, cidr },
        });
      }
    }
  });
  networkCache.invalidateAll();
  return listRanges(ctx, { serviceId: input.serviceId, mode: input.mode, purpose });
}

export async function removeRanges(
  ctx: AppContext,
  input: { serviceId: string; mode: AccountMode; purpose: string; cidrs: readonly string[]; by: string },
): Promise<NetworkRangeView[]> {
  const purpose = purposeOf(input.purpose);
  const account = await accountFor(ctx, input.serviceId, input.mode);
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    for (const text of input.cidrs) {
      const cidr = canonicalCidr(text);
      if (!cidr || !(await repo.deleteRange(trx, account.id, purpose, cidr))) throw conflict(`${text} is not in the ${purpose} allow-list`);
      await recordAudit(trx, {
        actor: input.by,
        action: 'network.remove',
        object: { type: 'network_range', id: cidr },
        serviceId: input.serviceId,
        accountId: account.id,
        at: now,
        details: { purpose, mode: input.mode, cidr },
      });
    }
  });
  networkCache.invalidateAll();
  return listRanges(ctx, { serviceId: input.serviceId, mode: input.mode, purpose });
}

export async function listRanges(ctx: AppContext, input: { serviceId: string; mode: AccountMode; purpose?: string | undefined }): Promise<NetworkRangeView[]> {
  const purpose = input.purpose === undefined ? undefined : purposeOf(input.purpose);
  const account = await accountFor(ctx, input.serviceId, input.mode);
  return (await repo.listByAccount(ctx.db, account.id, purpose)).map((r) => ({
    id: r.id,
    service_id: r.service_id,
    account_id: r.account_id,
    mode: input.mode,
    purpose: r.purpose,
    cidr: r.cidr,
    created_by: r.created_by,
    created_at: r.created_at.toISOString(),
  }));
}

// --- Enforcement ---------------------------------------------------------------------------

interface Cached {
  loadedAt: number;
  list: IpAllowList;
}

class NetworkCache {
  readonly entries = new Map<string, Cached>();
}

const caches = new WeakMap<Kysely<Database>, NetworkCache>();
const allCaches = new Set<WeakRef<NetworkCache>>();

export const networkCache = {
  invalidateAll(): void {
    for (const ref of allCaches) ref.deref()?.entries.clear();
  },
};

function cacheFor(db: Kysely<Database>): NetworkCache {
  let cache = caches.get(db);
  if (!cache) {
    cache = new NetworkCache();
    caches.set(db, cache);
    allCaches.add(new WeakRef(cache));
  }
  return cache;
}

/**
 * Whether the account lets `ip` in for this purpose. `ip` must be the client address as
 * Fastify resolved it (the socket peer, or X-Forwarded-For only behind trusted proxies).
 * Answers at once when the account's list is cached (every API request asks: a promise would
 * cost it more than the check); a promise only when the list must be read.
 */
export function networkAllows(ctx: Pick<AppContext, 'db' | 'clock'>, accountId: string, purpose: NetworkPurpose, ip: string): boolean | Promise<boolean> {
  const cache = cacheFor(ctx.db);
  const key = `${purpose}:${accountId}`;
  const nowMs = ctx.clock.now().getTime();
  const entry = cache.entries.get(key);
  if (entry && nowMs - entry.loadedAt < CACHE_TTL_MS && nowMs >= entry.loadedAt) return entry.list.allows(ip);
  return repo.cidrsFor(ctx.db, accountId, purpose).then((cidrs) => {
    const loaded = { loadedAt: nowMs, list: new IpAllowList(cidrs) };
    if (cache.entries.size >= 10_000) cache.entries.clear();
    cache.entries.set(key, loaded);
    return loaded.list.allows(ip);
  });
}

/** For the console: may `ip` use the console for this service's account in `mode`? */
export async function consoleAllows(ctx: AppContext, serviceId: string, mode: AccountMode, ip: string): Promise<boolean> {
  const account = await findAccountByServiceAndMode(ctx.db, serviceId, mode);
  if (!account) throw notFound();
  return networkAllows(ctx, account.id, 'console', ip);
}
