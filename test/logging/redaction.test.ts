// What may never reach a log line: anything that looks like a card number (13–19 digits that
// pass Luhn, with or without spaces or dashes), API keys, and Authorization headers, wherever
// they hide. Every line must stay JSON, and carry the request id when it is about a request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/main/logger.js';
import { passesLuhn } from '../../src/platform/card-numbers.js';
import { generateKeyToken } from '../../src/keys/key.format.js';
import { buildServer } from '../../src/http/server.js';
import { startCoffer, type TestCoffer } from '../support/harness.js';

/** A Luhn-valid number of `length` digits starting with `prefix`. */
function luhnNumber(prefix: string, length: number): string {
  let body = prefix;
  while (body.length < length - 1) body += String((body.length * 7) % 10);
  for (let check = 0; check < 10; check++) {
    if (passesLuhn(body + check)) return body + check;
  }
  throw new TypeError('unreachable');
}

function capture(level = 'trace') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { log: createLogger(level, sink), lines };
}

const digitsOnly = (text: string) => text.replace(/[^0-9]/g, '');

function assertNoCard(lines: string[], pan: string) {
  assert.ok(lines.length > 0, 'something was logged');
  for (const line of lines) {
    assert.ok(!digitsOnly(line).includes(pan), `card number ${pan} written: ${line}`);
    JSON.parse(line);
  }
}

const PANS = {
  visa16: '4111111111111111',
  mastercard: '5555555555554444',
  amex15: '378282246310005',
  visa13: luhnNumber('4', 13),
  len17: luhnNumber('62', 17),
  len18: luhnNumber('62', 18),
  len19: luhnNumber('4', 19),
};

describe('card numbers never reach a log line', () => {
  test('in a field, of every length from 13 to 19 digits', () => {
    for (const [name, pan] of Object.entries(PANS)) {
      assert.ok(passesLuhn(pan) && pan.length >= 13 && pan.length <= 19, name);
      const { log, lines } = capture();
      log.info({ note: pan }, 'a field');
      assertNoCard(lines, pan);
      assert.match(lines[0]!, /\[REDACTED-PAN\]/);
    }
  });

  test('with spaces or dashes, nested in objects and arrays, in keys, in the message', () => {
    const pan = PANS.visa16;
    const spaced = '4111 1111 1111 1111';
    const dashed = '4111-1111-1111-1111';
    const { log, lines } = capture();
    log.info({ payment: { card: { number: spaced } } }, 'nested, spaced');
    log.info({ items: [{ deep: [{ deeper: dashed }] }] }, 'in an array, dashed');
    log.info({ [pan]: 'as a key' }, 'a key');
    log.warn(`the message itself: ${spaced}`);
    log.info({ amex: '3782 822463 10005' }, 'amex grouping');
    log.info({ description: `Order for card ${pan}, thanks` }, 'inside text');
    assertNoCard(lines, pan);
    assertNoCard(lines, PANS.amex15);
    assert.equal(lines.length, 6);
  });

  test('as a bare JSON number, and the line stays JSON', () => {
    const { log, lines } = capture();
    log.info({ card_no: Number(PANS.visa16), amount: 1250 }, 'number');
    assertNoCard(lines, PANS.visa16);
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(parsed.card_no, '[REDACTED-PAN]');
    assert.equal(parsed.amount, 1250, 'the rest of the line is kept');
  });

  test('in a URL, and in an error message and its stack', () => {
    const pan = PANS.mastercard;
    const { log, lines } = capture();
    log.info({ req: { method: 'GET', url: `/v1/payments?reference=${pan}&x=5555-5555-5555-4444` } }, 'incoming request');
    log.error({ err: new Error(`processor said: card ${pan} declined`) }, 'request failed');
    assertNoCard(lines, pan);
    const err = (JSON.parse(lines[1]!) as { err: { message: string; stack: string } }).err;
    assert.match(err.message, /card \[REDACTED-PAN\] declined/);
    assert.match(err.stack, /redaction\.test\.ts/, 'the stack is still useful');
  });

  test('digits that are not card numbers are kept', () => {
    const { log, lines } = capture();
    const notLuhn = '4111111111111112';
    log.info({ order: notLuhn, short: '411111111111', amount: 123456789012, ratio: 0.4111111111111111 }, 'kept');
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(parsed.order, notLuhn);
    assert.equal(parsed.short, '411111111111');
    assert.equal(parsed.amount, 123456789012);
    assert.equal(parsed.ratio, 0.4111111111111111, 'the fraction of a decimal is not a card number, and stays a number');
    assert.match(String(parsed.time), /^\d{4}-\d\d-\d\dT/, 'ISO time, never a 13-digit epoch');
  });

  test('every line written under load is JSON, with response times to the microsecond', async () => {
    const coffer = await startCoffer();
    try {
      for (let i = 0; i < 300; i++) await coffer.request('GET', '/healthz');
      const broken = coffer.logLines.filter((line) => {
        try {
          JSON.parse(line);
          return false;
        } catch {
          return true;
        }
      });
      assert.deepEqual(broken, []);
      // In milliseconds to the microsecond: a raw float's fraction is long enough to pass for a
      // card number, and the line would be written with it redacted.
      const times = coffer.logLines
        .filter((line) => line.includes('"request completed"'))
        .map((line) => (JSON.parse(line) as { responseTime: unknown }).responseTime);
      assert.ok(times.length >= 300);
      for (const time of times) {
        assert.ok(typeof time === 'number' && Math.round(time * 1000) / 1000 === time, `responseTime ${String(time)}`);
      }
    } finally {
      await coffer.close();
    }
  });
});

