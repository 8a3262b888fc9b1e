// PCI DSS 3.3.1 / 3.5.1 proven: every sandbox test card goes through the real pages (and some
// card numbers go where they should not: the name, the address, the email), then the whole
// database is read back (pg_dump on PostgreSQL; every column of every table on PGlite), and so
// is every log line at trace level and every response Coffer sent. No full card number, no part
// of one beyond the first six and last four, and no CVC may appear anywhere.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { sql } from 'kysely';
import { startIsolatedCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';
import { SANDBOX_CARDS, SANDBOX_3DS_CODE } from '../../src/connectors/sandbox/sandbox.cards.js';
import { cardForm, createTestPayment, PayerClient } from './payer-client.js';

let coffer: TestCoffer;
before(async () => {
  process.env.COFFER_TEST_LOG_LEVEL = 'trace';
  // A database of its own on PostgreSQL: the dump must hold this file's data only, and
  // per-IP card-testing counters must not see other files' attempts.
  coffer = await startIsolatedCoffer();
});
after(async () => {
  await coffer.close();
});

// CVCs no other value in the store or the logs can contain as a whole token: a leading zero
// never appears when a counter, an amount or a sequence number is printed.
const CVC3 = ['037', '058', '042', '085', '091', '064'];
const CVC4 = ['0739', '0846'];
const usedCvcs = new Set<string>();
const transcripts: string[] = [];

async function pay(number: string, cvc: string, overrides: Record<string, string> = {}): Promise<void> {
  usedCvcs.add(cvc);
  const payment = await createTestPayment(coffer, { language: usedCvcs.size % 2 === 0 ? 'cy' : 'en' });
  const payer = new PayerClient(coffer);
  const card = await payer.follow(payment.path);
  assert.equal(card.status, 200, card.html);
  let response = await payer.submit(card, `/card_details/${payment.id}`, cardForm(number, { cvc, ...overrides }));
  if (response.location?.endsWith('/3ds_required')) {
    const challenge = await payer.get(response.location);
    response = await payer.submit(challenge, response.location, { otp: SANDBOX_3DS_CODE });
  }
  if (response.location?.endsWith('/confirm')) {
    const confirm = await payer.get(response.location);
    const done = await payer.submit(confirm, response.location, {});
    assert.equal(done.status, 303);
  }
  transcripts.push(...payer.transcript);
}

test('every test card through the pages, then no card number or CVC in the database, the logs or the responses', async () => {
  let i = 0;
  for (const card of SANDBOX_CARDS) {
    const amex = card.brand === 'american-express';
    await pay(card.number, amex ? CVC4[0]! : CVC3[i++ % CVC3.length]!);
  }
  // Card numbers where they do not belong, and a real-looking card on a test account.
  await pay('4444333322221111', CVC3[0]!, { cardholderName: '4444 3333 2222 1111' });
  await pay('4242424242424242', CVC3[1]!, { addressLine1: '4242424242424242' });
  await pay('4000056655665556', CVC3[2]!, { email: '4000056655665556@example.org' });
  await pay('4012888888881881', CVC3[3]!);
  await pay('371449635398431', CVC4[1]!, { cardholderName: CVC4[1]! });
  // Broken forms: the error page must not carry the number or CVC either.
  await pay('4444333322221111', CVC3[4]!, { expiryMonth: '13' });
  await pay('4444 3333 2222 1111', CVC3[5]!, { email: 'broken' });

  const numbers = [...SANDBOX_CARDS.map((c) => c.number), '4012888888881881'];
  const dump = await databaseText(coffer);
  assert.ok(dump.length > 10_000, 'the dump holds the payments');
  assert.ok(dump.includes('444433') && dump.includes('1111'), 'first six and last four are kept, as they may be');
  const logs = coffer.logLines.join('\n');
  assert.ok(coffer.logLines.length > 100, 'trace logging captured the journeys');
  const responses = transcripts.join('\n');

  for (const [where, text] of [['database', dump], ['logs', logs], ['responses', responses]] as const) {
    for (const number of numbers) {
      assert.ok(!text.includes(number), `${where} holds ${number}`);
      // Nor any run long enough to reach past the first six or the last four.
      for (let start = 0; start + 11 <= number.length; start++) {
        const part = number.slice(start, start + 11);
        if (new Set(part).size < 3) continue; // 00000000000 is in any dump; it identifies no card
        assert.ok(!text.includes(part), `${where} holds ${part} of ${number}`);
      }
      const spaced = number.replace(/(\d{4})(?=\d)/g, '$1 ');
      assert.ok(!text.includes(spaced), `${where} holds ${spaced}`);
    }
    for (const cvc of usedCvcs) {
      const at = tokenAt(text, cvc);
      assert.ok(at < 0, `${where} holds the CVC ${cvc}: …${text.slice(Math.max(0, at - 200), at + 50)}…`);
    }
    assert.ok(!/"cvc"\s*:/.test(text), `${where} has a cvc field`);
  }
  // Nothing even tried to log a card number: the scrubber never had to step in.
  assert.ok(!logs.includes('[REDACTED-PAN]'), 'a card number reached the logger');
});

/** The digits as a token of their own: not inside a longer number, id, hash or decimal. */
function tokenAt(text: string, digits: string): number {
  let at = text.indexOf(digits);
  while (at >= 0) {
    const before = text[at - 1] ?? ' ';
    const after = text[at + digits.length] ?? ' ';
    if (!/[0-9A-Za-z.\-_:+/=]/.test(before) && !/[0-9A-Za-z.\-_+/=]/.test(after)) return at;
    at = text.indexOf(digits, at + 1);
  }
  return -1;
}

/** Everything the store holds, as text: pg_dump on PostgreSQL, every column of every table on PGlite. */
async function databaseText(c: TestCoffer): Promise<string> {
  if (usingPostgres()) {
    return execFileSync('pg_dump', ['--data-only', '--no-owner', process.env.COFFER_TEST_DATABASE_URL!], { maxBuffer: 512 * 1024 * 1024 }).toString('utf8');
  }
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'
  `.execute(c.ctx.db);
  const parts: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(table_name)} as t`.execute(c.ctx.db);
    parts.push(`-- ${table_name}`, ...rows.rows.map((r) => r.row));
  }
  return parts.join('\n');
}
