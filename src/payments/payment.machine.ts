// The payment state machine, after pay-connector's PaymentGatewayStateTransitions: a table of
// edges {from, event, to}, each naming the domain event it records. In-flight states
// (authorisation_ready, authorisation_3ds_ready, capture_submitted, *_cancel_ready) make a
// processor call in progress visible, so a crash mid-call leaves a row the sweeper can find.
// Internal states map onto GOV.UK Pay's external statuses and P-codes (§4.2, §5).

export const PAYMENT_STATES = [
  'created',
  'entering_card_details',
  'authorisation_ready',
  'authorisation_3ds_required',
  'authorisation_3ds_ready',
  'authorisation_success',
  'awaiting_capture_request',
  'capture_submitted',
  'captured',
  'capture_error',
  'authorisation_rejected',
  'authorisation_error',
  'expire_cancel_ready',
  'expired',
  'user_cancel_ready',
  'user_cancelled',
  'system_cancel_ready',
  'system_cancelled',
] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export const PAYMENT_EVENTS = [
  'start',
  'submit_card',
  'authorised',
  'three_ds_required',
  'submit_three_ds',
  'rejected',
  'authorisation_failed',
  'confirm',
  'confirm_delayed',
  'capture',
  'capture_confirmed',
  'capture_failed',
  'cancel_by_service',
  'cancel_by_service_at_processor',
  'cancel_by_user',
  'cancel_by_user_at_processor',
  'expire',
  'expire_at_processor',
  'processor_cancel_done',
] as const;
export type PaymentEvent = (typeof PAYMENT_EVENTS)[number];

export type ExternalStatus = 'created' | 'started' | 'submitted' | 'capturable' | 'success' | 'failed' | 'cancelled' | 'error';

export interface ExternalState {
  status: ExternalStatus;
  finished: boolean;
  code?: 'P0010' | 'P0020' | 'P0030' | 'P0040' | 'P0050';
  message?: string;
}

export interface Edge {
  from: PaymentState;
  event: PaymentEvent;
  to: PaymentState;
  /** The domain event recorded with the change (the webhooks domain maps these). */
  emits: string;
}

// Which states a service cancel, a payer cancel or expiry may leave from, and whether the
// processor holds an authorisation there that must be voided (those go through *_cancel_ready).
const CANCELLABLE_WITHOUT_PROCESSOR: PaymentState[] = ['created', 'entering_card_details'];
const CANCELLABLE_AT_PROCESSOR: PaymentState[] = ['authorisation_3ds_required', 'authorisation_success', 'awaiting_capture_request'];

function cancelEdges(
  event: PaymentEvent,
  atProcessorEvent: PaymentEvent,
  ready: PaymentState,
  done: PaymentState,
  emits: string,
  from: { direct: PaymentState[]; atProcessor: PaymentState[] },
): Edge[] {
  return [
    ...from.direct.map((state) => ({ from: state, event, to: done, emits })),
    ...from.atProcessor.map((state) => ({ from: state, event: atProcessorEvent, to: ready, emits })),
    { from: ready, event: 'processor_cancel_done', to: done, emits: 'processor_cancel_confirmed' },
  ];
}

export const EDGES: readonly Edge[] = [
  { from: 'created', event: 'start', to: 'entering_card_details', emits: 'payment_started' },
  { from: 'entering_card_details', event: 'submit_card', to: 'authorisation_ready', emits: 'authorisation_submitted' },
  { from: 'authorisation_ready', event: 'authorised', to: 'authorisation_success', emits: 'authorisation_succeeded' },
  { from: 'authorisation_ready', event: 'three_ds_required', to: 'authorisation_3ds_required', emits: 'authorisation_3ds_required' },
  { from: 'authorisation_ready', event: 'rejected', to: 'authorisation_rejected', emits: 'authorisation_rejected' },
  { from: 'authorisation_ready', event: 'authorisation_failed', to: 'authorisation_error', emits: 'authorisation_error' },
  { from: 'authorisation_3ds_required', event: 'submit_three_ds', to: 'authorisation_3ds_ready', emits: 'authorisation_3ds_submitted' },
  { from: 'authorisation_3ds_ready', event: 'authorised', to: 'authorisation_success', emits: 'authorisation_succeeded' },
  { from: 'authorisation_3ds_ready', event: 'rejected', to: 'authorisation_rejected', emits: 'authorisation_rejected' },
  { from: 'authorisation_3ds_ready', event: 'authorisation_failed', to: 'authorisation_error', emits: 'authorisation_error' },
  // The payer confirms: straight to capture, or held for the service when delayed_capture.
  { from: 'authorisation_success', event: 'confirm', to: 'capture_submitted', emits: 'payment_succeeded' },
  { from: 'authorisation_success', event: 'confirm_delayed', to: 'awaiting_capture_request', emits: 'payment_capturable' },
  { from: 'awaiting_capture_request', event: 'capture', to: 'capture_submitted', emits: 'payment_succeeded' },
  { from: 'capture_submitted', event: 'capture_confirmed', to: 'captured', emits: 'payment_captured' },
  { from: 'capture_submitted', event: 'capture_failed', to: 'capture_error', emits: 'capture_failed' },
  ...cancelEdges('cancel_by_service', 'cancel_by_service_at_processor', 'system_cancel_ready', 'system_cancelled', 'payment_cancelled', {
    direct: CANCELLABLE_WITHOUT_PROCESSOR,
    atProcessor: CANCELLABLE_AT_PROCESSOR,
  }),
  ...cancelEdges('cancel_by_user', 'cancel_by_user_at_processor', 'user_cancel_ready', 'user_cancelled', 'payment_cancelled_by_user', {
    direct: CANCELLABLE_WITHOUT_PROCESSOR,
    atProcessor: ['authorisation_3ds_required', 'authorisation_success'],
  }),
  ...cancelEdges('expire', 'expire_at_processor', 'expire_cancel_ready', 'expired', 'payment_expired', {
    direct: CANCELLABLE_WITHOUT_PROCESSOR,
    atProcessor: CANCELLABLE_AT_PROCESSOR,
  }),
];

