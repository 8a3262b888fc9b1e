// Configuration from the environment: defaults, one clear line per problem (all of them at
// once, so an operator fixes a deployment in one pass), and the master key rules: generated
// into the data directory with a warning on the embedded store, required with DATABASE_URL.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, resolveMasterKey, type Config } from '../../src/main/config.js';
import { createLogger } from '../../src/main/logger.js';
import { openRuntime } from '../../src/main/runtime.js';
import { ManualClock } from '../../src/platform/clock.js';
import { usingPostgres } from '../support/harness.js';

const DAY = 86_400_000;
const masterKey = () => randomBytes(32).toString('base64');

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  const result = loadConfig(env);
  assert.equal(result.ok, false, `expected problems for ${JSON.stringify(env)}`);
  return result.ok ? [] : result.problems;
}

function configOf(env: NodeJS.ProcessEnv): Config {
  const result = loadConfig(env);
  if (!result.ok) assert.fail(result.problems.join('\n'));
  return result.config;
}

function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-config-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe('defaults', () => {
  test('an empty environment gives a working embedded setup on loopback', () => {
    const config = configOf({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.baseUrl, 'http://127.0.0.1:3000');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.dataDir, resolve('./.coffer'));
    assert.deepEqual(config.masterKey, { source: 'data-dir' });
    assert.equal(config.logLevel, 'info');
    assert.equal(config.tls, undefined);
    assert.deepEqual(config.trustedProxies, []);
    assert.equal(config.securityTxt.expires, undefined);
    assert.match(config.securityTxt.contact, /^mailto:/);
  });

  test('blank values count as unset', () => {
    const config = configOf({ PORT: '', HOST: ' ', COFFER_BASE_URL: '', DATABASE_URL: '', COFFER_MASTER_KEY: '', COFFER_DATA_DIR: '' });
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.dataDir, resolve('./.coffer'));
    assert.equal(config.databaseUrl, undefined);
  });

  test('the base URL follows host, port and TLS, and loses a trailing slash when given', () => {
    assert.equal(configOf({ HOST: '::1', PORT: '8443' }).baseUrl, 'http://[::1]:8443');
    assert.equal(configOf({ COFFER_BASE_URL: 'https://pay.example.org/' }).baseUrl, 'https://pay.example.org');
    const dir = mkdtempSync(join(tmpdir(), 'coffer-config-'));
    try {
      writeFileSync(join(dir, 'c.pem'), 'x');
      writeFileSync(join(dir, 'k.pem'), 'x');
      const tls = configOf({ COFFER_TLS_CERT: join(dir, 'c.pem'), COFFER_TLS_KEY: join(dir, 'k.pem') });
      assert.equal(tls.baseUrl, 'https://127.0.0.1:3000');
      assert.equal(tls.tls?.minVersion, 'TLSv1.2');
      assert.equal(configOf({ COFFER_TLS_CERT: join(dir, 'c.pem'), COFFER_TLS_KEY: join(dir, 'k.pem'), COFFER_TLS_MIN_VERSION: '1.3' }).tls?.minVersion, 'TLSv1.3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('settings that are given are used', () => {
    const key = masterKey();
    const expires = new Date(Date.now() + 100 * DAY).toISOString();
    const config = configOf({
      PORT: '0',
      DATABASE_URL: 'postgresql://coffer@db.internal:5432/coffer',
      REDIS_URL: 'rediss://:secret@cache.internal:6380/2',
      COFFER_MASTER_KEY: key,
      LOG_LEVEL: 'warn',
      COFFER_TRUSTED_PROXIES: '10.0.0.0/8, 2001:db8::/32,192.0.2.7',
      COFFER_SECURITY_CONTACT: 'https://example.org/security',
      COFFER_SECURITY_TXT_EXPIRES: expires,
    });
    assert.equal(config.port, 0);
    assert.equal(config.databaseUrl, 'postgresql://coffer@db.internal:5432/coffer');
    assert.equal(config.redisUrl, 'rediss://:secret@cache.internal:6380/2');
    assert.deepEqual(config.masterKey, { source: 'env', key: Buffer.from(key, 'base64') });
    assert.equal(config.logLevel, 'warn');
    assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    assert.deepEqual(config.securityTxt, { contact: 'https://example.org/security', expires: new Date(expires) });
  });
});

describe('each problem has its own clear message', () => {
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['a port that is not a number', { PORT: 'http' }, /^PORT: must be a whole number from 0 to 65535/],
    ['a port out of range', { PORT: '70000' }, /^PORT: must be a whole number from 0 to 65535/],
    ['a fractional port', { PORT: '3000.5' }, /^PORT: must be a whole number from 0 to 65535/],
    ['a database URL of another kind', { DATABASE_URL: 'mysql://db/coffer', COFFER_MASTER_KEY: masterKey() }, /^DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL$/],
    ['a Redis URL of another kind', { REDIS_URL: 'memcached://cache:11211' }, /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL$/],
    ['a Redis URL whose database is not a number', { REDIS_URL: 'redis://cache:6379/sessions' }, /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL with a host, and a database number/],
    ['a master key that is too short', { COFFER_MASTER_KEY: randomBytes(16).toString('base64') }, /^COFFER_MASTER_KEY: must be 32 random bytes in base64 \(try: openssl rand -base64 32\)$/],
    ['a master key that is not base64', { COFFER_MASTER_KEY: 'correct horse battery staple correct horse!' }, /^COFFER_MASTER_KEY: must be 32 random bytes in base64/],
    ['a TLS certificate without its key', { COFFER_TLS_CERT: '/etc/ssl/coffer.pem' }, /^COFFER_TLS_CERT and COFFER_TLS_KEY: set both or neither$/],
    ['a TLS key without its certificate', { COFFER_TLS_KEY: '/etc/ssl/coffer.key' }, /^COFFER_TLS_CERT and COFFER_TLS_KEY: set both or neither$/],
    ['a TLS minimum that is not offered', { COFFER_TLS_MIN_VERSION: '1.1' }, /^COFFER_TLS_MIN_VERSION: must be 1\.2 or 1\.3$/],
    ['security.txt expiring more than a year ahead', { COFFER_SECURITY_TXT_EXPIRES: new Date(Date.now() + 400 * DAY).toISOString() }, /^COFFER_SECURITY_TXT_EXPIRES: must be less than a year ahead \(RFC 9116\)$/],
    ['security.txt expiry that is not a date', { COFFER_SECURITY_TXT_EXPIRES: 'next spring' }, /^COFFER_SECURITY_TXT_EXPIRES: must be an ISO 8601 date$/],
    ['security.txt expiry in the past', { COFFER_SECURITY_TXT_EXPIRES: '2020-01-01T00:00:00Z' }, /^COFFER_SECURITY_TXT_EXPIRES: is in the past$/],
    ['a security contact that is not a URI', { COFFER_SECURITY_CONTACT: 'security@example.org' }, /^COFFER_SECURITY_CONTACT: must be a mailto:, https:\/\/ or tel: URI$/],
    ['a trusted proxy with a bad prefix', { COFFER_TRUSTED_PROXIES: '10.0.0.0/33' }, /^COFFER_TRUSTED_PROXIES: "10\.0\.0\.0\/33" is not an IP address or CIDR range$/],
    ['a trusted proxy given by name', { COFFER_TRUSTED_PROXIES: '10.0.0.1,proxy.internal' }, /^COFFER_TRUSTED_PROXIES: "proxy\.internal" is not an IP address or CIDR range$/],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }, /^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent$/],
    ['a base URL that is not http(s)', { COFFER_BASE_URL: 'ftp://pay.example.org' }, /^COFFER_BASE_URL: must be an http:\/\/ or https:\/\/ URL$/],
  ];
  for (const [name, env, message] of cases) {
    test(name, () => {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, message);
    });
  }

  test('TLS files that do not exist are named', () => {
    const problems = problemsOf({ COFFER_TLS_CERT: '/nonexistent/cert.pem', COFFER_TLS_KEY: '/nonexistent/key.pem' });
    assert.deepEqual(problems, ['COFFER_TLS_CERT: no file at /nonexistent/cert.pem', 'COFFER_TLS_KEY: no file at /nonexistent/key.pem']);
  });

  test('every problem is reported at once, whichever kind it is', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      COFFER_MASTER_KEY: 'short',
      COFFER_TLS_CERT: '/etc/ssl/coffer.pem',
      COFFER_TRUSTED_PROXIES: 'example.com',
      COFFER_SECURITY_TXT_EXPIRES: new Date(Date.now() + 800 * DAY).toISOString(),
    });
    const named = problems.map((p) => p.slice(0, p.indexOf(':')));
    assert.deepEqual(named.sort(), ['COFFER_MASTER_KEY', 'COFFER_SECURITY_TXT_EXPIRES', 'COFFER_TLS_CERT and COFFER_TLS_KEY', 'COFFER_TRUSTED_PROXIES', 'LOG_LEVEL', 'PORT']);
  });
});

