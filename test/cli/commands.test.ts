// The operator CLI as an operator runs it: real processes, real stores, what is printed where.
// Secrets go to stdout alone (so KEY=$(coffer key create …) works); everything else to stderr.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { disposeTemplate, inWorkspace, newService, ok, runCoffer, SERVICE_ID, tableRow } from './support.js';

after(disposeTemplate);

describe('coffer service commands and argument errors', () => {
  test('service create prints the new service id and nothing else on stdout', async () => {
    await inWorkspace(async (w) => {
      const result = ok(await runCoffer(['service', 'create', '--name', 'Parking permits'], w.env), 'service create');
      assert.match(result.stdout.replace(/\n$/, ''), SERVICE_ID);
      assert.ok(result.stdout.endsWith('\n') && result.stdout.split('\n').length === 2, 'one line');
      const list = ok(await runCoffer(['service', 'list'], w.env), 'service list');
      assert.deepEqual(tableRow(list.stdout, result.stdout.trim())?.slice(1, 3), ['Parking permits', 'off']);
    });
  });

  test('bad arguments give a clear error, a non-zero exit and nothing on stdout', async () => {
    await inWorkspace(async (w) => {
      const serviceId = await newService(w);
      const cases: [string[], RegExp][] = [
        [['key', 'create', '--service', serviceId, '--mode', 'prod', '--name', 'x'], /argument 'prod' is invalid\. Allowed choices are test, live/],
        [['key', 'create', '--service', serviceId, '--mode', 'test'], /required option '--name <name>' not specified/],
        [['key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'x', '--expires-in', 'three weeks'], /use a number and a unit: 30s, 15m, 24h, 30d/],
        [['key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'x', '--scope', 'payments:everything'], /^Error: unknown scope "payments:everything" \(scopes\)$/m],
        [['key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'x', '--allow-ip', '10.0.0.0/40'], /^Error: "10\.0\.0\.0\/40" is not an IP address or CIDR range \(allowed_ips\)$/m],
        [['key', 'create', '--service', 'svc_doesnotexist00000000000000', '--mode', 'test', '--name', 'x'], /^Error: Not found$/m],
        [['service', 'create'], /required option '--name <name>' not specified/],
        [['servce', 'create'], /unknown command 'servce'/],
      ];
      for (const [args, message] of cases) {
        const result = await runCoffer(args, w.env);
        assert.notEqual(result.code, 0, `${args.join(' ')} should fail`);
        assert.match(result.stderr, message, args.join(' '));
        assert.equal(result.stdout, '', `${args.join(' ')} printed on stdout`);
      }
    });
  });
});

