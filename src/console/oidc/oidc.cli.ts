// `coffer oidc …`: which identity providers a service's staff may sign in through. The client
// secret is read from standard input, never from the command line, where it would be kept in
// shell history and shown to every user of the machine by `ps`.
/* eslint-disable no-console -- CLI commands print their results */
import { Option, type Command } from 'commander';
import type { OidcProviderView } from './oidc.service.js';

type Operate = (name: string, args: Record<string, unknown>) => Promise<unknown>;

const CALLBACK_PATH = '/console/sign-in/oidc/callback';
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Client secret (then Enter and Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export function registerOidcCommands(program: Command, operate: Operate): void {
  const oidc = program.command('oidc').description('sign-in through an organisation’s OpenID Connect identity provider');

  oidc
    .command('add')
    .description('let a service’s staff sign in through an identity provider; the client secret is read from stdin')
    .requiredOption('--service <id>', 'service id')
    .requiredOption('--name <name>', 'what staff will recognise, e.g. "Example Council Entra ID"')
    .requiredOption('--issuer <url>', 'the provider’s issuer URL (https://)')
    .requiredOption('--client-id <id>', 'the client id Coffer is registered under at the provider')
    .requiredOption('--domain <domain>', 'an email domain this provider may sign in (repeatable)', collect)
    .addOption(new Option('--new-user-role <role>', 'create users from these domains on first sign-in with this role (default: only invited users)').choices(['view-only', 'view-and-refund', 'developer']))
    .action(async (opts: { service: string; name: string; issuer: string; clientId: string; domain: string[]; newUserRole?: string }) => {
      const clientSecret = await readStdin();
      const provider = (await operate('oidc.add', {
        serviceId: opts.service,
        name: opts.name,
        issuer: opts.issuer,
        clientId: opts.clientId,
        clientSecret,
        allowedDomains: opts.domain,
        newUserRole: opts.newUserRole,
      })) as OidcProviderView;
      console.log(provider.id);
      console.error(`Added ${provider.name} for ${provider.allowedDomains.join(', ')}.`);
      console.error(`Register this redirect URI at the provider: <COFFER_BASE_URL>${CALLBACK_PATH}`);
      console.error(`Staff sign in from: <COFFER_BASE_URL>/console/sign-in/oidc/${provider.id}`);
    });

  oidc
    .command('list')
    .description('identity providers, for one service or all')
    .option('--service <id>', 'service id')
    .action(async (opts: { service?: string }) => {
      const providers = (await operate('oidc.list', { serviceId: opts.service })) as OidcProviderView[];
      if (providers.length === 0) console.error('(none)');
      for (const p of providers) console.log([p.id, p.serviceId, p.name, p.issuer, p.clientId, p.allowedDomains.join(','), p.newUserRole ?? '-'].join('\t'));
    });

  oidc
    .command('remove')
    .description('stop a service’s staff signing in through a provider (sign-ins under way are dropped)')
    .requiredOption('--service <id>', 'service id')
    .requiredOption('--provider <id>', 'provider id (idp_…)')
    .action(async (opts: { service: string; provider: string }) => {
      await operate('oidc.remove', { serviceId: opts.service, providerId: opts.provider });
      console.error(`Removed ${opts.provider}.`);
    });
}
