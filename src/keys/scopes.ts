// What an API key may do. A key holds a list of these; each route names the one it needs.

export const SCOPES = [
  'payments:read',
  'payments:write',
  'refunds:read',
  'refunds:write',
  'agreements:read',
  'agreements:write',
  'payouts:read',
  'payouts:write',
  'webhooks:read',
  'webhooks:write',
  'keys:read',
  'keys:write',
  // The account's own audit entries (read only: nobody writes the audit log through the API).
  'audit:read',
] as const;

export type Scope = (typeof SCOPES)[number];

/** What a key gets when none are named: the whole payments API, as a GOV.UK Pay key has. */
export const DEFAULT_SCOPES: readonly Scope[] = ['payments:read', 'payments:write', 'refunds:read', 'refunds:write'];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Expands `payments:*` to its read and write scopes; undefined for anything unknown. */
export function expandScope(value: string): Scope[] | undefined {
  if (isScope(value)) return [value];
  const wildcard = /^([a-z]+):\*$/.exec(value);
  if (!wildcard) return undefined;
  const matches = SCOPES.filter((s) => s.startsWith(`${wildcard[1]}:`));
  return matches.length > 0 ? matches : undefined;
}

/** A write scope implies the matching read scope. */
export function grants(held: readonly string[], needed: Scope): boolean {
  if (held.includes(needed)) return true;
  return needed.endsWith(':read') && held.includes(needed.replace(/:read$/, ':write'));
}
