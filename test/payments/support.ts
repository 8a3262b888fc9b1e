// Helpers for payments tests: create payments over HTTP, and walk the payer's side through the
// payer-journey service with the sandbox processor's test cards (as the hosted pages will).
import assert from 'node:assert/strict';
import type { TestCoffer, TestResponse } from '../support/harness.js';
import { authorisePayment, confirmPayment, startPayerJourney } from '../../src/payments/payer-journey.service.js';
import type { CardDetails } from '../../src/connectors/connector.js';

export const VISA_OK = '4444333322221111';
export const DECLINED = '4000000000000002';
export const PROCESSING_ERROR = '4000000000000119';
export const THREE_DS = '4000000000003220';
export const UNREACHABLE = '4000000000000408';

export function card(number = VISA_OK, overrides: Partial<CardDetails> = {}): CardDetails {
  return { number, expiryMonth: 12, expiryYear: 2030, cvc: '123', cardholderName: 'Mr Test Payer', ...overrides };
}

export const validPayment = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  amount: 1200,
  reference: 'INV-1',
  description: 'A licence',
  return_url: 'https://service.example.org/return',
  ...overrides,
});

export async function createPayment(coffer: TestCoffer, key: string, overrides: Record<string, unknown> = {}): Promise<TestResponse> {
  const response = await coffer.request('POST', '/v1/payments', { key, body: validPayment(overrides) });
  assert.equal(response.status, 201, response.text);
  return response;
}

/** created → authorisation_success (submitted) with a card the sandbox authorises. */
export async function authorised(coffer: TestCoffer, key: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const id = (await createPayment(coffer, key, overrides)).body.payment_id as string;
  assert.equal((await startPayerJourney(coffer.ctx, id)).outcome, 'started');
  const result = await authorisePayment(coffer.ctx, id, { card: card() });
  assert.equal(result.outcome, 'authorised');
  return id;
}

/** A payment the payer has paid: captured (success), or capturable when delayed_capture. */
export async function paid(coffer: TestCoffer, key: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const id = await authorised(coffer, key, overrides);
  const confirmed = await confirmPayment(coffer.ctx, id);
  assert.equal(confirmed.outcome, overrides.delayed_capture === true ? 'capturable' : 'success');
  return id;
}

export async function statusOf(coffer: TestCoffer, key: string, id: string): Promise<string> {
  const response = await coffer.request('GET', `/v1/payments/${id}`, { key });
  assert.equal(response.status, 200, response.text);
  return response.body.state.status as string;
}

export function assertError(response: TestResponse, status: number, code: string, extra: { field?: string; header?: string; description?: string } = {}): void {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body.code, code, response.text);
  if (extra.field !== undefined) assert.equal(response.body.field, extra.field, response.text);
  if (extra.header !== undefined) assert.equal(response.body.header, extra.header, response.text);
  if (extra.description !== undefined) assert.equal(response.body.description, extra.description);
  assert.equal(typeof response.body.request_id, 'string');
}