describe('credentials never reach a log line', () => {
  test('an API key in any field, in text, in a URL or an error', () => {
    const key = generateKeyToken('test');
    const live = generateKeyToken('live');
    const { log, lines } = capture();
    log.info({ apiKey: key }, 'named field');
    log.info({ something: { nested: [live] } }, 'nested');
    log.info(`the message has ${key} inside`);
    log.info({ req: { url: `/v1/account?api_key=${key}` } }, 'url');
    log.error({ err: new Error(`bad key ${live}`) }, 'error');
    for (const line of lines) {
      assert.ok(!line.includes(key.slice(12)) && !line.includes(live.slice(12)), line);
      JSON.parse(line);
    }
    assert.equal(lines.length, 5);
    assert.match(lines[2]!, /coffer_test_\[REDACTED\]/, 'the kind of key is kept, for diagnosis');
  });

  test('one-time tokens in URLs (payer links, invites) and OAuth codes in query strings', () => {
    const token = 'Zt3xQ9-aB_cD4eF5gH6iJ7kL8mN9oP0q';
    const { log, lines } = capture();
    log.info({ req: { url: `/secure/${token}` } }, 'payer link');
    log.info({ req: { url: `/console/invite/${token}` } }, 'invite');
    log.info({ req: { url: `/console/oidc/callback?state=${token}&code=${token}x` } }, 'oidc');
    assert.equal(lines.length, 3);
    for (const line of lines) {
      assert.ok(!line.includes(token), line);
      JSON.parse(line);
    }
    assert.match(lines[0]!, /\/secure\/\[REDACTED\]/, 'the route is kept, for diagnosis');
  });

  test('Authorization and Cookie headers, wherever the headers object is logged', () => {
    const { log, lines } = capture();
    const headers = { authorization: 'Basic dXNlcjpjb3JyZWN0aG9yc2U=', cookie: '__Host-session=s3cr3tsessionvalue', 'user-agent': 'curl/8' };
    log.info({ req: { headers } }, 'as a request');
    log.info({ headers }, 'top level');
    log.info({ upstream: { request: { headers: { Authorization: 'Bearer opaque.token.value' } } } }, 'deep');
    log.info({ authorization: 'Token abcdef0123456789' }, 'alone');
    for (const line of lines) {
      for (const secret of ['dXNlcjpjb3JyZWN0aG9yc2U', 's3cr3tsessionvalue', 'opaque.token.value', 'abcdef0123456789']) {
        assert.ok(!line.includes(secret), `${secret} written: ${line}`);
      }
      JSON.parse(line);
    }
    assert.match(lines[0]!, /curl\/8/, 'other headers are kept');
  });
});

describe('request logging over HTTP', () => {
  let coffer: TestCoffer;
  before(async () => {
    coffer = await startCoffer();
  });
  after(() => coffer.close());

  test('every line about a request carries its request id, the one in the response header', async () => {
    const { token } = await coffer.newTenant();
    const before = coffer.logLines.length;
    const responses = [
      await coffer.request('GET', '/v1/account', { key: token }),
      await coffer.request('GET', '/v1/account'),
      await coffer.request('GET', '/v1/account', { key: generateKeyToken('test') }),
      await coffer.request('GET', '/missing'),
    ];
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    const lines = coffer.logLines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const id of ids) {
      const own = lines.filter((l) => l.request_id === id);
      assert.ok(own.some((l) => l.msg === 'incoming request'), `${id} incoming`);
      assert.ok(own.some((l) => l.msg === 'request completed'), `${id} completed`);
    }
    const requestLines = lines.filter((l) => 'req' in l || 'res' in l || /request|refused/.test(String(l.msg)));
    assert.ok(requestLines.length >= 8);
    for (const line of requestLines) assert.match(String(line.request_id), /^req_/, JSON.stringify(line));
  });

  test('a card number in the URL, and the key in the Authorization header, are not written', async () => {
    const { token } = await coffer.newTenant();
    const pan = PANS.visa16;
    const before = coffer.logLines.length;
    await coffer.request('GET', `/v1/account?card=${pan}&spaced=4111%201111%201111%201111`, { key: token });
    await coffer.request('GET', `/v1/nothing/${pan}`, { key: token });
    await coffer.request('GET', '/v1/account', { headers: { authorization: `Bearer ${token}x` } });
    const lines = coffer.logLines.slice(before);
    assertNoCard(lines, pan);
    for (const line of lines) assert.ok(!line.includes(token.slice(12, 40)), line);
    assert.ok(lines.some((l) => l.includes('/v1/nothing/[REDACTED-PAN]')), 'the URL is still logged, without the number');
  });

  test('an error with a card number and a key in its message is logged without them', async () => {
    const key = generateKeyToken('live');
    const pan = PANS.len19;
    const app = await buildServer(coffer.ctx, { baseUrl: 'http://127.0.0.1', version: 'test', trustedProxies: [], securityTxt: { contact: 'mailto:a@example.org', expires: undefined } });
    app.get('/test/leak', { config: { auth: 'public' } }, async () => {
      throw new Error(`failed for card ${pan} using ${key}`);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = app.server.address();
      const before = coffer.logLines.length;
      const response = await fetch(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/test/leak`);
      assert.equal(response.status, 500);
      const text = await response.text();
      assert.ok(!text.includes(pan) && !text.includes(key));
      const lines = coffer.logLines.slice(before);
      assertNoCard(lines, pan);
      for (const line of lines) assert.ok(!line.includes(key.slice(12)), line);
      assert.ok(lines.some((l) => l.includes('failed for card [REDACTED-PAN] using coffer_live_[REDACTED]')));
    } finally {
      await app.close();
    }
  });
});
