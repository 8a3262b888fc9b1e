// Roles and what each may do, as one table. The console checks `can(role, permission)` on the
// server for every action; pages only hide what the table already refuses. A role is held per
// service, so a user may administer one service and only view another.

export const PERMISSIONS = [
  'dashboard:view',
  'transactions:view',
  'transactions:export',
  'refunds:create',
  'payments:capture',
  'payments:cancel',
  'keys:view',
  'keys:manage',
  'webhooks:view',
  'webhooks:manage',
  'team:view',
  'team:manage',
  'settings:view',
  'settings:manage',
  'live:manage',
  'access-review:record',
  'alerts:view',
  'alerts:acknowledge',
  'audit:view',
  'payouts:create',
  'payouts:approve',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['administrator', 'view-and-refund', 'view-only', 'developer', 'payout-maker', 'payout-approver'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Roles that can be given today. The payout roles are in the table so the permission model has
 * room for them (maker and approver kept apart: no one role both creates and approves), but
 * cannot be assigned until payouts exist.
 */
export const ASSIGNABLE_ROLES: readonly Role[] = ['administrator', 'view-and-refund', 'view-only', 'developer'];

const VIEW: readonly Permission[] = ['dashboard:view', 'transactions:view', 'transactions:export'];

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  // Everything about running the service, but not payouts: separation of duties keeps those
  // with the dedicated maker and approver roles.
  administrator: new Set(PERMISSIONS.filter((p) => !p.startsWith('payouts:'))),
  'view-and-refund': new Set([...VIEW, 'refunds:create', 'payments:capture', 'payments:cancel']),
  'view-only': new Set(VIEW),
  developer: new Set(['keys:view', 'keys:manage', 'webhooks:view', 'webhooks:manage']),
  'payout-maker': new Set(['dashboard:view', 'transactions:view', 'payouts:create']),
  'payout-approver': new Set(['dashboard:view', 'transactions:view', 'payouts:approve']),
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

export function permissionsOf(role: Role): Permission[] {
  return PERMISSIONS.filter((p) => GRANTS[role].has(p));
}

/** Actions that ask for the second factor again unless it was given in the last 5 minutes. */
export const STEP_UP_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  'refunds:create',
  'keys:manage',
  'webhooks:manage',
  'team:manage',
  'live:manage',
  'payouts:approve',
]);

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isAssignableRole(value: string): value is Role {
  return (ASSIGNABLE_ROLES as readonly string[]).includes(value);
}
