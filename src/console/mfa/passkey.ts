// Passkeys (WebAuthn) as a second factor, through @simplewebauthn/server. The relying party is
// Coffer's own host (from the base URL); the challenge lives on the session row and is taken
// once, so a response cannot be replayed; the signature counter only moves forward.
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { AppContext } from '../../platform/context.js';
import type { PasskeyRow } from '../console.tables.js';

export type { AuthenticationResponseJSON, RegistrationResponseJSON };

export function relyingParty(ctx: AppContext): { rpID: string; origin: string } {
  const url = new URL(ctx.baseUrl);
  return { rpID: url.hostname, origin: url.origin };
}

export async function registrationOptions(
  ctx: AppContext,
  user: { id: string; email: string },
  existing: PasskeyRow[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: 'Coffer',
    rpID: relyingParty(ctx).rpID,
    userName: user.email,
    userID: new TextEncoder().encode(user.id),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: p.transports })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    timeout: 300_000,
  });
}

export async function verifyRegistration(ctx: AppContext, response: RegistrationResponseJSON, expectedChallenge: string) {
  const rp = relyingParty(ctx);
  try {
    const result = await verifyRegistrationResponse({ response, expectedChallenge, expectedOrigin: rp.origin, expectedRPID: rp.rpID, requireUserVerification: false });
    return result.verified ? result.registrationInfo : undefined;
  } catch {
    return undefined;
  }
}

export async function authenticationOptions(ctx: AppContext, passkeys: PasskeyRow[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: relyingParty(ctx).rpID,
    allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: p.transports as never })),
    userVerification: 'preferred',
    timeout: 300_000,
  });
}

export async function verifyAuthentication(ctx: AppContext, response: AuthenticationResponseJSON, expectedChallenge: string, passkey: PasskeyRow) {
  const rp = relyingParty(ctx);
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: { id: passkey.credential_id, publicKey: Buffer.from(passkey.public_key, 'base64url'), counter: passkey.counter, transports: passkey.transports as never },
      requireUserVerification: false,
    });
    return result.verified ? result.authenticationInfo : undefined;
  } catch {
    return undefined;
  }
}
