// The transaction pages' pure parts: the refund amount in pounds and pence as minor units (no
// float anywhere), the search form as the API's parameters, and CSV cells safe from formula
// injection and quoted as RFC 4180 asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAmount, toApiQuery } from '../../src/console/pages/transactions.forms.js';
import { csvCell, csvRow, decimalAmount } from '../../src/console/pages/transactions.csv.js';

test('amounts in pounds and pence become exact minor units', () => {
  const cases: [string, number][] = [
    ['12.50', 1250],
    ['12.5', 1250],
    ['12', 1200],
    ['£0.01', 1],
    [' £ 19.99 ', 1999],
    ['1,234.56', 123456],
    ['0.29', 29], // 0.29 * 100 is 28.999999999999996 in floating point
    ['1.15', 115],
    ['4.35', 435],
  ];
  for (const [text, minor] of cases) assert.deepEqual(parseAmount(text, 1_000_000, 'GBP'), { ok: true, amount: minor }, text);
});

test('amounts the form refuses, each with a message a person can act on', () => {
  const refused = (text: string | undefined, available = 3000) => {
    const result = parseAmount(text, available, 'GBP');
    assert.equal(result.ok, false, String(text));
    return result.ok ? '' : result.error;
  };
  assert.match(refused(undefined), /Enter the amount/);
  assert.match(refused('  '), /Enter the amount/);
  for (const text of ['abc', '12.345', '-5', '1e3', '12,50', '1,23.00', '0x10', '12.', '.5', 'Infinity', '1 000']) assert.match(refused(text), /pounds and pence/, text);
  assert.match(refused('0'), /more than £0\.00/);
  assert.match(refused('0.00'), /more than £0\.00/);
  assert.match(refused('30.01'), /cannot be more than the £30\.00 available/);
  assert.deepEqual(parseAmount('30.00', 3000, 'GBP'), { ok: true, amount: 3000 });
});

test('the search form maps onto the API parameters; dates are whole UTC days', () => {
  const { query, errors } = toApiQuery({
    reference: ' INV-1 ',
    email: 'a@example.org',
    state: 'success',
    card_brand: 'master-card',
    from_date: '2026-11-01',
    to_date: '2026-11-30',
    last_digits_card_number: '4242',
    first_digits_card_number: '424242',
    cardholder_name: '',
  });
  assert.deepEqual(errors, {});
  assert.deepEqual(query, {
    reference: 'INV-1',
    email: 'a@example.org',
    state: 'success',
    card_brand: 'master-card',
    first_digits_card_number: '424242',
    last_digits_card_number: '4242',
    from_date: '2026-11-01T00:00:00Z',
    to_date: '2026-12-01T00:00:00Z',
  });
  assert.deepEqual(toApiQuery({ from_date: '2026-11-25T09:30' }).query, { from_date: '2026-11-25T09:30:00Z' });
});

test('bad filters are named per field and never reach the search', () => {
  const { query, errors } = toApiQuery({ state: 'capturable', card_brand: 'paypal', last_digits_card_number: '42', first_digits_card_number: '4242', from_date: '2026-02-30', to_date: 'soon' });
  assert.deepEqual(Object.keys(errors).sort(), ['card_brand', 'first_digits_card_number', 'from_date', 'last_digits_card_number', 'state', 'to_date']);
  assert.deepEqual(query, {});
  assert.match(toApiQuery({ from_date: '2026-11-02', to_date: '2026-11-01' }).errors.to_date ?? '', /after the start/);
});

test('CSV cells: quoted, quotes doubled, formula starts neutralised', () => {
  assert.equal(csvCell('plain'), '"plain"');
  assert.equal(csvCell('say "hi", then\r\nleave'), '"say ""hi"", then\r\nleave"');
  for (const start of ['=', '+', '-', '@', '\t', '\r']) assert.equal(csvCell(`${start}1+1`), `"'${start}1+1"`, JSON.stringify(start));
  assert.equal(csvCell('=HYPERLINK("http://x")'), '"\'=HYPERLINK(""http://x"")"');
  assert.equal(csvCell(undefined), '""');
  assert.equal(csvCell(true), '"true"');
  assert.equal(csvRow(['a', 'b']), '"a","b"\r\n');
});

test('CSV amounts are written from minor units without a float', () => {
  assert.equal(decimalAmount(0), '0.00');
  assert.equal(decimalAmount(5), '0.05');
  assert.equal(decimalAmount(1250), '12.50');
  assert.equal(decimalAmount(10_000_000), '100000.00');
});
