// Every domain action leaves its audit entry, written with the change: who, what, which object,
// when (UTC, from the clock), from where (IP through a trusted proxy, user agent), outcome and
// request id; and never a card number, CVC, key, password, TOTP secret or signing secret.
// One table of actions, each driven the way a person drives it (HTTP where there is a route,
// the CLI's operation runner, a worker's run), on the store under test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { runOperation } from '../../src/main/operations.js';
import { totpCodeAt } from '../../src/console/mfa/totp.js';
import { changeRole } from '../../src/console/identity/user.service.js';
import { removeMember } from '../../src/console/access/leaver.service.js';
import { paymentExpiryWorker } from '../../src/payments/payment.workers.js';
import { webhookFanoutWorker } from '../../src/webhooks/fanout.worker.js';
import { deliverDueMessages } from '../../src/webhooks/delivery.worker.js';
import { confirmPayment } from '../../src/payments/payer-journey.service.js';
import type { AuditRow } from '../../src/audit/audit.tables.js';
import { cardForm, csrfOf, PayerClient } from '../hosted/payer-client.js';
import { authorised, paid } from '../payments/support.js';
import { enrolledUser, PASSWORD, type EnrolledUser } from '../console/helpers.js';
import { auditRows } from './audit-support.js';

// Requests arrive through a trusted proxy that names the client, so the IP in each entry is
// one this run chose (and the console's per-IP throttle, which outlives a run on PostgreSQL,
// never sees the same address twice).
const CLIENT_IP = `198.18.${randomInt(256)}.${randomInt(1, 255)}`;
const UA = 'audit-domain-test/1.0';
const VIA_PROXY = { 'user-agent': UA, 'x-forwarded-for': CLIENT_IP };

const PAN = '4444333322221111';
const DECLINED_PAN = '4000000000000002';
const ERROR_PAN = '4000000000000119';

let coffer: TestCoffer;
let gone: Server;
let goneUrl: string;
/** Everything secret this run handled: none of it may appear in any entry. */
const secrets = new Set<string>([PAN, DECLINED_PAN, ERROR_PAN, PASSWORD]);

before(async () => {
  coffer = await startIsolatedCoffer({ trustedProxies: ['127.0.0.1'] });
  // A webhook receiver that has gone away for good: its first 410 disables the endpoint.
  gone = createServer((_req, res) => res.writeHead(410).end());
  await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
  goneUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/hook`;
});
after(async () => {
  await coffer.close();
  await new Promise((resolve) => gone.close(resolve));
});

interface Expected {
  action: string;
  object: { type: string; id: string } | null;
  actor: { type: string; id: string };
  outcome?: 'success' | 'failure' | 'denied';
  serviceId?: string | null;
  /** The request that caused it; null for workers and direct service calls. */
  requestId: string | null;
  via: 'http' | 'cli' | 'none';
  details?: Record<string, unknown>;
  /** When the change happened, if the clock moved on after it (default: the clock after the run). */
  at?: Date;
}

interface Case {
  name: string;
  run(): Promise<Expected>;
}

async function tenant(scopes?: string[]) {
  const t = await coffer.newTenant(scopes ? { scopes } : {});
  secrets.add(t.token);
  return t;
}

async function api(method: string, path: string, key: string, body?: unknown) {
  const response = await coffer.request(method, path, { key, body, headers: VIA_PROXY });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${response.text}`);
  return { body: response.body, requestId: response.headers.get('x-request-id')! };
}

/** A payer on the hosted pages, through the proxy, submitting a card; returns the submit's request id. */
async function payWithCard(number: string): Promise<{ paymentId: string; serviceId: string; requestId: string }> {
  const t = await tenant();
  const created = await api('POST', '/v1/payments', t.token, { amount: 1200, reference: 'AUD-1', description: 'Audit', return_url: 'https://service.example.org/return' });
  const payer = new PayerClient(coffer, VIA_PROXY);
  const exchanged = await payer.get(String(created.body._links.next_url.href).replace(coffer.url, ''));
  assert.equal(exchanged.status, 303, exchanged.html);
  const page = await payer.get(exchanged.location!);
  const submitted = await payer.submit(page, exchanged.location!, cardForm(number));
  assert.equal(submitted.status, 303, submitted.html);
  return { paymentId: created.body.payment_id as string, serviceId: t.serviceId, requestId: submitted.headers.get('x-request-id')! };
}

