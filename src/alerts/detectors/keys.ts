// Key use: a refused revoked or expired key (someone still holds it), and a valid key used
// from a network it has not used before. Networks are IPv4 /24 and IPv6 /48, so a client
// moving within its provider's block is not news. The first network a key is used from is
// learnt quietly; likewise the first country (alerts/geoip.ts), so a key that starts being used
// from another country alerts even when each network in it is new anyway. Each node remembers
// the (key, network) pairs it has checked, so a busy key costs the database nothing after its
// first request from a network (a network does not change country between requests).
import ipaddr from 'ipaddr.js';
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.js';
import type { Database } from '../../store/schema.js';
import * as repo from '../alert.repo.js';
import { raiseAlert } from '../alert.service.js';
import { countEvent } from './threshold.js';
import { countryOf } from '../geoip.js';

const SEEN_MAX = 50_000;
const seenByStore = new WeakMap<Kysely<Database>, Set<string>>();

/** The network an address belongs to for this detector: a.b.c.0/24 or x:x:x::/48. */
export function networkOf(ip: string): string | undefined {
  if (!ipaddr.isValid(ip)) return undefined;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4') {
    const o = (addr as ipaddr.IPv4).octets;
    return `${o[0]}.${o[1]}.${o[2]}.0/24`;
  }
  const p = (addr as ipaddr.IPv6).parts;
  return `${[p[0], p[1], p[2]].map((n) => (n ?? 0).toString(16)).join(':')}::/48`;
}

// Every authenticated request asks for its address's network; parsing the address each time
// cost more than the rest of this detector's hot path, and a node sees few distinct addresses.
const NETWORK_MEMO_MAX = 10_000;
const networkMemo = new Map<string, string | undefined>();

function memoisedNetworkOf(ip: string): string | undefined {
  if (networkMemo.has(ip)) return networkMemo.get(ip);
  const network = networkOf(ip);
  if (networkMemo.size >= NETWORK_MEMO_MAX) networkMemo.clear();
  networkMemo.set(ip, network);
  return network;
}

/**
 * Synchronous for a (key, network) pair this node has already checked, which is nearly every
 * request: only a pair new to the node waits for the database.
 */
export function observeKeyUse(ctx: AppContext, key: { keyId: string; serviceId: string; accountId: string; name: string }, ip: string): void | Promise<void> {
  const network = memoisedNetworkOf(ip);
  if (!network) return;
  let seen = seenByStore.get(ctx.db);
  if (!seen) seenByStore.set(ctx.db, (seen = new Set()));
  const pair = `${key.keyId}|${network}`;
  if (seen.has(pair)) return;
  return observeNewPair(ctx, key, ip, network, pair, seen);
}

async function observeNewPair(ctx: AppContext, key: { keyId: string; serviceId: string; accountId: string; name: string }, ip: string, network: string, pair: string, seen: Set<string>): Promise<void> {
  try {
    const remembered = await repo.rememberKeyNetwork(ctx.db, key.keyId, network, ctx.clock.now());
    if (seen.size >= SEEN_MAX) seen.clear();
    seen.add(pair);
    if (!remembered.isNew) return;
    await observeKeyCountry(ctx, key, ip);
    if (remembered.known <= 1) return;
    await raiseAlert(ctx.db, ctx, {
      serviceId: key.serviceId,
      accountId: key.accountId,
      detector: 'key_new_network',
      subject: `key:${key.keyId}`,
      summary: `API key "${key.name}" was used from a network it had not used before (${network})`,
      details: { key_id: key.keyId, network, ip },
    });
  } catch (err) {
    ctx.log.error({ err }, 'key network detector failed');
  }
}

async function observeKeyCountry(ctx: AppContext, key: { keyId: string; serviceId: string; accountId: string; name: string }, ip: string): Promise<void> {
  const country = countryOf(ctx.alerts?.geoIpDatabase, ip);
  if (country === undefined) return;
  const remembered = await repo.rememberKeyCountry(ctx.db, key.keyId, country, ctx.clock.now());
  if (!remembered.isNew || remembered.known <= 1) return;
  await raiseAlert(ctx.db, ctx, {
    serviceId: key.serviceId,
    accountId: key.accountId,
    detector: 'key_new_country',
    subject: `key:${key.keyId}`,
    severity: 'critical',
    summary: `API key "${key.name}" was used from a country it had not been used from before (${country})`,
    details: { key_id: key.keyId, country, ip },
  });
}

export async function observeRefusedKey(ctx: AppContext, refusal: { code: string; keyId: string; serviceId: string; accountId: string }, ip: string): Promise<void> {
  const expired = refusal.code === 'EXPIRED';
  // Counted like the threshold detectors, so a flood of refused requests is batched.
  const occurrences = await countEvent(ctx.db, ctx, 'key_revoked_use', `key:${refusal.keyId}`).catch((err: unknown) => {
    ctx.log.error({ err }, 'revoked-key detector failed');
    return 0;
  });
  if (occurrences === 0) return;
  await raiseAlert(ctx.db, ctx, {
    occurrences,
    serviceId: refusal.serviceId,
    accountId: refusal.accountId,
    detector: 'key_revoked_use',
    subject: `key:${refusal.keyId}`,
    severity: expired ? 'warning' : 'critical',
    summary: `Someone used the ${expired ? 'expired' : 'revoked'} API key ${refusal.keyId}`,
    details: { key_id: refusal.keyId, reason: expired ? 'expired' : 'revoked', ip },
  });
}