describe('the master key', () => {
  test('is required with DATABASE_URL, and refused as missing with a hint', () => {
    const problems = problemsOf({ DATABASE_URL: 'postgres://db/coffer' });
    assert.deepEqual(problems, ['COFFER_MASTER_KEY: required with DATABASE_URL, so that every node shares it (try: openssl rand -base64 32)']);
  });

  test('on the embedded store it is generated into the data directory, owner-only, with a warning; then reused', async () => {
    await withTempDir(async (dir) => {
      const config = configOf({ COFFER_DATA_DIR: dir });
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
          cb();
        },
      });
      const runtime = await openRuntime(config, createLogger('info', sink), new ManualClock());
      await runtime.close();
      const file = join(dir, 'master.key');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
      assert.equal(key.length, 32);
      assert.ok(key.equals(runtime.ctx.masterKey.key));
      assert.equal(runtime.ctx.masterKey.fromEnvironment, false);
      const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string; file?: string }).find((l) => l.level === 40);
      assert.ok(warning, 'a warning was logged');
      assert.match(warning.msg, /COFFER_MASTER_KEY is not set: generated one into the data directory/);
      assert.match(warning.msg, /live accounts need COFFER_MASTER_KEY/);
      assert.equal(warning.file, file);

      const again = resolveMasterKey(config);
      assert.equal(again.generated, false, 'the second start reuses it, without a warning');
      assert.ok(again.key.equals(key));
    });
  });

  test('a corrupt key file in the data directory is refused, never replaced', async () => {
    await withTempDir(async (dir) => {
      writeFileSync(join(dir, 'master.key'), 'not a key\n', { mode: 0o600 });
      assert.throws(() => resolveMasterKey(configOf({ COFFER_DATA_DIR: dir })), /does not hold a valid master key/);
      assert.equal(readFileSync(join(dir, 'master.key'), 'utf8'), 'not a key\n');
    });
  });

  test('given in the environment, it is used and nothing is written to the data directory', async () => {
    await withTempDir(async (dir) => {
      const key = masterKey();
      const config = configOf({ COFFER_DATA_DIR: dir, COFFER_MASTER_KEY: key });
      const resolved = resolveMasterKey(config);
      assert.equal(resolved.generated, false);
      assert.ok(resolved.key.equals(Buffer.from(key, 'base64')));
      assert.throws(() => statSync(join(dir, 'master.key')));
    });
  });

  test('with DATABASE_URL the runtime opens PostgreSQL with the operator key', { skip: !usingPostgres() && 'needs PostgreSQL' }, async () => {
    await withTempDir(async (dir) => {
      const config = configOf({ COFFER_DATA_DIR: dir, DATABASE_URL: process.env.COFFER_TEST_DATABASE_URL, COFFER_MASTER_KEY: masterKey() });
      const runtime = await openRuntime(config, createLogger('silent'), new ManualClock());
      try {
        assert.equal(runtime.ctx.storeKind, 'postgres');
        assert.equal(runtime.ctx.masterKey.fromEnvironment, true);
      } finally {
        await runtime.close();
      }
      assert.throws(() => statSync(join(dir, 'master.key')));
    });
  });
});
