// A delayed capture the card processor refuses, as GOV.UK Pay answers it (reference notes §5,
// §6.5): the capture request itself is accepted (204, the payment leaves `capturable`), and the
// processor's refusal shows on the payment as error / P0050 "Payment provider returned an
// error", as GOV.UK Pay's CAPTURE_ERROR does. P1001 (400) is publicapi's answer to a capture
// its connector calls a bad request, not to a processor's refusal. Only the processor differs
// from the sandbox: a processor that refuses every capture stands in for a real one that does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SandboxProcessor } from '../../src/connectors/sandbox/sandbox.processor.js';
import type { SimpleOutcome } from '../../src/connectors/connector.js';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { assertMatchesSpec } from './contract.js';
import { paid } from './support.js';

class RefusesCaptures extends SandboxProcessor {
  override async capture(): Promise<SimpleOutcome> {
    return { outcome: 'error', reason: 'capture refused by the acquirer' };
  }
}

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
  coffer.ctx.cardProcessor = new RefusesCaptures();
});
after(() => coffer.close());

test('a refused capture answers 204 and the payment ends in error / P0050, finished, with no capture link', async () => {
  const { token } = await coffer.newTenant();
  const id = await paid(coffer, token, { delayed_capture: true });

  const captured = await coffer.request('POST', `/v1/payments/${id}/capture`, { key: token });
  assert.equal(captured.status, 204, captured.text);
  assert.equal(captured.text, '');

  const payment = await coffer.request('GET', `/v1/payments/${id}`, { key: token });
  assert.equal(payment.status, 200, payment.text);
  assertMatchesSpec('PaymentWithAllLinks', payment.body);
  assert.deepEqual(payment.body.state, { status: 'error', finished: true, code: 'P0050', message: 'Payment provider returned an error' });
  assert.equal(payment.body._links.capture, undefined);
  assert.equal(payment.body.refund_summary.status, 'unavailable');

  const events = await coffer.request('GET', `/v1/payments/${id}/events`, { key: token });
  const states = events.body.events.map((e: { state: { status: string; code?: string } }) => (e.state.code ? `${e.state.status}:${e.state.code}` : e.state.status));
  assert.deepEqual(states.slice(-2), ['success', 'error:P0050']);

  // Capturing again is refused as for any payment that is not capturable.
  const again = await coffer.request('POST', `/v1/payments/${id}/capture`, { key: token });
  assert.equal(again.status, 409, again.text);
  assert.equal(again.body.code, 'P1003');
});
