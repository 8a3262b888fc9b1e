// `coffer payments …`: an account's payment features and GOV.UK Pay-style rate limits.
/* eslint-disable no-console -- CLI commands print their results */
import { Option, type Command } from 'commander';

type Operate = (name: string, args: Record<string, unknown>) => Promise<unknown>;

const onOff = (value: string | undefined): boolean | undefined => (value === undefined ? undefined : value === 'on');
const perSecond = (value: string | undefined): number | string | undefined => (value === undefined || value === 'default' ? value : Number(value));

export function registerPaymentCommands(program: Command, operate: Operate): void {
  const payments = program.command('payments').description('payment features and rate limits of a service’s test or live account');
  const account = (command: Command): Command =>
    command.requiredOption('--service <id>', 'service id').addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).makeOptionMandatory());

  account(payments.command('show').description('show the features and the per-second limits')).action(async (opts: { service: string; mode: string }) => {
    console.log(JSON.stringify(await operate('payments.show', { serviceId: opts.service, mode: opts.mode }), null, 2));
  });

  account(payments.command('set').description('change features or per-second limits ("default" restores GOV.UK Pay’s)'))
    .addOption(new Option('--moto <on|off>', 'allow MOTO payments (moto: true)').choices(['on', 'off']))
    .addOption(new Option('--zero-amount <on|off>', 'allow payments of 0').choices(['on', 'off']))
    .addOption(new Option('--disabled <on|off>', 'refuse new payments and refunds (403 P0941)').choices(['on', 'off']))
    .option('--limit-create <n|default>', 'payments created per second (default 15)')
    .option('--limit-capture <n|default>', 'captures per second (default 15)')
    .option('--limit-post <n|default>', 'other POSTs per second (default 15)')
    .option('--limit-get <n|default>', 'GETs per second (default 75)')
    .action(
      async (opts: { service: string; mode: string; moto?: string; zeroAmount?: string; disabled?: string; limitCreate?: string; limitCapture?: string; limitPost?: string; limitGet?: string }) => {
        const result = await operate('payments.set', {
          serviceId: opts.service,
          mode: opts.mode,
          allowMoto: onOff(opts.moto),
          allowZeroAmount: onOff(opts.zeroAmount),
          paymentsDisabled: onOff(opts.disabled),
          rateLimitCreate: perSecond(opts.limitCreate),
          rateLimitCapture: perSecond(opts.limitCapture),
          rateLimitPost: perSecond(opts.limitPost),
          rateLimitGet: perSecond(opts.limitGet),
        });
        console.log(JSON.stringify(result, null, 2));
      },
    );
}
