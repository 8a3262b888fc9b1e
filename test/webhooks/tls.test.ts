// Deliveries over https verify the receiver's certificate and refuse anything below TLS 1.2:
// a self-signed certificate or an old protocol is a failed attempt, and nothing is sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIsolatedCoffer, type TestCoffer } from '../support/harness.js';
import { cancelPayment, newPayment, newWebhookTenant, runWebhookWorkers } from './support.js';

let coffer: TestCoffer;
let dir: string;
let tls: { cert: Buffer; key: Buffer };
before(async () => {
  coffer = await startIsolatedCoffer();
  dir = mkdtempSync(join(tmpdir(), 'coffer-webhook-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  tls = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
});
after(async () => {
  await coffer.close();
  rmSync(dir, { recursive: true, force: true });
});

async function httpsReceiver(options: Record<string, unknown>): Promise<{ server: Server; url: string; requests: number }> {
  const state = { server: undefined as unknown as Server, url: '', requests: 0 };
  state.server = createServer({ ...tls, ...options }, (req, res) => {
    state.requests++;
    req.resume();
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `https://127.0.0.1:${(state.server.address() as AddressInfo).port}/hook`;
  return state;
}

async function lastAttempt(tenant: { token: string; webhookId: string }) {
  const listed = await coffer.request('GET', `/v1/webhooks/${tenant.webhookId}/messages`, { key: tenant.token });
  return listed.body.results[0].attempts.at(-1);
}

test('a certificate that does not verify is a failure, and nothing is sent', async () => {
  const receiver = await httpsReceiver({});
  try {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests, 0);
    const attempt = await lastAttempt(tenant);
    assert.equal(attempt.outcome, 'failed');
    assert.match(attempt.error, /^TLS certificate not accepted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)$/);
  } finally {
    receiver.server.closeAllConnections();
    receiver.server.close();
  }
});

test('a receiver that speaks only TLS 1.1 is refused', async () => {
  const receiver = await httpsReceiver({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  try {
    const tenant = await newWebhookTenant(coffer, receiver.url);
    await cancelPayment(coffer, tenant.token, await newPayment(coffer, tenant.token));
    await runWebhookWorkers(coffer);
    assert.equal(receiver.requests, 0);
    const attempt = await lastAttempt(tenant);
    assert.equal(attempt.outcome, 'failed');
    assert.match(attempt.error, /protocol|version|ssl|tls/i);
  } finally {
    receiver.server.closeAllConnections();
    receiver.server.close();
  }
});
