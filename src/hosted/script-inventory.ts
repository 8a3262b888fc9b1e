// The inventory of every script that runs on the payment pages (PCI DSS 6.4.3): what it is,
// why the page needs it, and where it runs. The renderer refuses to put any other script on a
// page, each is served by Coffer itself with its SRI hash, and the CSP allows no other source.
// Adding a script means adding it here, with its justification, in a reviewed change.
import type { ScriptInventoryEntry } from '../web/views.js';

export const PAYMENT_PAGE_SCRIPTS: readonly ScriptInventoryEntry[] = [
  {
    asset: 'hosted/card-brand.js',
    justification:
      'Names the card brand while the payer types the card number and warns at once when the account does not accept it. ' +
      'Reads the number field and writes plain text into one hint; sends nothing, stores nothing. Optional: the server validates everything again.',
    pages: ['card_details.njk'],
    optional: true,
  },
];
