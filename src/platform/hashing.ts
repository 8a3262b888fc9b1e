// Hashes and comparisons for secrets. Secrets are compared only through these helpers.
import { hash, timingSafeEqual } from 'node:crypto';

export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Constant-time equality for strings of any length (lengths leak, contents don't). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
