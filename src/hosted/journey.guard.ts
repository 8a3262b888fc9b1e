// Which payment states each page action accepts, after pay-frontend's state enforcer. A request
// for an action its payment's state does not accept (back button, double submit, a second tab,
// a payment that expired while the page was open) is sent to the page for the state the payment
// is really in. Only the POST actions reach the payment service, and the service moves state by
// compare-and-set, so even two submits that both pass this guard authorise at most once.
import type { PaymentState } from '../payments/payment.machine.js';
import type { HostedMessageKey } from './locales/en.js';

export type PageAction = 'show_card' | 'submit_card' | 'show_3ds' | 'submit_3ds' | 'show_confirm' | 'submit_confirm' | 'cancel' | 'show_waiting' | 'show_outcome';

export type Page = 'card' | 'three_ds' | 'confirm' | 'waiting' | 'outcome';

const CARD_ENTRY: readonly PaymentState[] = ['created', 'entering_card_details'];
const IN_FLIGHT: readonly PaymentState[] = ['authorisation_ready', 'authorisation_3ds_ready'];

export const ACTION_ACCEPTS: Record<PageAction, readonly PaymentState[]> = {
  show_card: CARD_ENTRY,
  submit_card: CARD_ENTRY,
  show_3ds: ['authorisation_3ds_required'],
  submit_3ds: ['authorisation_3ds_required'],
  show_confirm: ['authorisation_success'],
  submit_confirm: ['authorisation_success'],
  cancel: [...CARD_ENTRY, 'authorisation_3ds_required', 'authorisation_success'],
  show_waiting: IN_FLIGHT,
  show_outcome: [
    'authorisation_rejected',
    'authorisation_error',
    'capture_error',
    'expire_cancel_ready',
    'expired',
    'user_cancel_ready',
    'user_cancelled',
    'system_cancel_ready',
    'system_cancelled',
    'awaiting_capture_request',
    'capture_submitted',
    'captured',
  ],
};

export function accepts(action: PageAction, state: PaymentState): boolean {
  return ACTION_ACCEPTS[action].includes(state);
}

/** The page a payer in this state belongs on. */
export function pageFor(state: PaymentState): Page {
  if (accepts('show_card', state)) return 'card';
  if (accepts('show_3ds', state)) return 'three_ds';
  if (accepts('show_confirm', state)) return 'confirm';
  if (accepts('show_waiting', state)) return 'waiting';
  return 'outcome';
}

export interface Outcome {
  title: HostedMessageKey;
  body: HostedMessageKey;
  link: HostedMessageKey;
}

const OUTCOMES = {
  declined: { title: 'declined.title', body: 'declined.body', link: 'outcome.tryAgain' },
  failed: { title: 'failed.title', body: 'failed.body', link: 'outcome.tryAgain' },
  expired: { title: 'expired.title', body: 'expired.body', link: 'outcome.back' },
  cancelled: { title: 'cancelled.title', body: 'cancelled.body', link: 'outcome.back' },
  cancelledByService: { title: 'cancelledByService.title', body: 'cancelledByService.body', link: 'outcome.back' },
  paid: { title: 'paid.title', body: 'paid.body', link: 'outcome.back' },
  capturable: { title: 'paid.title', body: 'capturable.body', link: 'outcome.back' },
} as const satisfies Record<string, Outcome>;

/** What the outcome page says for a finished payment (or one the payer has finished with). */
export function outcomeFor(state: PaymentState): Outcome {
  switch (state) {
    case 'authorisation_rejected':
      return OUTCOMES.declined;
    case 'authorisation_error':
    case 'capture_error':
      return OUTCOMES.failed;
    case 'expire_cancel_ready':
    case 'expired':
      return OUTCOMES.expired;
    case 'user_cancel_ready':
    case 'user_cancelled':
      return OUTCOMES.cancelled;
    case 'system_cancel_ready':
    case 'system_cancelled':
      return OUTCOMES.cancelledByService;
    case 'awaiting_capture_request':
      return OUTCOMES.capturable;
    default:
      return OUTCOMES.paid;
  }
}