const edgeIndex = new Map<string, Edge>(EDGES.map((e) => [`${e.from}|${e.event}`, e]));

/** The edge for an event in a state, or undefined when the machine refuses it. */
export function transition(from: PaymentState, event: PaymentEvent): Edge | undefined {
  return edgeIndex.get(`${from}|${event}`);
}

export function isPaymentState(value: string): value is PaymentState {
  return (PAYMENT_STATES as readonly string[]).includes(value);
}

const FAILED = (code: ExternalState['code'], message: string, status: ExternalStatus = 'failed'): ExternalState => ({
  status,
  finished: true,
  code,
  message,
});

const EXTERNAL: Record<PaymentState, ExternalState> = {
  created: { status: 'created', finished: false },
  entering_card_details: { status: 'started', finished: false },
  authorisation_ready: { status: 'started', finished: false },
  authorisation_3ds_required: { status: 'started', finished: false },
  authorisation_3ds_ready: { status: 'started', finished: false },
  authorisation_success: { status: 'submitted', finished: false },
  awaiting_capture_request: { status: 'capturable', finished: false },
  capture_submitted: { status: 'success', finished: true },
  captured: { status: 'success', finished: true },
  capture_error: FAILED('P0050', 'Payment provider returned an error', 'error'),
  authorisation_rejected: FAILED('P0010', 'Payment method rejected'),
  authorisation_error: FAILED('P0050', 'Payment provider returned an error', 'error'),
  expire_cancel_ready: FAILED('P0020', 'Payment expired'),
  expired: FAILED('P0020', 'Payment expired'),
  user_cancel_ready: FAILED('P0030', 'Payment was cancelled by the user'),
  user_cancelled: FAILED('P0030', 'Payment was cancelled by the user'),
  system_cancel_ready: FAILED('P0040', 'Payment was cancelled by the service', 'cancelled'),
  system_cancelled: FAILED('P0040', 'Payment was cancelled by the service', 'cancelled'),
};

export function externalState(state: PaymentState): ExternalState {
  return EXTERNAL[state];
}

/** States with no way out. */
export function isTerminal(state: PaymentState): boolean {
  return !EDGES.some((e) => e.from === state);
}

/** The payer can still act (next_url is offered): unfinished and not waiting for the service. */
export function payerCanAct(state: PaymentState): boolean {
  return !externalState(state).finished && state !== 'awaiting_capture_request';
}

/** Refund availability as GOV.UK Pay reports it in refund_summary.status (before amounts). */
export function refundability(state: PaymentState): 'pending' | 'captured' | 'unavailable' {
  if (state === 'captured') return 'captured';
  if (externalState(state).finished && state !== 'capture_submitted') return 'unavailable';
  return 'pending';
}

/** States the expiry worker looks at, with the age after which each expires. */
export const EXPIRY_AFTER_MS: Partial<Record<PaymentState, number>> = {
  created: 90 * 60_000,
  entering_card_details: 90 * 60_000,
  authorisation_3ds_required: 90 * 60_000,
  authorisation_success: 90 * 60_000,
  awaiting_capture_request: 120 * 3_600_000,
};

/** In-flight states the reconciling sweeper resolves once they have been stuck a while. */
export const IN_FLIGHT: readonly PaymentState[] = [
  'authorisation_ready',
  'authorisation_3ds_ready',
  'capture_submitted',
  'system_cancel_ready',
  'user_cancel_ready',
  'expire_cancel_ready',
];
