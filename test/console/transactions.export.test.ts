// The CSV export over HTTP past one page of the API's search (500): every payment exactly once,
// newest first, and payments created after the export started are left for the next one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { enrolledUser, type EnrolledUser } from './helpers.js';
import { sessionCookie } from './browser-session.js';
import { createPayment, type Caller } from '../../src/payments/payment.service.js';
import { findAccountByServiceAndMode } from '../../src/services/service.repo.js';

let coffer: TestCoffer;
let user: EnrolledUser;
let caller: Caller;
before(async () => {
  coffer = await startCoffer();
  user = await enrolledUser(coffer, { role: 'view-only' });
  const account = await findAccountByServiceAndMode(coffer.ctx.db, user.serviceId, 'test');
  caller = { accountId: account!.id, serviceId: user.serviceId, mode: 'test' };
});
after(async () => coffer.close());

test('an export longer than one search page has every payment once, newest first', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 503; i++) {
    // Through the payments service rather than HTTP: the API's own path, without 503 round trips.
    const created = await createPayment(coffer.ctx, caller, { amount: 100 + i, reference: `EXP-${i}`, description: 'Export', return_url: 'https://service.example.org/return' });
    ids.push(created.payment.payment_id);
    if (i % 10 === 9) coffer.clock.advance(1000); // several payments share a second, as they do
  }
  coffer.clock.advance(1000);
  const response = await fetch(`${coffer.url}/console/services/${user.serviceId}/test/transactions.csv`, { headers: { cookie: sessionCookie(user) } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const lines = (await response.text()).replace(/^\uFEFF/, '').split('\r\n').filter(Boolean);
  assert.equal(lines.length, 1 + 503);
  const exported = lines.slice(1).map((line) => /^"([^"]+)"/.exec(line)![1]!);
  assert.equal(new Set(exported).size, 503, 'no payment twice');
  assert.deepEqual(new Set(exported), new Set(ids));
  // Newest first, second by second (within one second the order is by id).
  assert.deepEqual(new Set(exported.slice(0, 3)), new Set(ids.slice(500)));
  assert.deepEqual(new Set(exported.slice(-10)), new Set(ids.slice(0, 10)));
});
