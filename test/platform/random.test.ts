// Identifiers and secrets come from the CSPRNG through a pool (src/platform/random.ts): every
// byte is handed out once, and the alphabets stay unbiased.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE62, govukStyleId, randomString, randomToken, secureRandomBytes, sortableId } from '../../src/platform/random.js';

describe('random identifiers and secrets', () => {
  test('no two draws share their bytes, across many refills of the pool', () => {
    const seen = new Set<string>();
    // 20,000 draws of 12 bytes: about 60 refills of a 4 KiB pool.
    for (let i = 0; i < 20_000; i++) seen.add(secureRandomBytes(12).toString('hex'));
    assert.equal(seen.size, 20_000);
    const tokens = new Set(Array.from({ length: 5000 }, () => randomToken()));
    assert.equal(tokens.size, 5000);
    assert.match(randomToken(), /^[A-Za-z0-9_-]{43}$/);
  });

  test('a returned buffer is its own: drawing more does not change it', () => {
    const first = secureRandomBytes(32);
    const copy = Buffer.from(first);
    for (let i = 0; i < 500; i++) secureRandomBytes(32);
    assert.deepEqual(first, copy);
    assert.equal(secureRandomBytes(5000).length, 5000, 'a draw larger than the pool goes to the CSPRNG directly');
  });

  test('every character of an alphabet is equally likely (chi-square, base 62 and base 32)', () => {
    for (const alphabet of [BASE62, '0123456789abcdefghijklmnopqrstuv']) {
      const draws = 200_000;
      const counts = new Map<string, number>();
      for (const c of randomString(draws, alphabet)) counts.set(c, (counts.get(c) ?? 0) + 1);
      assert.equal(counts.size, alphabet.length);
      const expected = draws / alphabet.length;
      const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
      // A plain modulo (no rejection) puts base 62's chi-square near 1,300; a fair draw's has a
      // mean of 61 (its degrees of freedom) and a deviation of 11, so the bound is 11 deviations out.
      assert.ok(chiSquare < 2 * alphabet.length + 60, `${alphabet.length} characters: chi-square ${chiSquare.toFixed(0)}`);
    }
  });

  test("GOV.UK Pay's id format: 26 lower-case base-32 characters", () => {
    assert.match(govukStyleId(), /^[0-9a-v]{26}$/);
    assert.throws(() => randomString(4, 'a'), RangeError);
  });

  test('sortable ids: each sorts after the one before, within a millisecond, across them and when the clock steps back', () => {
    const start = Date.UTC(2026, 11, 8, 3, 0, 0);
    const ids: string[] = [];
    // 20,000 ids in one millisecond, then the next, then a clock 5 s behind, then the real clock.
    for (let i = 0; i < 20_000; i++) ids.push(sortableId('aud', start));
    for (let i = 0; i < 100; i++) ids.push(sortableId('aud', start + 1));
    for (let i = 0; i < 100; i++) ids.push(sortableId('aud', start - 5000));
    for (let i = 0; i < 100; i++) ids.push(sortableId('aud'));
    for (const id of ids) assert.match(id, /^aud_[0-9a-v]{26}$/);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `id ${i} sorts after id ${i - 1}: ${ids[i - 1]} ${ids[i]}`);
    // The first 10 characters are the millisecond, so a reader can tell when an entry was made.
    assert.equal(Number.parseInt(ids[0]!.slice(4, 14), 32), start);
    // No two are equal.
    assert.equal(new Set(ids).size, ids.length);
  });
});
