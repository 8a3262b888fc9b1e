// Identifiers and secrets come from the CSPRNG through a pool (src/platform/random.ts): every
// byte is handed out once, and the alphabets stay unbiased.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE62, govukStyleId, randomString, randomToken, secureRandomBytes } from '../../src/platform/random.js';

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
});
