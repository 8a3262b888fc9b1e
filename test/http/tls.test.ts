// TLS as Coffer serves it: 1.2 minimum with forward-secret AEAD suites only, an option for 1.3
// only, and HSTS whenever Coffer is reached over https. Refusals are checked against a control
// server that does accept the same client offer, so a test cannot pass because the client
// never made the offer at all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { connect, createServer, type ConnectionOptions, type Server } from 'node:tls';
import { HSTS } from '../../src/http/security-headers.js';
import { startCoffer, type TestCoffer } from '../support/harness.js';

let dir: string;
let certFile: string;
let keyFile: string;
let cert: Buffer;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'coffer-tls-'));
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  cert = readFileSync(certFile);
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Handshake {
  ok: boolean;
  protocol?: string | null;
  cipher?: string;
  error?: string;
}

function handshake(port: number, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: cert, servername: 'localhost', ...options }, () => {
      const result = { ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(result);
    });
    socket.on('error', (err) => resolve({ ok: false, error: err.message }));
  });
}

/** A plain Node TLS server that accepts legacy offers: proves the client really made them. */
async function permissiveServer(): Promise<{ port: number; server: Server }> {
  const server = createServer({ cert, key: readFileSync(keyFile), minVersion: 'TLSv1', ciphers: 'ALL@SECLEVEL=0' }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

function portOf(coffer: TestCoffer): number {
  return Number(new URL(coffer.url).port);
}

function httpsGet(url: string, options: ConnectionOptions = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: cert, servername: 'localhost', ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const CBC_TLS12 = 'ECDHE-RSA-AES128-SHA256';
const LEGACY = { ciphers: 'ALL@SECLEVEL=0' };

describe('TLS 1.2 minimum (the default)', () => {
  let coffer: TestCoffer;
  let control: { port: number; server: Server };
  before(async () => {
    coffer = await startCoffer({ tls: { certFile, keyFile, minVersion: 'TLSv1.2' } });
    control = await permissiveServer();
  });
  after(async () => {
    control.server.close();
    await coffer.close();
  });

  test('TLS 1.2 works, with a forward-secret AEAD suite', async () => {
    const result = await handshake(portOf(coffer), { maxVersion: 'TLSv1.2' });
    assert.equal(result.ok, true, result.error);
    assert.equal(result.protocol, 'TLSv1.2');
    assert.match(result.cipher ?? '', /^ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
  });

  test('TLS 1.3 works too', async () => {
    const result = await handshake(portOf(coffer), {});
    assert.equal(result.ok, true, result.error);
    assert.equal(result.protocol, 'TLSv1.3');
  });

  test('a TLS 1.2 client offering only a CBC suite is refused', async () => {
    const offer: ConnectionOptions = { maxVersion: 'TLSv1.2', ciphers: CBC_TLS12 };
    const accepted = await handshake(control.port, offer);
    assert.equal(accepted.ok, true, `control: ${accepted.error}`);
    assert.equal(accepted.cipher, CBC_TLS12);
    const refused = await handshake(portOf(coffer), offer);
    assert.equal(refused.ok, false, `Coffer negotiated ${refused.cipher}`);
  });

  test('TLS 1.1 is refused', async () => {
    const offer: ConnectionOptions = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ...LEGACY };
    const accepted = await handshake(control.port, offer);
    assert.equal(accepted.ok, true, `control: ${accepted.error}`);
    assert.equal(accepted.protocol, 'TLSv1.1');
    const refused = await handshake(portOf(coffer), offer);
    assert.equal(refused.ok, false, `Coffer negotiated ${refused.protocol}`);
  });

  test('the API answers over TLS with HSTS and the other security headers', async () => {
    const response = await httpsGet(`${coffer.url}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(response.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains; preload');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    const unauthenticated = await httpsGet(`${coffer.url}/v1/account`);
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.headers['strict-transport-security'], HSTS);
  });
});

describe('TLS 1.3 only', () => {
  let coffer: TestCoffer;
  before(async () => {
    coffer = await startCoffer({ tls: { certFile, keyFile, minVersion: 'TLSv1.3' } });
  });
  after(() => coffer.close());

  test('TLS 1.2 is refused and TLS 1.3 works', async () => {
    const refused = await handshake(portOf(coffer), { maxVersion: 'TLSv1.2' });
    assert.equal(refused.ok, false, `Coffer negotiated ${refused.protocol}`);
    const accepted = await handshake(portOf(coffer), { minVersion: 'TLSv1.3' });
    assert.equal(accepted.ok, true, accepted.error);
    assert.equal(accepted.protocol, 'TLSv1.3');
  });
});

describe('HSTS without TLS in Coffer itself', () => {
  test('sent over plain http when the public base URL is https (TLS ends at a proxy)', async () => {
    const coffer = await startCoffer({ baseUrl: 'https://pay.example.org' });
    try {
      const ok = await coffer.request('GET', '/healthz');
      assert.equal(ok.headers.get('strict-transport-security'), HSTS);
      const missing = await coffer.request('GET', '/no/such/route');
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('strict-transport-security'), HSTS);
    } finally {
      await coffer.close();
    }
  });

  test('absent over plain http with an http base URL', async () => {
    const coffer = await startCoffer({ baseUrl: 'http://127.0.0.1:3000' });
    try {
      const response = await coffer.request('GET', '/healthz');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('strict-transport-security'), null);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', 'the other headers are still sent');
    } finally {
      await coffer.close();
    }
  });
});
