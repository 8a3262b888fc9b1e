// TOTP (RFC 6238: SHA-1, 6 digits, 30 s) for authenticator apps. The 160-bit secret is sealed
// with a key derived for 'totp-secrets' and bound to the user's id, so a copied row cannot be
// replayed onto another user. A code is accepted within one step either side (clock drift),
// and the step it used is remembered: the same code, or an older one, is refused afterwards.
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { AppContext } from '../../platform/context.js';
import { deriveKey, open, seal } from '../../platform/encryption.js';

const PERIOD_S = 30;
const ISSUER = 'Coffer';

function totpKey(ctx: AppContext): Buffer {
  return deriveKey(ctx.masterKey.key, 'totp-secrets');
}

export function sealTotpSecret(ctx: AppContext, userId: string, base32: string): string {
  return seal(totpKey(ctx), base32, `totp:${userId}`);
}

export function openTotpSecret(ctx: AppContext, userId: string, sealed: string): string {
  return open(totpKey(ctx), sealed, `totp:${userId}`);
}

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpFor(base32: string, label: string): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: PERIOD_S, secret: Secret.fromBase32(base32) });
}

export interface TotpEnrolment {
  /** The secret as text, grouped in fours, for people who cannot scan. */
  secretText: string;
  uri: string;
  /** The otpauth URI as a QR code: an SVG document with no script, safe to inline or serve. */
  qrSvg: string;
}

export async function describeEnrolment(base32: string, email: string): Promise<TotpEnrolment> {
  const uri = totpFor(base32, email).toString();
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secretText: base32.replace(/(.{4})/g, '$1 ').trim(), uri, qrSvg };
}

/** The time step the code belongs to, or undefined when it is not valid now (±1 step). */
export function matchTotp(base32: string, code: string, now: Date): number | undefined {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = totpFor(base32, 'x').validate({ token, timestamp: now.getTime(), window: 1 });
  if (delta === null) return undefined;
  return Math.floor(now.getTime() / 1000 / PERIOD_S) + delta;
}

/** For tests and tools: the code an authenticator would show at `at`. */
export function totpCodeAt(base32: string, at: Date): string {
  return totpFor(base32, 'x').generate({ timestamp: at.getTime() });
}
