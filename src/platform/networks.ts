// IP ranges (IPv4 and IPv6 CIDR) for allow-lists, on Node's own net.BlockList.
import { BlockList, isIP } from 'node:net';

export interface ParsedCidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address; undefined when it is not one. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const [address, prefixText, ...rest] = text.trim().split('/');
  if (address === undefined || rest.length > 0) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    return undefined;
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Normalises an IPv4-mapped IPv6 address (::ffff:1.2.3.4) to plain IPv4. */
export function normaliseIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped?.[1] ?? ip;
}

export class IpAllowList {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new TypeError(`not an IP range: ${cidr}`);
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.empty = cidrs.length === 0;
  }

  /** An empty list allows everything. */
  allows(ip: string): boolean {
    if (this.empty) return true;
    const address = normaliseIp(ip);
    const version = isIP(address);
    if (version === 0) return false;
    return this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
