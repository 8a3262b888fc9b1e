// The page layer's own rules, without a server: the browser brand script agrees with the server's
// detection, the renderer escapes and refuses uninventoried scripts, every message exists in
// Welsh, and the guard table sends every payment state to exactly one page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { detectBrand } from '../../src/connectors/card-brand.js';
import { paymentPageRenderer } from '../../src/hosted/hosted.pages.js';
import { PAYMENT_PAGE_SCRIPTS } from '../../src/hosted/script-inventory.js';
import { ACTION_ACCEPTS, accepts, pageFor, outcomeFor } from '../../src/hosted/journey.guard.js';
import { PAYMENT_STATES } from '../../src/payments/payment.machine.js';
import { en } from '../../src/hosted/locales/en.js';
import { cy } from '../../src/hosted/locales/cy.js';
import { webCatalogues } from '../../src/web/locales.js';
import { mergeCatalogues, translator } from '../../src/web/i18n.js';
import { pageCsp } from '../../src/web/csp.js';
import { validateCardForm } from '../../src/hosted/card-form.js';
import { DEFAULT_PAGE_SETTINGS } from '../../src/hosted/hosted.settings.js';

test('the browser brand script and the server detect the same brand for every prefix', () => {
  const source = readFileSync(new URL('../../src/hosted/assets/card-brand.js', import.meta.url), 'utf8');
  const sandbox = { module: { exports: {} as { detectBrand?: (digits: string) => string | null } } };
  runInNewContext(source, sandbox);
  const browserDetect = sandbox.module.exports.detectBrand!;
  const prefixes = new Set<string>();
  for (let n = 0; n < 10_000; n++) prefixes.add(String(n).padStart(4, '0'));
  for (const p of ['493698', '504174', '504175', '504176', '506698', '506699', '506779', '508999', '509000', '6759649826438453']) prefixes.add(p);
  for (let len = 1; len <= 3; len++) for (let n = 0; n < 10 ** len; n++) prefixes.add(String(n).padStart(len, '0'));
  for (const p of prefixes) assert.equal(browserDetect(p) ?? undefined, detectBrand(p), p);
});

test('the page renderer escapes every value and refuses a script that is not in the inventory', () => {
  const renderer = paymentPageRenderer();
  const { html } = renderer.render({
    view: 'link.njk',
    lang: 'en',
    data: { kind: 'used', serviceName: '<script>alert(1)</script>', testMode: false, errorList: [] },
  });
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!html.includes('<script>alert'));
  assert.throws(() => renderer.render({ view: 'link.njk', lang: 'en', scripts: ['hosted/card-brand.js'], data: { kind: 'used', serviceName: null, testMode: false, errorList: [] } }), /not in the inventory/);
  assert.throws(() => renderer.render({ view: 'card_details.njk', lang: 'en', scripts: ['web/page.css'], data: {} }), /not in the inventory/);
});

test('the script inventory justifies each script, and each is served with an SRI hash', () => {
  const renderer = paymentPageRenderer();
  assert.ok(PAYMENT_PAGE_SCRIPTS.length >= 1);
  for (const entry of PAYMENT_PAGE_SCRIPTS) {
    assert.ok(entry.justification.length > 40, entry.asset);
    assert.match(renderer.assets.get(entry.asset).integrity, /^sha384-[A-Za-z0-9+/]{64}$/);
  }
});

test('every message has Welsh, and the Welsh is not the English copied', () => {
  const merged = mergeCatalogues(webCatalogues, { en, cy });
  const keys = Object.keys(merged.en);
  assert.deepEqual(Object.keys(merged.cy).sort(), [...keys].sort());
  const same = keys.filter((k) => merged.en[k] === merged.cy[k]);
  assert.deepEqual(same, []);
  assert.throws(() => translator(merged, 'cy')('no.such.key'), /no message/);
  assert.throws(() => mergeCatalogues({ en: { a: 'x' }, cy: {} }), /no Welsh/);
});

test('the page CSP allows nothing inline and no third party', () => {
  const csp = pageCsp({ formActionOrigins: ['https://service.example'] });
  assert.equal(
    csp,
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self' https://service.example; frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
  );
});

test('the guard: every payment state has exactly one page, and each action accepts only states of its page', () => {
  for (const state of PAYMENT_STATES) {
    const page = pageFor(state);
    const shows = (['show_card', 'show_3ds', 'show_confirm', 'show_waiting', 'show_outcome'] as const).filter((a) => accepts(a, state));
    assert.equal(shows.length, 1, `${state} → ${page} (${shows.join()})`);
    if (page === 'outcome') assert.ok(outcomeFor(state).title, state);
  }
  assert.deepEqual(ACTION_ACCEPTS.submit_card, ACTION_ACCEPTS.show_card);
  assert.deepEqual(ACTION_ACCEPTS.submit_3ds, ACTION_ACCEPTS.show_3ds);
  assert.deepEqual(ACTION_ACCEPTS.submit_confirm, ACTION_ACCEPTS.show_confirm);
  // In-flight states accept no action that would call the processor again.
  for (const state of ['authorisation_ready', 'authorisation_3ds_ready'] as const) {
    for (const action of ['submit_card', 'submit_3ds', 'submit_confirm', 'cancel'] as const) assert.ok(!accepts(action, state), `${action} in ${state}`);
  }
  // Finished payments accept nothing but the outcome page.
  for (const state of ['captured', 'authorisation_rejected', 'expired', 'user_cancelled', 'system_cancelled'] as const) {
    assert.deepEqual(Object.entries(ACTION_ACCEPTS).filter(([, states]) => states.includes(state)).map(([a]) => a), ['show_outcome']);
  }
});

test('card form: a valid form parses into what the processor needs, and nothing else', () => {
  const result = validateCardForm({
    raw: { cardNo: '4444 3333 2222 1111', expiryMonth: '1', expiryYear: '2027', cardholderName: ' Ms A ', cvc: '123', addressLine1: '1 St', addressCity: 'X', addressPostcode: 'sw1a 1aa', addressCountry: 'gb', email: 'a@b.co' },
    settings: DEFAULT_PAGE_SETTINGS,
    now: new Date('2026-11-25T12:00:00Z'),
    mode: 'test',
    processorAccepts: () => true,
  });
  assert.deepEqual(result, {
    ok: true,
    values: {
      cardNumber: '4444333322221111',
      brand: 'visa',
      expiryMonth: 1,
      expiryYear: 2027,
      cvc: '123',
      cardholderName: 'Ms A',
      address: { line1: '1 St', city: 'X', postcode: 'SW1A 1AA', country: 'GB' },
      email: 'a@b.co',
    },
  });
  // This month is still valid; last month is not.
  const expiry = (month: string, year: string) =>
    validateCardForm({ raw: { cardNo: '4444333322221111', expiryMonth: month, expiryYear: year, cardholderName: 'A', cvc: '123' }, settings: { ...DEFAULT_PAGE_SETTINGS, collectBillingAddress: false, emailCollection: 'off' }, now: new Date('2026-11-25T12:00:00Z'), mode: 'test', processorAccepts: () => true }).ok;
  assert.equal(expiry('11', '26'), true);
  assert.equal(expiry('10', '26'), false);
});
