// The inactivity worker disables users who have not signed in for 90 days. It looks at every
// user in the store, so on PostgreSQL this file works in a database of its own: other test files
// sharing the database (with clocks of their own) are never touched by it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { keysCreatedBy, userActor } from '../../src/console/access/leaver.service.js';
import { inactiveUsersWorker } from '../../src/console/access/inactivity.worker.js';
import { createKey } from '../../src/keys/key.service.js';
import { enrolledUser } from './helpers.js';

let coffer: TestCoffer;

before(async () => {
  coffer = await startIsolatedCoffer();
});
after(async () => {
  await coffer.close();
});

const DAY = 86_400_000;

async function keyBy(serviceId: string, userId: string) {
  return createKey(coffer.ctx, { serviceId, mode: 'test', name: 'integration', createdBy: userActor(userId) });
}

async function apiStatus(token: string): Promise<number> {
  return (await coffer.request('GET', '/v1/account', { key: token })).status;
}

describe('inactivity', () => {
  test('users with no sign-in for 90 days are disabled and signed out; their keys are left alone', async () => {
    // Start from a clean slate: accounts made by earlier tests go quiet at the same time.
    coffer.clock.advance(91 * DAY);
    await inactiveUsersWorker.run(coffer.ctx);
    const quiet = await enrolledUser(coffer, { role: 'developer' });
    const key = await keyBy(quiet.serviceId, quiet.userId);
    coffer.clock.advance(60 * DAY);
    const active = await enrolledUser(coffer, { serviceId: quiet.serviceId, role: 'view-only' });
    coffer.clock.advance(30 * DAY - 60_000);
    assert.deepEqual(await inactiveUsersWorker.run(coffer.ctx), { handled: 0, more: false });
    coffer.clock.advance(60_000);
    assert.deepEqual(await inactiveUsersWorker.run(coffer.ctx), { handled: 1, more: false });
    const rows = await coffer.ctx.db.selectFrom('console_users').select(['id', 'status', 'disabled_by', 'disabled_reason']).where('id', 'in', [quiet.userId, active.userId]).execute();
    const quietRow = rows.find((r) => r.id === quiet.userId)!;
    assert.equal(quietRow.status, 'disabled');
    assert.equal(quietRow.disabled_by, 'system:inactivity');
    assert.equal(quietRow.disabled_reason, 'no sign-in for 90 days');
    assert.equal(rows.find((r) => r.id === active.userId)!.status, 'active');
    assert.equal(await apiStatus(key.token), 200);
    assert.deepEqual(await keysCreatedBy(coffer.ctx, quiet.serviceId, quiet.userId).then((k) => k.length), 1);
  });

  test('configurable, and 0 turns it off', async () => {
    coffer.clock.advance(91 * DAY);
    await inactiveUsersWorker.run(coffer.ctx);
    const user = await enrolledUser(coffer);
    coffer.ctx.console = { inactiveDisableAfterMs: 0 };
    try {
      coffer.clock.advance(400 * DAY);
      assert.deepEqual(await inactiveUsersWorker.run(coffer.ctx), { handled: 0, more: false });
      coffer.ctx.console = { inactiveDisableAfterMs: 30 * DAY };
      assert.equal((await inactiveUsersWorker.run(coffer.ctx)).handled, 1);
      const row = await coffer.ctx.db.selectFrom('console_users').select(['status', 'disabled_reason']).where('id', '=', user.userId).executeTakeFirstOrThrow();
      assert.deepEqual(row, { status: 'disabled', disabled_reason: 'no sign-in for 30 days' });
    } finally {
      delete coffer.ctx.console;
    }
  });
});
