// SSRF guard for webhook deliveries. A target is allowed only when the address Coffer will
// connect to is globally routable unicast: loopback, private, link-local (169.254.169.254, the
// cloud metadata service, included), carrier-grade NAT, unique-local, multicast, unspecified,
// documentation, benchmarking, 6to4/Teredo/NAT64 and other special ranges are refused, and
// IPv4-mapped IPv6 (::ffff:10.0.0.1, also written ::ffff:a00:1) is judged as the IPv4 inside it.
// Names are resolved here, and the sender connects to the very address judged, so DNS cannot
// answer differently between the check and the connection (no rebinding window).
// Test-mode endpoints may be allowed named ranges or CIDRs by the operator (the tests need
// loopback); live endpoints never are.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has; the default is the system resolver. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/** Range names an operator may allow for test endpoints (ipaddr.js's names). */
export const NAMED_RANGES = ['loopback', 'private', 'linkLocal', 'uniqueLocal', 'carrierGradeNat', 'reserved', 'unspecified'] as const;

export interface NetworkExceptions {
  names: string[];
  cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

/** Parses `loopback,private,10.1.0.0/16`; returns the items it could not read as problems. */
export function parseNetworkExceptions(items: readonly string[]): { exceptions: NetworkExceptions; problems: string[] } {
  const exceptions: NetworkExceptions = { names: [], cidrs: [] };
  const problems: string[] = [];
  for (const raw of items) {
    const item = raw.trim();
    if (item === '') continue;
    if ((NAMED_RANGES as readonly string[]).includes(item)) {
      exceptions.names.push(item);
      continue;
    }
    try {
      exceptions.cidrs.push(item.includes('/') ? ipaddr.parseCIDR(item) : [ipaddr.parse(item), isIP(item) === 6 ? 128 : 32]);
    } catch {
      problems.push(item);
    }
  }
  return { exceptions, problems };
}

export const NO_EXCEPTIONS: NetworkExceptions = { names: [], cidrs: [] };

/** The address as it will be judged: IPv4-mapped IPv6 becomes its IPv4. */
function normalised(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

export function judgeAddress(address: string, exceptions: NetworkExceptions = NO_EXCEPTIONS): AddressVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, range: 'invalid' };
  const ip = normalised(address);
  let range: string = ip.range();
  if (range === 'unicast' && ip.kind() === 'ipv6' && !ip.match(GLOBAL_UNICAST_V6)) range = 'reserved';
  if (range === 'unicast') return { allowed: true };
  if (exceptions.names.includes(range)) return { allowed: true };
  if (exceptions.cidrs.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return { allowed: true };
  return { allowed: false, range };
}

export class BlockedAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`${host} resolves to ${address} (${range}), which webhooks may not reach`);
    this.name = 'BlockedAddressError';
  }
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Picks the address to connect to: a literal IP as it is, a name through the resolver. Every
 * resolved address must be allowed (a name with one private address among public ones is
 * refused: it is either a misconfiguration or an attempt to reach inside).
 */
export async function resolveTarget(url: URL, resolver: HostResolver, exceptions: NetworkExceptions): Promise<ResolvedAddress> {
  const host = hostOf(url);
  const literal = isIP(host);
  const candidates: ResolvedAddress[] = literal !== 0 ? [{ address: host, family: literal === 6 ? 6 : 4 }] : await resolver(host);
  if (candidates.length === 0) throw new Error(`${host} did not resolve`);
  for (const candidate of candidates) {
    const verdict = judgeAddress(candidate.address, exceptions);
    if (!verdict.allowed) throw new BlockedAddressError(host, candidate.address, verdict.range);
  }
  return candidates[0] as ResolvedAddress;
}
