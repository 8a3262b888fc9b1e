// `coffer payment-page …`: the payment page settings of a service's test or live account.
/* eslint-disable no-console -- CLI commands print their results */
import { Option, type Command } from 'commander';
import { CARD_BRANDS } from '../connectors/card-brand.js';

type Operate = (name: string, args: Record<string, unknown>) => Promise<unknown>;

export function registerHostedCommands(program: Command, operate: Operate): void {
  const page = program.command('payment-page').description('the payment page of a service’s test or live account');
  const account = (command: Command): Command =>
    command.requiredOption('--service <id>', 'service id').addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).makeOptionMandatory());

  account(page.command('show').description('show the billing address, email and card brand settings')).action(async (opts: { service: string; mode: string }) => {
    console.log(JSON.stringify(await operate('payment-page.show', { serviceId: opts.service, mode: opts.mode }), null, 2));
  });

  account(page.command('set').description('change the billing address, email or card brand settings'))
    .addOption(new Option('--billing-address <on|off>', 'ask for the billing address').choices(['on', 'off']))
    .addOption(new Option('--email <setting>', 'ask for an email address').choices(['mandatory', 'optional', 'off']))
    .option('--brands <list>', `accepted card brands, comma-separated: ${CARD_BRANDS.join(', ')}`)
    .action(async (opts: { service: string; mode: string; billingAddress?: string; email?: string; brands?: string }) => {
      const settings = await operate('payment-page.set', {
        serviceId: opts.service,
        mode: opts.mode,
        collectBillingAddress: opts.billingAddress === undefined ? undefined : opts.billingAddress === 'on',
        emailCollection: opts.email,
        acceptedBrands: opts.brands?.split(',').map((b) => b.trim()).filter(Boolean),
      });
      console.log(JSON.stringify(settings, null, 2));
    });
}
