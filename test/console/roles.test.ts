// The permission table, checked cell by cell against the matrix written out by hand here, so a
// change to roles.ts that grants or removes anything fails until this table agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSIGNABLE_ROLES, can, PERMISSIONS, ROLES, STEP_UP_PERMISSIONS, type Permission, type Role } from '../../src/console/identity/roles.js';

// Columns: admin, view-and-refund, view-only, developer, payout-maker, payout-approver.
const MATRIX: Record<Permission, [number, number, number, number, number, number]> = {
  'dashboard:view':       [1, 1, 1, 0, 1, 1],
  'transactions:view':    [1, 1, 1, 0, 1, 1],
  'transactions:export':  [1, 1, 1, 0, 0, 0],
  'refunds:create':       [1, 1, 0, 0, 0, 0],
  'payments:capture':     [1, 1, 0, 0, 0, 0],
  'payments:cancel':      [1, 1, 0, 0, 0, 0],
  'keys:view':            [1, 0, 0, 1, 0, 0],
  'keys:manage':          [1, 0, 0, 1, 0, 0],
  'webhooks:view':        [1, 0, 0, 1, 0, 0],
  'webhooks:manage':      [1, 0, 0, 1, 0, 0],
  'team:view':            [1, 0, 0, 0, 0, 0],
  'team:manage':          [1, 0, 0, 0, 0, 0],
  'settings:view':        [1, 0, 0, 0, 0, 0],
  'settings:manage':      [1, 0, 0, 0, 0, 0],
  'live:manage':          [1, 0, 0, 0, 0, 0],
  'access-review:record': [1, 0, 0, 0, 0, 0],
  'alerts:view':          [1, 0, 0, 0, 0, 0],
  'alerts:acknowledge':   [1, 0, 0, 0, 0, 0],
  'audit:view':           [1, 0, 0, 0, 0, 0],
  'payouts:create':       [0, 0, 0, 0, 1, 0],
  'payouts:approve':      [0, 0, 0, 0, 0, 1],
};
const ORDER: Role[] = ['administrator', 'view-and-refund', 'view-only', 'developer', 'payout-maker', 'payout-approver'];

test('the matrix covers exactly the roles and permissions that exist', () => {
  assert.deepEqual([...ROLES].sort(), [...ORDER].sort());
  assert.deepEqual(Object.keys(MATRIX).sort(), [...PERMISSIONS].sort());
});

test('can(role, permission) agrees with the matrix in every cell', () => {
  let cells = 0;
  for (const permission of PERMISSIONS) {
    ORDER.forEach((role, i) => {
      assert.equal(can(role, permission), MATRIX[permission][i] === 1, `${role} × ${permission}`);
      cells++;
    });
  }
  assert.equal(cells, ROLES.length * PERMISSIONS.length);
});

test('no role both makes and approves payouts', () => {
  for (const role of ROLES) assert.ok(!(can(role, 'payouts:create') && can(role, 'payouts:approve')), role);
});

test('payout roles exist but cannot be assigned yet', () => {
  assert.deepEqual([...ASSIGNABLE_ROLES], ['administrator', 'view-and-refund', 'view-only', 'developer']);
});

test('refunds, key and webhook changes, team changes, live switch and payout approval need step-up', () => {
  assert.deepEqual([...STEP_UP_PERMISSIONS].sort(), ['keys:manage', 'live:manage', 'payouts:approve', 'refunds:create', 'team:manage', 'webhooks:manage']);
});
