// Console pages for service settings: the service's name (one for both accounts), the payment
// page of this account (email and billing address collection, accepted card brands: each account
// has its own, so test can differ from live), and the switch that enables the live account
// (administrators only, after a fresh second factor). Enabling live is refused on the embedded
// store or without an operator-supplied master key; the page says why before anyone tries.
// Registered by service-pages.ts; each page goes through servicePage() in console.shell.ts,
// which does the session, service, allow-list, role and step-up checks before the handler runs.
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { CofferError } from '../../platform/errors.js';
import { BRAND_LABELS, CARD_BRANDS } from '../../connectors/card-brand.js';
import { getPageSettings, updatePageSettings } from '../../hosted/hosted.settings.js';
import type { EmailCollection } from '../../hosted/hosted.tables.js';
import { findAccountByServiceAndMode } from '../../services/service.repo.js';
import { enableLiveAccount, liveAccountRefusal, renameService } from '../../services/service.service.js';
import type { ConsoleKit, FieldErrors } from './console.kit.js';
import { servicePage, type ServicePage } from './console.shell.js';

const EMAIL_CHOICES: { value: EmailCollection; label: string; hint: string }[] = [
  { value: 'mandatory', label: 'Ask for it, and require it', hint: 'The payer must give an email address' },
  { value: 'optional', label: 'Ask for it, but let the payer leave it out', hint: 'The field is marked optional' },
  { value: 'off', label: 'Do not ask for it', hint: 'No email field on the card page' },
];

interface PageValues {
  email: string;
  address: string;
  brands: readonly string[];
}

const text = z.string().max(2000).optional();
const nameBody = z.object({ name: text });
const paymentPageBody = z.object({
  email_collection: text,
  billing_address: text,
  brands: z.union([z.string().max(100), z.array(z.string().max(100)).max(50)]).optional(),
});

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const isEmailCollection = (value: string): value is EmailCollection => EMAIL_CHOICES.some((c) => c.value === value);

export function registerSettingsPages(app: HttpApp, kit: ConsoleKit): void {
  const { ctx } = kit;

  async function liveState(page: ServicePage) {
    const live = await findAccountByServiceAndMode(ctx.db, page.service.id, 'live');
    return { enabled: live !== undefined, refusal: live ? undefined : liveAccountRefusal(ctx), href: `/console/services/${encodeURIComponent(page.service.id)}/live` };
  }

  async function settingsPage(
    page: ServicePage,
    options: { name?: string; values?: PageValues; errors?: FieldErrors; status?: number; saved?: string | undefined } = {},
  ) {
    const current = await getPageSettings(ctx, page.accountId);
    const values: PageValues = options.values ?? {
      email: current.emailCollection,
      address: current.collectBillingAddress ? 'on' : 'off',
      brands: current.acceptedBrands,
    };
    return page.render(
      'settings.njk',
      {
        pageTitle: 'Settings',
        canManage: page.can('settings:manage'),
        canManageLive: page.can('live:manage'),
        name: options.name ?? page.service.name,
        emailChoices: EMAIL_CHOICES.map((c) => ({ ...c, checked: c.value === values.email })),
        addressOn: values.address === 'on',
        addressOff: values.address === 'off',
        brands: CARD_BRANDS.map((b) => ({ value: b, label: BRAND_LABELS[b], checked: values.brands.includes(b) })),
        current: {
          email: EMAIL_CHOICES.find((c) => c.value === current.emailCollection)?.label,
          address: current.collectBillingAddress,
          brands: current.acceptedBrands.map((b) => BRAND_LABELS[b]).join(', '),
        },
        live: await liveState(page),
        saved: options.saved,
        errors: options.errors ?? {},
      },
      { status: options.status ?? 200 },
    );
  }

  servicePage(app, kit, { method: 'GET', path: '/settings', permission: 'settings:view', query: z.object({ saved: z.enum(['name', 'payment-page', 'live']).optional() }) }, async ({ page, query }) =>
    settingsPage(page, { saved: query.saved }),
  );

  servicePage(app, kit, { method: 'POST', path: '/settings/name', permission: 'settings:manage', body: nameBody }, async ({ page, body, reply }) => {
    const name = (body.name ?? '').trim();
    if (name.length === 0) return settingsPage(page, { name, errors: { name: 'Enter the service’s name' }, status: 422 });
    if (name.length > 200) return settingsPage(page, { name, errors: { name: 'The name must be 200 characters or fewer' }, status: 422 });
    await renameService(ctx, page.service.id, { name });
    return reply.redirect(`${page.base}/settings?saved=name`, 303);
  });

  servicePage(app, kit, { method: 'POST', path: '/settings/payment-page', permission: 'settings:manage', body: paymentPageBody }, async ({ page, body, reply }) => {
    const values: PageValues = { email: body.email_collection ?? '', address: body.billing_address ?? '', brands: asList(body.brands) };
    const errors: FieldErrors = {};
    if (!isEmailCollection(values.email)) errors.email_collection = 'Choose whether the card page asks for an email address';
    if (values.address !== 'on' && values.address !== 'off') errors.billing_address = 'Choose whether the card page asks for the billing address';
    if (values.brands.length === 0) errors.brands = 'Choose at least one card brand to accept';
    else if (!values.brands.every((b) => (CARD_BRANDS as readonly string[]).includes(b))) errors.brands = 'Choose from the listed card brands';
    if (Object.keys(errors).length > 0 || !isEmailCollection(values.email)) return settingsPage(page, { values, errors, status: 422 });
    await updatePageSettings(ctx, page.accountId, { emailCollection: values.email, collectBillingAddress: values.address === 'on', acceptedBrands: values.brands });
    return reply.redirect(`${page.base}/settings?saved=payment-page`, 303);
  });

  servicePage(app, kit, { method: 'GET', path: '/settings/live', permission: 'live:manage' }, async ({ page }) =>
    page.render('settings-live.njk', { pageTitle: 'Enable the live account', live: await liveState(page) }),
  );

  servicePage(app, kit, { method: 'POST', path: '/settings/live', permission: 'live:manage', stepUpReturn: '/settings/live' }, async ({ page, reply }) => {
    try {
      await enableLiveAccount(ctx, page.service.id);
    } catch (err) {
      if (err instanceof CofferError && err.status === 422) {
        return page.render('settings-live.njk', { pageTitle: 'Enable the live account', live: { ...(await liveState(page)), refusal: err.message } }, { status: 422 });
      }
      // Enabled by someone else meanwhile: the outcome wanted.
      if (!(err instanceof CofferError && err.status === 409)) throw err;
    }
    return reply.redirect(`/console/services/${encodeURIComponent(page.service.id)}/live/settings?saved=live`, 303);
  });
}
