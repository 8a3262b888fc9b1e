// Which country an address is registered to, from a MaxMind-format (MMDB) country database held
// in memory. By default the database is the public-domain (CC0) geo-whois-asn-country one that
// ships as a dependency, so country detection works out of the box; an operator who keeps a
// fresher database (for example MaxMind GeoLite2-Country) names it in COFFER_GEOIP_DB, or turns
// country detection off with COFFER_GEOIP_DB=off. Loaded on first use, so CLI commands never pay.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'mmdb-lib';

export type GeoIpSetting = string | 'off' | undefined;

interface CountryRecord {
  /** geo-whois-asn-country and the other ip-location-db databases */
  country_code?: string;
  /** MaxMind GeoLite2 / GeoIP2 Country */
  country?: { iso_code?: string };
}

const readers = new Map<string, Reader<Response> | null>();
const require = createRequire(import.meta.url);

function defaultDatabase(): string {
  return require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

/** The database file a setting names, or undefined when country detection is off. */
export function geoIpDatabase(setting: GeoIpSetting): string | undefined {
  if (setting === 'off') return undefined;
  return setting ?? defaultDatabase();
}

function readerFor(path: string): Reader<Response> | null {
  if (!readers.has(path)) readers.set(path, new Reader<Response>(readFileSync(path)));
  return readers.get(path) ?? null;
}

/** ISO 3166 alpha-2 code of the address's country; undefined for private addresses or unknown ones. */
export function countryOf(setting: GeoIpSetting, ip: string): string | undefined {
  const path = geoIpDatabase(setting);
  if (path === undefined) return undefined;
  if (!isPublicUnicast(ip)) return undefined;
  let record: CountryRecord | null;
  try {
    record = (readerFor(path)?.get(ip) ?? null) as CountryRecord | null;
  } catch {
    return undefined; // not an address the database can look up
  }
  const code = record?.country_code ?? record?.country?.iso_code;
  return typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? code : undefined;
}

/**
 * Only public addresses have a country. Registry data also covers reserved blocks (the
 * documentation ranges, for one, are registered to a regional registry), so those are skipped.
 */
function isPublicUnicast(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.range() === 'unicast';
}

/** Opens the database now, so a bad COFFER_GEOIP_DB is reported at start, not at the first request. */
export function checkGeoIpDatabase(setting: GeoIpSetting): string | undefined {
  const path = geoIpDatabase(setting);
  if (path === undefined) return undefined;
  try {
    readerFor(path);
    return undefined;
  } catch (err) {
    return `cannot read the GeoIP database ${path}: ${(err as Error).message}`;
  }
}
