// A real OpenID Provider for tests: the certified `oidc-provider` package on a loopback port,
// with one confidential client (Coffer) and its development login and consent screens.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'coffer-console';
export const CLIENT_SECRET = 'a-long-client-secret-for-the-test-provider-0123456789';

export interface TestIdp {
  issuer: string;
  /** Registers a person the provider knows; returns the subject to type at its login form. */
  person(email: string, verified?: boolean): string;
  close(): Promise<void>;
}

export async function startTestIdp(redirectUri: string): Promise<TestIdp> {
  const people = new Map<string, { email: string; verified: boolean }>();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'email', 'profile'],
    findAccount: async (_ctx, sub) => {
      const person = people.get(sub);
      if (!person) return undefined;
      return { accountId: sub, claims: async () => ({ sub, email: person.email, email_verified: person.verified }) };
    },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-signing-key-0123456789'] },
  });
  provider.on('server_error', (_ctx, err) => console.error(err));
  server.on('request', provider.callback());
  return {
    issuer,
    person(email, verified = true) {
      const sub = `sub-${people.size + 1}-${Math.random().toString(36).slice(2)}`;
      people.set(sub, { email, verified });
      return sub;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
