// `coffer webhook …`: the commander definitions, handed the CLI's own `operate`. As with API
// keys, a signing secret goes to stdout alone (SECRET=$(coffer webhook create …) works) and
// everything else, the endpoint id included, to stderr.
/* eslint-disable no-console -- CLI commands print their results */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDuration } from '../platform/duration.js';
import { WEBHOOK_EVENT_TYPES } from './event-types.js';
import type { CreatedEndpoint, EndpointView } from './webhook.service.js';

type Operate = (name: string, args: Record<string, unknown>) => Promise<unknown>;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('use a number and a unit: 30s, 15m, 24h, 7d (or 0)');
  return ms;
}

export function registerWebhookCommands(program: Command, operate: Operate): void {
  const webhook = program.command('webhook').description('webhook endpoints: where Coffer tells a service about its payments');

  webhook
    .command('create')
    .description('create a webhook endpoint; prints its signing secret once, and nothing else, on stdout')
    .requiredOption('--service <id>', 'service id')
    .addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).makeOptionMandatory())
    .requiredOption('--url <url>', 'the callback URL (https:// for live)')
    .option('--event <type>', `an event type (repeatable; default all but security_alert): ${WEBHOOK_EVENT_TYPES.join(', ')}`, collect)
    .option('--description <text>', 'what this endpoint is for')
    .action(async (opts: { service: string; mode: string; url: string; event?: string[]; description?: string }) => {
      const created = (await operate('webhook.create', {
        serviceId: opts.service,
        mode: opts.mode,
        url: opts.url,
        eventTypes: opts.event ?? [],
        description: opts.description,
      })) as CreatedEndpoint;
      console.log(created.signingSecret);
      console.error(`Created webhook ${created.webhook.id} (${created.webhook.mode}) → ${created.webhook.callback_url}`);
      console.error(`Events: ${created.webhook.subscriptions.join(', ')}`);
      console.error('This is the only time the signing secret is shown: store it now.');
    });

  webhook
    .command('list')
    .requiredOption('--service <id>', 'service id')
    .action(async (opts: { service: string }) => {
      const endpoints = (await operate('webhook.list', { serviceId: opts.service })) as EndpointView[];
      if (endpoints.length === 0) console.log('(none)');
      for (const e of endpoints) {
        console.log([e.id, e.mode, e.status, e.callback_url, e.subscriptions.join(','), e.failing_since ? `failing since ${e.failing_since}` : ''].join('  ').trimEnd());
      }
    });

  webhook
    .command('rotate-secret')
    .description('issue a new signing secret; the old one keeps signing beside it for the overlap')
    .argument('<webhookId>')
    .requiredOption('--service <id>', 'service id')
    .addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).makeOptionMandatory())
    .option('--overlap <duration>', 'how long the old secret keeps signing (0 = stop now)', duration, 86_400_000)
    .action(async (webhookId: string, opts: { service: string; mode: string; overlap: number }) => {
      const rotated = (await operate('webhook.rotate-secret', { webhookId, serviceId: opts.service, mode: opts.mode, overlapMs: opts.overlap })) as CreatedEndpoint & {
        previousSecretsExpire: string;
      };
      console.log(rotated.signingSecret);
      console.error(`New secret for ${webhookId}; the previous one stops signing at ${rotated.previousSecretsExpire}. Store the new secret now.`);
    });
}