const consoleUser = async (role = 'administrator', serviceId?: string): Promise<EnrolledUser> => {
  const user = await enrolledUser(coffer, { role, ...(serviceId ? { serviceId } : {}) });
  secrets.add(user.totpSecret);
  for (const code of user.recoveryCodes) secrets.add(code);
  return user;
};

/** The console through the proxy, as a browser without JavaScript: pages, forms, cookies. */
async function consoleSignIn(user: EnrolledUser, password: string) {
  const browser = new PayerClient(coffer, VIA_PROXY);
  const form = await browser.get('/console/sign-in');
  const answer = await browser.submit(form, '/console/sign-in', { email: user.email, password });
  return { browser, answer };
}

const CASES: Case[] = [
  {
    name: 'payment.create (one statement, no Idempotency-Key)',
    async run() {
      const t = await tenant();
      const { body, requestId } = await api('POST', '/v1/payments', t.token, { amount: 1250, reference: 'REF-1', description: 'Licence', return_url: 'https://service.example.org/r' });
      return { action: 'payment.create', object: { type: 'payment', id: body.payment_id }, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId, via: 'http', details: { amount: 1250, reference: 'REF-1' } };
    },
  },
  {
    name: 'payment.create (with an Idempotency-Key, in its transaction)',
    async run() {
      const t = await tenant();
      const response = await coffer.request('POST', '/v1/payments', {
        key: t.token,
        headers: { ...VIA_PROXY, 'idempotency-key': `aud-${randomInt(1e9)}` },
        body: { amount: 900, reference: 'REF-2', description: 'Licence', return_url: 'https://service.example.org/r' },
      });
      assert.equal(response.status, 201, response.text);
      return { action: 'payment.create', object: { type: 'payment', id: response.body.payment_id }, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId: response.headers.get('x-request-id'), via: 'http', details: { amount: 900 } };
    },
  },
  {
    name: 'payment.authorise, success, with brand and last four only',
    async run() {
      const paid = await payWithCard(PAN);
      return { action: 'payment.authorise', object: { type: 'payment', id: paid.paymentId }, actor: { type: 'anonymous', id: 'payer' }, serviceId: paid.serviceId, requestId: paid.requestId, via: 'http', details: { result: 'authorised', card_brand: 'visa', last_four: '1111' } };
    },
  },
  {
    name: 'payment.authorise, declined',
    async run() {
      const paid = await payWithCard(DECLINED_PAN);
      return { action: 'payment.authorise', object: { type: 'payment', id: paid.paymentId }, actor: { type: 'anonymous', id: 'payer' }, outcome: 'failure', serviceId: paid.serviceId, requestId: paid.requestId, via: 'http', details: { result: 'declined', last_four: '0002' } };
    },
  },
  {
    name: 'payment.authorise, processor error',
    async run() {
      const paid = await payWithCard(ERROR_PAN);
      return { action: 'payment.authorise', object: { type: 'payment', id: paid.paymentId }, actor: { type: 'anonymous', id: 'payer' }, outcome: 'failure', serviceId: paid.serviceId, requestId: paid.requestId, via: 'http', details: { result: 'error', last_four: '0119' } };
    },
  },
  {
    name: 'payment.capture',
    async run() {
      const t = await tenant();
      const id = await authorised(coffer, t.token, { delayed_capture: true });
      assert.equal((await confirmPayment(coffer.ctx, id)).outcome, 'capturable');
      const { requestId } = await api('POST', `/v1/payments/${id}/capture`, t.token);
      return { action: 'payment.capture', object: { type: 'payment', id }, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId, via: 'http', details: { event: 'capture' } };
    },
  },
  {
    name: 'payment.cancel (by the service)',
    async run() {
      const t = await tenant();
      const created = await api('POST', '/v1/payments', t.token, { amount: 100, reference: 'C', description: 'Cancel me', return_url: 'https://service.example.org/r' });
      const { requestId } = await api('POST', `/v1/payments/${created.body.payment_id}/cancel`, t.token);
      return { action: 'payment.cancel', object: { type: 'payment', id: created.body.payment_id }, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId, via: 'http', details: { event: 'cancel_by_service' } };
    },
  },
  {
    name: 'refund.create',
    async run() {
      const t = await tenant();
      const id = await paid(coffer, t.token);
      const { body, requestId } = await api('POST', `/v1/payments/${id}/refunds`, t.token, { amount: 500 });
      return { action: 'refund.create', object: { type: 'refund', id: body.refund_id }, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId, via: 'http', details: { payment_id: id, amount: 500 } };
    },
  },
  {
    name: 'key.revoke and key.roll over the API',
    async run() {
      const admin = await tenant(['keys:write']);
      const other = await coffer.newKey(admin.serviceId);
      secrets.add(other.token);
      const rolled = await api('POST', `/v1/keys/${other.id}/roll`, admin.token, { overlap: '1h' });
      secrets.add(String(rolled.body.token ?? rolled.body.key ?? ''));
      const [roll] = await auditRows(coffer.ctx, { action: 'key.roll', object_id: other.id });
      assert.equal(roll?.request_id, rolled.requestId);
      const { requestId } = await api('POST', `/v1/keys/${other.id}/revoke`, admin.token, { reason: 'rotated' });
      return { action: 'key.revoke', object: { type: 'key', id: other.id }, actor: { type: 'key', id: admin.keyId }, serviceId: admin.serviceId, requestId, via: 'http', details: { reason: 'rotated' } };
    },
  },
  {
    name: 'webhook.create',
    async run() {
      const t = await tenant(['webhooks:write']);
      const { body, requestId } = await api('POST', '/v1/webhooks', t.token, { callback_url: 'http://127.0.0.1:9/hook', description: 'Finance' });
      secrets.add(body.signing_secret);
      return { action: 'webhook.create', object: { type: 'webhook', id: body.webhook.id }, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId, via: 'http', details: { url: 'http://127.0.0.1:9/hook' } };
    },
  },
  {
    name: 'webhook.update',
    async run() {
      const t = await tenant(['webhooks:write']);
      const created = await api('POST', '/v1/webhooks', t.token, { callback_url: 'http://127.0.0.1:9/hook' });
      secrets.add(created.body.signing_secret);
      const { requestId } = await api('PATCH', `/v1/webhooks/${created.body.webhook.id}`, t.token, { description: 'Renamed' });
      return { action: 'webhook.update', object: { type: 'webhook', id: created.body.webhook.id }, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId, via: 'http', details: { changes: { description: 'Renamed' } } };
    },
  },
  {
    name: 'webhook.rotate_secret',
    async run() {
      const t = await tenant(['webhooks:write']);
      const created = await api('POST', '/v1/webhooks', t.token, { callback_url: 'http://127.0.0.1:9/hook' });
      secrets.add(created.body.signing_secret);
      const rotated = await api('POST', `/v1/webhooks/${created.body.webhook.id}/rotate-secret`, t.token, { overlap: '0' });
      secrets.add(rotated.body.signing_secret);
      return { action: 'webhook.rotate_secret', object: { type: 'webhook', id: created.body.webhook.id }, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId: rotated.requestId, via: 'http', details: { overlap_ms: 0 } };
    },
  },
  {
    name: 'webhook.resend, then webhook.endpoint_disabled by the delivery worker (410 Gone)',
    async run() {
      const t = await tenant(['webhooks:write', 'payments:write']);
      const created = await api('POST', '/v1/webhooks', t.token, { callback_url: goneUrl, subscriptions: ['card_payment_cancelled'] });
      secrets.add(created.body.signing_secret);
      const webhookId = created.body.webhook.id as string;
      const payment = await api('POST', '/v1/payments', t.token, { amount: 100, reference: 'W', description: 'Webhook', return_url: 'https://service.example.org/r' });
      await api('POST', `/v1/payments/${payment.body.payment_id}/cancel`, t.token);
      // On PostgreSQL the fan-out passes an event once every older transaction has ended; another
      // file's transaction on the same database may hold it back for a moment.
      let messages = await api('GET', `/v1/webhooks/${webhookId}/messages`, t.token);
      for (const deadline = Date.now() + 10_000; messages.body.results.length === 0 && Date.now() < deadline; ) {
        while ((await webhookFanoutWorker.run(coffer.ctx)).more);
        messages = await api('GET', `/v1/webhooks/${webhookId}/messages`, t.token);
        if (messages.body.results.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const messageId = messages.body.results[0].id as string;
      const resent = await api('POST', `/v1/webhooks/${webhookId}/messages/${messageId}/resend`, t.token);
      const [resend] = await auditRows(coffer.ctx, { action: 'webhook.resend', object_id: messageId });
      assert.equal(resend?.request_id, resent.requestId);
      assert.equal(resend?.actor_id, t.keyId);
      await deliverDueMessages(coffer.ctx);
      return { action: 'webhook.endpoint_disabled', object: { type: 'webhook', id: webhookId }, actor: { type: 'system', id: 'webhook-delivery' }, serviceId: t.serviceId, requestId: null, via: 'none', details: { reason: 'The endpoint answered 410 Gone' } };
    },
  },
  {
    name: 'console.mfa_enrol (first factor, at invitation)',
    async run() {
      const at = coffer.clock.now();
      const user = await consoleUser();
      return { at, action: 'console.mfa_enrol', object: { type: 'user', id: user.userId }, actor: { type: 'user', id: user.userId }, requestId: null, via: 'none', details: { method: 'totp', first: true } };
    },
  },
  {
    name: 'console.sign_in refused (wrong password)',
    async run() {
      const user = await consoleUser();
      const { answer } = await consoleSignIn(user, 'not the password at all');
      assert.equal(answer.status, 401);
      return { action: 'console.sign_in', object: { type: 'user', id: user.userId }, actor: { type: 'user', id: user.userId }, outcome: 'denied', requestId: answer.headers.get('x-request-id'), via: 'http', details: { reason: 'bad-password' } };
    },
  },
  {
    name: 'console.sign_in, then session.end on sign-out',
    async run() {
      const user = await consoleUser();
      const { browser, answer } = await consoleSignIn(user, PASSWORD);
      assert.equal(answer.status, 303, answer.html);
      const mfa = await browser.get('/console/sign-in/mfa');
      const done = await browser.submit(mfa, '/console/sign-in/mfa', { code: totpCodeAt(user.totpSecret, coffer.clock.now()) });
      assert.equal(done.status, 303, done.html);
      const signIns = (await auditRows(coffer.ctx, { action: 'console.sign_in', actor_id: user.userId })).filter((r) => r.outcome === 'success');
      assert.equal(signIns.at(-1)?.request_id, done.headers.get('x-request-id'));
      assert.equal(signIns.at(-1)?.ip, CLIENT_IP);
      const home = await browser.get('/console');
      const out = await browser.post('/console/sign-out', { csrf_token: csrfOf(home.html) });
      assert.ok(out.status === 303 || out.status === 302, out.html);
      return { action: 'session.end', object: { type: 'user', id: user.userId }, actor: { type: 'user', id: user.userId }, requestId: out.headers.get('x-request-id'), via: 'http', details: { reason: 'signed-out' } };
    },
  },
  {
    name: 'user.invite from the CLI',
    async run() {
      const serviceId = await coffer.newService();
      const invite = (await runOperation(coffer.ctx, 'user.invite', { email: 'new.person@example.org', serviceId, role: 'view-only' }, 'operator:dora')) as { link: string };
      secrets.add(invite.link.split('/').at(-1)!);
      const [row] = await auditRows(coffer.ctx, { action: 'user.invite', service_id: serviceId });
      return { action: 'user.invite', object: { type: 'invite', id: row!.object_id! }, actor: { type: 'operator', id: 'operator:dora' }, serviceId, requestId: null, via: 'cli', details: { email: 'new.person@example.org', role: 'view-only' } };
    },
  },
  {
    name: 'user.role_change by an administrator',
    async run() {
      const admin = await consoleUser();
      const member = await consoleUser('view-only', admin.serviceId);
      await changeRole(coffer.ctx, { session: admin.session, serviceId: admin.serviceId, role: 'administrator' }, member.userId, 'view-and-refund');
      return { action: 'user.role_change', object: { type: 'user', id: member.userId }, actor: { type: 'user', id: admin.userId }, serviceId: admin.serviceId, requestId: null, via: 'none', details: { from: 'view-only', to: 'view-and-refund' } };
    },
  },
  {
    name: 'user.remove by an administrator',
    async run() {
      const admin = await consoleUser();
      const member = await consoleUser('view-only', admin.serviceId);
      await removeMember(coffer.ctx, { session: admin.session, serviceId: admin.serviceId, role: 'administrator' }, member.userId, []);
      return { action: 'user.remove', object: { type: 'user', id: member.userId }, actor: { type: 'user', id: admin.userId }, serviceId: admin.serviceId, requestId: null, via: 'none', details: { role: 'view-only' } };
    },
  },
  {
    name: 'user.disable from the CLI',
    async run() {
      const user = await consoleUser();
      await runOperation(coffer.ctx, 'user.disable', { email: user.email, confirmedKeyIds: [], reason: 'left' }, 'operator:erin');
      return { action: 'user.disable', object: { type: 'user', id: user.userId }, actor: { type: 'operator', id: 'operator:erin' }, requestId: null, via: 'cli', details: { reason: 'left' } };
    },
  },
  {
    name: 'audit.read over the API',
    async run() {
      const t = await tenant(['audit:read']);
      const { requestId } = await api('GET', '/v1/audit?action=payment.*', t.token);
      return { action: 'audit.read', object: null, actor: { type: 'key', id: t.keyId }, serviceId: t.serviceId, requestId, via: 'http', details: { returned: 0 } };
    },
  },
  {
    name: 'payment.expire by the expiry worker, as the system',
    async run() {
      const t = await tenant();
      const created = await api('POST', '/v1/payments', t.token, { amount: 100, reference: 'E', description: 'Expire me', return_url: 'https://service.example.org/r' });
      coffer.clock.advance(91 * 60_000);
      while ((await paymentExpiryWorker.run(coffer.ctx)).more);
      return { action: 'payment.expire', object: { type: 'payment', id: created.body.payment_id }, actor: { type: 'system', id: 'payment-worker' }, serviceId: t.serviceId, requestId: null, via: 'none', details: { event: 'expire' } };
    },
  },
];

function assertEntry(row: AuditRow | undefined, expected: Expected, at: Date): void {
  assert.ok(row, `no ${expected.action} entry`);
  assert.equal(row.action, expected.action);
  assert.deepEqual(row.object_type === null ? null : { type: row.object_type, id: row.object_id }, expected.object);
  assert.deepEqual({ type: row.actor_type, id: row.actor_id }, expected.actor);
  assert.equal(row.outcome, expected.outcome ?? 'success');
  if (expected.serviceId !== undefined) assert.equal(row.service_id, expected.serviceId);
  assert.equal(row.occurred_at.toISOString(), at.toISOString(), 'when: the clock at the change, in UTC');
  assert.equal(row.request_id, expected.requestId);
  const where = { http: { ip: CLIENT_IP, ua: UA }, cli: { ip: null, ua: 'coffer-cli' }, none: { ip: null, ua: null } }[expected.via];
  assert.equal(row.ip, where.ip);
  assert.equal(row.user_agent, where.ua);
  for (const [name, value] of Object.entries(expected.details ?? {})) assert.deepEqual(row.details[name], value, `details.${name}`);
}

for (const c of CASES) {
  test(c.name, async () => {
    const expected = await c.run();
    const at = expected.at ?? coffer.clock.now();
    const rows = await auditRows(coffer.ctx, { action: expected.action, ...(expected.object ? { object_id: expected.object.id } : { actor_id: expected.actor.id }) });
    assertEntry(rows.at(-1), expected, at);
  });
}

test('no entry holds a card number, CVC field, key, password, TOTP secret or signing secret', async () => {
  const rows = await auditRows(coffer.ctx, {});
  assert.ok(rows.length > CASES.length);
  const text = JSON.stringify(rows);
  for (const secret of secrets) if (secret.length >= 8) assert.equal(text.includes(secret), false, `a secret (${secret.slice(0, 4)}…) reached the audit log`);
  assert.doesNotMatch(text, /"(cvc|cvv|card_number|password)":"(?!\[REDACTED\])/i);
  // Authorisation attempts keep at most the brand and the last four digits.
  for (const row of rows.filter((r) => r.action === 'payment.authorise')) {
    assert.deepEqual(Object.keys(row.details).filter((k) => !['event', 'result', 'reason', 'card_brand', 'last_four'].includes(k)), []);
  }
});
