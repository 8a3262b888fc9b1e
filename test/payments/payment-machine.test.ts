// Walks every (state, event) pair: the table says which are allowed, and the database agrees:
// an allowed edge changes the row and records its domain event in the same transaction; a
// refused one, or a stale `from`, changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import {
  EDGES,
  PAYMENT_EVENTS,
  PAYMENT_STATES,
  externalState,
  isTerminal,
  payerCanAct,
  transition,
  type PaymentState,
} from '../../src/payments/payment.machine.js';
import { applyTransition } from '../../src/payments/payment.transitions.js';
import { findPaymentById } from '../../src/payments/payment.repo.js';
import { createPayment } from './support.js';

const WEBHOOK_EVENT_TYPES = new Set([
  'payment_created',
  'payment_started',
  'authorisation_succeeded',
  'authorisation_rejected',
  'authorisation_error',
  'payment_capturable',
  'payment_succeeded',
  'payment_captured',
  'payment_cancelled',
  'payment_cancelled_by_user',
  'payment_expired',
  // GOV.UK Pay sends no webhook for a capture error (EventMapper maps none); the event is still recorded.
  'capture_failed',
]);

describe('payment state machine (table)', () => {
  test('every edge joins known states and each (state, event) pair has at most one edge', () => {
    const seen = new Set<string>();
    for (const edge of EDGES) {
      assert.ok(PAYMENT_STATES.includes(edge.from) && PAYMENT_STATES.includes(edge.to), JSON.stringify(edge));
      const key = `${edge.from}|${edge.event}`;
      assert.ok(!seen.has(key), `duplicate edge ${key}`);
      seen.add(key);
    }
  });

  test('every state is reachable from created, and every unfinished state has a way out', () => {
    const reached = new Set<PaymentState>(['created']);
    let grew = true;
    while (grew) {
      grew = false;
      for (const edge of EDGES) {
        if (reached.has(edge.from) && !reached.has(edge.to)) {
          reached.add(edge.to);
          grew = true;
        }
      }
    }
    assert.deepEqual([...reached].sort(), [...PAYMENT_STATES].sort());
    for (const state of PAYMENT_STATES) if (!externalState(state).finished) assert.ok(!isTerminal(state), state);
  });

  test('external statuses and codes follow GOV.UK Pay (§4.2, §5)', () => {
    const expect: Record<PaymentState, [string, boolean, string?]> = {
      created: ['created', false],
      entering_card_details: ['started', false],
      authorisation_ready: ['started', false],
      authorisation_3ds_required: ['started', false],
      authorisation_3ds_ready: ['started', false],
      authorisation_success: ['submitted', false],
      awaiting_capture_request: ['capturable', false],
      capture_submitted: ['success', true],
      captured: ['success', true],
      capture_error: ['error', true, 'P0050'],
      authorisation_rejected: ['failed', true, 'P0010'],
      authorisation_error: ['error', true, 'P0050'],
      expire_cancel_ready: ['failed', true, 'P0020'],
      expired: ['failed', true, 'P0020'],
      user_cancel_ready: ['failed', true, 'P0030'],
      user_cancelled: ['failed', true, 'P0030'],
      system_cancel_ready: ['cancelled', true, 'P0040'],
      system_cancelled: ['cancelled', true, 'P0040'],
    };
    for (const state of PAYMENT_STATES) {
      const [status, finished, code] = expect[state];
      const external = externalState(state);
      assert.equal(external.status, status, state);
      assert.equal(external.finished, finished, state);
      assert.equal(external.code, code, state);
    }
    assert.equal(externalState('expired').message, 'Payment expired');
    assert.equal(externalState('authorisation_rejected').message, 'Payment method rejected');
    assert.equal(externalState('user_cancelled').message, 'Payment was cancelled by the user');
    assert.equal(externalState('system_cancelled').message, 'Payment was cancelled by the service');
    assert.equal(externalState('authorisation_error').message, 'Payment provider returned an error');
    assert.equal(payerCanAct('awaiting_capture_request'), false);
    assert.equal(payerCanAct('entering_card_details'), true);
  });

  test('every edge that changes the external state emits an event the webhooks understand', () => {
    for (const edge of EDGES) {
      const changes = externalState(edge.from).status !== externalState(edge.to).status || externalState(edge.from).code !== externalState(edge.to).code;
      if (changes) assert.ok(WEBHOOK_EVENT_TYPES.has(edge.emits), `${edge.from} -${edge.event}-> ${edge.to} emits ${edge.emits}`);
    }
  });
});

describe('payment state machine (in the database)', () => {
  let coffer: TestCoffer;
  before(async () => {
    coffer = await startCoffer();
  });
  after(() => coffer.close());

  test('every (state, event) pair: allowed edges move the row and record the event; refused ones change nothing', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id as string;
    const at = coffer.clock.now();
    let allowed = 0;
    for (const from of PAYMENT_STATES) {
      for (const event of PAYMENT_EVENTS) {
        await coffer.ctx.db.updateTable('payments').set({ status: from }).where('id', '=', id).execute();
        const before = await findPaymentById(coffer.ctx.db, id);
        assert.ok(before);
        const eventsBefore = await coffer.ctx.db.selectFrom('domain_events').select('id').where('resource_id', '=', id).execute();
        const result = await coffer.ctx.db.transaction().execute((trx) => applyTransition(trx, before, event, at));
        const after = await findPaymentById(coffer.ctx.db, id);
        const eventsAfter = await coffer.ctx.db.selectFrom('domain_events').selectAll().where('resource_id', '=', id).orderBy('seq').execute();
        const edge = transition(from, event);
        if (edge) {
          allowed++;
          assert.deepEqual(result, { ok: true, to: edge.to }, `${from} ${event}`);
          assert.equal(after?.status, edge.to);
          assert.equal(after?.version, (before.version ?? 0) + 1);
          assert.equal(eventsAfter.length, eventsBefore.length + 1);
          const last = eventsAfter.at(-1);
          assert.equal(last?.event_type, edge.emits);
          assert.equal(last?.resource_type, 'payment');
          assert.deepEqual((last?.data as { state: unknown }).state, externalState(edge.to));
        } else {
          assert.deepEqual(result, { ok: false, reason: 'refused' }, `${from} ${event}`);
          assert.equal(after?.status, from);
          assert.equal(eventsAfter.length, eventsBefore.length);
        }
      }
    }
    assert.equal(allowed, EDGES.length);
  });

  test('a transition from a state the row has already left is a conflict and changes nothing', async () => {
    const { token } = await coffer.newTenant();
    const id = (await createPayment(coffer, token)).body.payment_id as string;
    const payment = await findPaymentById(coffer.ctx.db, id);
    assert.ok(payment);
    const first = await coffer.ctx.db.transaction().execute((trx) => applyTransition(trx, payment, 'start', coffer.clock.now()));
    assert.equal(first.ok, true);
    // The caller still holds the stale `created` row: cancel from created must not apply.
    const stale = await coffer.ctx.db.transaction().execute((trx) => applyTransition(trx, payment, 'cancel_by_service', coffer.clock.now()));
    assert.deepEqual(stale, { ok: false, reason: 'conflict' });
    assert.equal((await findPaymentById(coffer.ctx.db, id))?.status, 'entering_card_details');
  });
});
