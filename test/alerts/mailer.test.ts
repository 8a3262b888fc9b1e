// The mailer speaks real SMTP: a message reaches an smtp-server peer, a refusal is an outcome.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp.js';
import { sendMail, mailConfigured } from '../../src/notifications/mailer.js';

let coffer: TestCoffer;
let smtp: SmtpPeer;
before(async () => {
  coffer = await startCoffer();
  smtp = await startSmtpPeer();
});
after(async () => {
  await coffer.close();
  await smtp.close();
});

test('without an SMTP URL nothing is sent and the outcome says so', async () => {
  const ctx = { ...coffer.ctx, mail: undefined };
  assert.equal(mailConfigured(ctx), false);
  assert.deepEqual(await sendMail(ctx, { to: 'a@example.org', subject: 's', text: 't' }), { sent: false, reason: 'not_configured' });
});

test('a message reaches the SMTP server with its sender, recipients and subject', async () => {
  const ctx = { ...coffer.ctx, mail: smtp.settings('Coffer <alerts@example.org>') };
  const outcome = await sendMail(ctx, { to: ['admin1@example.org', 'admin2@example.org'], subject: 'Hello from Coffer', text: 'Body text' });
  assert.equal(outcome.sent, true);
  const mail = smtp.received.at(-1);
  assert.ok(mail);
  assert.equal(mail.from, 'alerts@example.org');
  assert.deepEqual(mail.to, ['admin1@example.org', 'admin2@example.org']);
  assert.equal(mail.subject, 'Hello from Coffer');
  assert.match(mail.raw, /Body text/);
});

test('a refusal by the server is a failed outcome, not an exception', async () => {
  const ctx = { ...coffer.ctx, mail: smtp.settings() };
  smtp.refuseNext(1);
  const outcome = await sendMail(ctx, { to: 'a@example.org', subject: 's', text: 't' });
  assert.equal(outcome.sent, false);
  assert.equal(outcome.sent === false && outcome.reason, 'failed');
});
